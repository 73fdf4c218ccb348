// A terminal progress bar for training loops: step/total, loss, learning rate, tokens/s and ETA.
// On a TTY it is one line redrawn in place; otherwise (logs, CI, pipes) it prints a plain line
// every `plainEvery` steps or `plainSeconds` seconds. `log()` prints a message above the bar.

/** Where a ProgressBar draws: `process.stdout` or anything with `write` (and, for a TTY, `isTTY` and `columns`). */
export interface ProgressStream {
  /** Writes `s` as it is. */
  write(s: string): boolean;
  /** Whether the stream is a terminal (the bar is then redrawn in place). */
  isTTY?: boolean;
  /** The terminal's width in characters (default 100). */
  columns?: number;
}

/** Options of ProgressBar. */
export interface ProgressOptions {
  /** The step count at 100%. */
  total: number;
  /** Where to draw (default process.stdout). */
  stream?: ProgressStream;
  /** Force TTY or plain mode (default: the stream's isTTY). */
  tty?: boolean;
  /** Plain mode: print every this many steps (default total/20) ... */
  plainEvery?: number;
  /** ... or when this many seconds have passed since the last line (default 30). */
  plainSeconds?: number;
  /** What the throughput counts: 'tokens' (default, shown as tok/s), 'samples', ... */
  itemsName?: string;
}

/** The figures of one `ProgressBar.update`: the step, and any of loss, LR, throughput and named metrics. */
export interface ProgressUpdate {
  /** Steps done, out of `total`. */
  step: number;
  /** The latest training loss. */
  loss?: number;
  /** The current learning rate. */
  lr?: number;
  /** Throughput, shown as items per second (`itemsName`). */
  tokensPerSec?: number;
  /** More named figures to show (e.g. { return: 431.5 }). */
  metrics?: Record<string, number>;
}

/** `mm:ss`, or `h:mm:ss` from an hour on (rounded to the second); `--:--` for a negative or non-finite value. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

const fmtRate = (r: number) => (r >= 1e6 ? `${(r / 1e6).toFixed(2)}M` : r >= 1e3 ? `${(r / 1e3).toFixed(1)}k` : r.toFixed(0));

/** A terminal progress bar: step/total, loss, LR, items/s and ETA, redrawn in place on a TTY, else a plain line every `plainEvery` steps or `plainSeconds` seconds. */
export class ProgressBar {
  /** The step count at 100%. */
  readonly total: number;
  readonly #stream: ProgressStream;
  readonly #tty: boolean;
  readonly #plainEvery: number;
  readonly #plainMs: number;
  readonly #rateUnit: string;
  #start = Date.now();
  #startStep = 0;
  #lastPlain = 0;
  #lastPlainStep = -1;
  #line = '';
  #excludedMs = 0;

  constructor(opts: ProgressOptions) {
    this.total = opts.total;
    this.#stream = opts.stream ?? process.stdout;
    this.#tty = opts.tty ?? this.#stream.isTTY === true;
    this.#plainEvery = opts.plainEvery ?? Math.max(1, Math.floor(opts.total / 20));
    this.#plainMs = (opts.plainSeconds ?? 30) * 1000;
    this.#rateUnit = !opts.itemsName || opts.itemsName === 'tokens' ? 'tok/s' : `${opts.itemsName}/s`;
  }

  /** Restart the clock (e.g. after resuming at `step`) so the ETA counts only this run's steps. */
  start(step = 0): void {
    this.#start = Date.now();
    this.#startStep = step;
    this.#lastPlain = this.#start;
    this.#excludedMs = 0;
  }

  /** Leave `ms` (e.g. an evaluation) out of the step rate behind the ETA; elapsed still counts it. */
  exclude(ms: number): void { this.#excludedMs += ms; }

  /** The status text for a step (without bar or escape codes). */
  status(u: ProgressUpdate): string {
    const elapsed = (Date.now() - this.#start) / 1000;
    const done = u.step - this.#startStep;
    const stepping = elapsed - this.#excludedMs / 1000;
    const eta = done > 0 ? (stepping / done) * (this.total - u.step) : NaN;
    const parts = [`step ${u.step}/${this.total}`];
    if (u.loss !== undefined) parts.push(`loss ${u.loss.toFixed(4)}`);
    if (u.lr !== undefined) parts.push(`lr ${u.lr.toExponential(2)}`);
    for (const [k, v] of Object.entries(u.metrics ?? {})) parts.push(`${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`);
    if (u.tokensPerSec !== undefined) parts.push(`${fmtRate(u.tokensPerSec)} ${this.#rateUnit}`);
    parts.push(`elapsed ${formatDuration(elapsed)}`, `ETA ${formatDuration(eta)}`);
    return parts.join(' | ');
  }

  /** Shows the state at step `u.step` (plain mode prints only when a line is due). */
  update(u: ProgressUpdate): void {
    const text = this.status(u);
    if (this.#tty) {
      const cols = this.#stream.columns ?? 100;
      const width = Math.min(30, cols - text.length - 4);
      const filled = Math.round((Math.min(u.step, this.total) / Math.max(1, this.total)) * Math.max(0, width));
      const bar = width >= 8 ? `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ` : '';
      this.#line = `${bar}${text}`.slice(0, cols - 1);
      this.#stream.write(`\r\x1b[2K${this.#line}`);
      return;
    }
    const now = Date.now();
    const due = u.step === this.total || u.step % this.#plainEvery === 0 || now - this.#lastPlain >= this.#plainMs;
    if (!due || u.step === this.#lastPlainStep) return;
    this.#lastPlain = now;
    this.#lastPlainStep = u.step;
    this.#stream.write(`${text}\n`);
  }

  /** Print a line above the bar (the bar is redrawn after it on a TTY). */
  log(message: string): void {
    if (this.#tty) this.#stream.write(`\r\x1b[2K${message}\n${this.#line}`);
    else this.#stream.write(`${message}\n`);
  }

  /** End the bar's line. */
  done(): void {
    if (this.#tty && this.#line) this.#stream.write('\n');
    this.#line = '';
  }
}
