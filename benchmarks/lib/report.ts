// What a benchmark records, and how it is shown: one terminal table per suite and the JSON row.
//
// A result is an `Entry`: one benchmark (a shape, a model) with a figure per implementation —
// webgrad's (one or more: devices, kernel variants) and each peer's — and at most one headline ratio
// with its goal. A figure is a number, or a string saying why there is none ("n/a (not
// implemented)" while a kernel is missing, "skipped (...)", "error: ...").

export type Cell = number | string;

export interface Goal {
  /** The ratio must be ≥ (or ≤) this value. */
  op: '>=' | '<=';
  value: number;
}

export interface Ratio {
  /** What is divided by what, e.g. "ours/tfjs webgpu". */
  label: string;
  value: number | null;
  goal?: Goal;
  /** The same comparison as "higher is better" (ratio, or its inverse when lower is better). */
  advantage: number | null;
}

export interface Entry {
  suite: string;
  name: string;
  unit: string;
  /** Whether a larger figure is better (GFLOP/s) or worse (ms). */
  better: 'higher' | 'lower';
  ours: Record<string, Cell>;
  peers: Record<string, Cell>;
  ratio?: Ratio;
  notes?: string[];
}

export const NOT_IMPLEMENTED = 'n/a (not implemented)';

/** Kernels reported missing during the run (named in the summary). */
export const missingKernels = new Set<string>();

/** The cell for a benchmark that threw: a missing kernel reads "n/a (not implemented)". */
export function failureCell(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  if (/not implemented|not registered for backend/i.test(msg)) {
    const tfjs = /Kernel '([^']+)' not registered for backend '([^']+)'/.exec(msg);
    const name = tfjs ? `${tfjs[1]} (tfjs ${tfjs[2]})` : /kernel '([^']+)'/i.exec(msg)?.[1];
    if (name) missingKernels.add(name);
    return NOT_IMPLEMENTED;
  }
  const first = msg.split('\n')[0]!.trim();
  return `error: ${first.length > 70 ? `${first.slice(0, 67)}...` : first}`;
}

/** Numbers only: a cell that holds a figure. */
export function num(c: Cell | undefined): number | null {
  return typeof c === 'number' && Number.isFinite(c) ? c : null;
}

/**
 * The headline ratio `ours / peer` for an entry. For "lower is better" units the peer's figure is
 * divided by ours when `asSpeedup` is set (a speed-up: > 1 means webgrad is faster).
 */
export function makeRatio(label: string, ours: Cell | undefined, peer: Cell | undefined, better: 'higher' | 'lower',
  goal?: Goal, asSpeedup = false): Ratio {
  const o = num(ours), p = num(peer);
  let value: number | null = null;
  if (o !== null && p !== null && o > 0 && p > 0) value = better === 'lower' && asSpeedup ? p / o : o / p;
  // advantage > 1 always means "webgrad is better"
  let advantage: number | null = null;
  if (value !== null) advantage = better === 'higher' || asSpeedup ? value : 1 / value;
  const r: Ratio = { label, value, advantage };
  if (goal) r.goal = goal;
  return r;
}

export function goalMet(r: Ratio | undefined): boolean | null {
  if (!r?.goal || r.value === null) return null;
  return r.goal.op === '>=' ? r.value >= r.goal.value : r.value <= r.goal.value;
}

/** A number with ~3 significant digits (no exponent for ordinary magnitudes). */
export function fmtNum(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a === 0) return '0';
  if (a >= 1000) return x.toFixed(0);
  if (a >= 100) return x.toFixed(1);
  if (a >= 10) return x.toFixed(2);
  if (a >= 1) return x.toFixed(2);
  if (a >= 0.01) return x.toFixed(3);
  return x.toPrecision(2);
}

export function fmtCell(c: Cell | undefined, unit: string): string {
  if (c === undefined) return '';
  return typeof c === 'number' ? `${fmtNum(c)} ${unit}` : c;
}

export function fmtRatio(r: Ratio | undefined): string {
  if (!r) return '';
  return r.value === null ? `n/a (${r.label})` : `${fmtNum(r.value)}× ${r.label}`;
}

export function fmtGoal(r: Ratio | undefined): string {
  if (!r?.goal) return '';
  const met = goalMet(r);
  const mark = met === null ? '–' : met ? 'met' : 'MISSED';
  return `${r.goal.op === '>=' ? '≥' : '≤'} ${r.goal.value}× ${mark}`;
}

/** Display width: counts code points (the tables use a few non-ASCII symbols, each one column). */
function width(s: string): number {
  return [...s].length;
}

/** A plain-text table: header, rule, rows; columns left-aligned, except the ones in `right`. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[], right: ReadonlySet<number> = new Set()): string {
  const w = headers.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const pad = (s: string, i: number) => {
    const fill = ' '.repeat(w[i]! - width(s));
    return right.has(i) ? fill + s : s + fill;
  };
  const line = (cells: readonly string[]) => cells.map((c, i) => pad(c ?? '', i)).join(' | ').trimEnd();
  return [line(headers), w.map((n) => '-'.repeat(n)).join('-+-'), ...rows.map(line)].join('\n');
}

/** The rows of one entry: one per implementation; the ratio and goal on the first. */
export function entryRows(e: Entry): string[][] {
  const impls: [string, Cell][] = [...Object.entries(e.ours), ...Object.entries(e.peers)];
  return impls.map(([impl, cell], i) => [
    i === 0 ? e.name : '',
    impl,
    fmtCell(cell, e.unit),
    i === 0 ? fmtRatio(e.ratio) : '',
    i === 0 ? fmtGoal(e.ratio) : '',
  ]);
}

/** The terminal table of one suite. */
export function suiteTable(title: string, entries: readonly Entry[]): string {
  const rows = entries.flatMap(entryRows);
  const body = rows.length ? formatTable(['benchmark', 'implementation', 'figure', 'ratio', 'goal'], rows, new Set([2])) : '(no results)';
  const notes = entries.flatMap((e) => (e.notes ?? []).map((n) => `  note (${e.name}): ${n}`));
  return [`== ${title} ==`, body, ...notes].join('\n');
}
