// The training loop: batches from a DataLoader (or drawn by the loss function), gradient
// accumulation, clipping, the optimizer and LR schedule, evaluation every N steps on each split
// plus any metrics, the best checkpoint and early stopping by one definition of "best", exact
// --resume, a JSONL metrics log, an SVG loss plot, a progress bar, callbacks, and Ctrl-C →
// checkpoint and a clean stop (a second Ctrl-C quits at once).
//
// Memory is handled here, not by the user: each micro-batch's loss function runs inside a scope
// that frees everything it made, and losses are read back asynchronously once per `logInterval`
// steps. Batches stay their source's: a DataLoader frees each batch when the next is asked for
// (and the last when the Trainer closes its iterator); an array of tensors is left as it is.
//
// With `compile`, each step — its micro-batches' forward and backward, clipping and the optimizer
// step — is one call of a `compile`d function (core's compile/): replayed from the fourth step, with
// the loss read back and the scheduler stepped outside it. What compile cannot replay falls back to
// eager with its one-line warning; a gradScaler (host-side scale and overflow check) is refused.
//
// Resuming is exact: the checkpoint holds the weights, optimizer moments, scheduler step, the
// global RNG state (dropout masks, batches drawn by the loss function), the position in the
// training data (epoch and batch), and the state of "best" and its patience, so a resumed run
// takes the same steps an uninterrupted one would.
import { mkdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Tensor, ValueError, checkBool, checkInt, checkOptions, compile, noGrad, tidy, type CompiledFunction } from '@webgrad/core';
import { GradScaler, clipGradNorm, latestCheckpoint, listCheckpoints, loadCheckpoint, saveCheckpoint, type JsonValue } from '@webgrad/optim';
import { BestTracker, type BestState } from './best.js';
import { MetricsLog } from './metrics_log.js';
import type { BatchSource, EvalRecord, StepInfo, TrainResult, TrainerCallbacks, TrainerOptions } from './options.js';
import { ProgressBar } from './progress.js';
import { lossPlot } from './report.js';

const KNOWN = [
  'model', 'optimizer', 'scheduler', 'steps', 'epochs', 'trainData', 'trainLoss', 'gradAccumSteps', 'gradClip', 'gradScaler', 'evalData', 'evalLoss',
  'splits', 'evalIters', 'evalMetrics', 'evalInterval', 'best', 'keep', 'saveInterval', 'state', 'itemsPerStep', 'itemsName', 'outDir', 'resume', 'logInterval',
  'checkpointExtra', 'config', 'handleSigint', 'fsync', 'stream', 'tty', 'callbacks', 'onStep', 'onEval', 'onEnd', 'compile',
];

/** What one micro-batch's step returns: its unscaled loss and its `metrics` figures (detached). */
interface MicroOut { loss: Tensor; metrics: Record<string, Tensor | number> }

interface Extra { evaluatedAt: number; best: BestState; epoch: number; batchInEpoch: number; user?: JsonValue }

/** `batch` with each tensor in it (through arrays and plain objects) replaced by a copy. */
function copyBatch<B>(batch: B): B {
  if (batch instanceof Tensor) return batch.clone() as B;
  if (Array.isArray(batch)) return batch.map(copyBatch) as B;
  if (typeof batch === 'object' && batch !== null && Object.getPrototypeOf(batch) === Object.prototype) {
    return Object.fromEntries(Object.entries(batch).map(([k, v]) => [k, copyBatch(v)])) as B;
  }
  return batch;
}

function disposeBatch(batch: unknown): void {
  if (batch instanceof Tensor) batch.dispose();
  else if (Array.isArray(batch)) for (const b of batch) disposeBatch(b);
  else if (typeof batch === 'object' && batch !== null && Object.getPrototypeOf(batch) === Object.prototype) for (const v of Object.values(batch)) disposeBatch(v);
}

const tick = () => new Promise<void>((r) => setImmediate(r));

function iterate<B>(src: BatchSource<B>): AsyncIterator<B> | Iterator<B> {
  const a = (src as AsyncIterable<B>)[Symbol.asyncIterator];
  return a ? a.call(src) : (src as Iterable<B>)[Symbol.iterator]();
}

/** The training loop (Hugging Face's Trainer, for webgrad): batches, gradient accumulation and clipping, the optimizer and LR schedule, evaluation, best checkpoint and early stopping, exact resume, a JSONL metrics log, an SVG loss plot, a progress bar and callbacks. Each micro-batch's loss runs in a scope that frees what it made. `await new Trainer(options).run()`. */
export class Trainer<B = void> {
  /** The options the Trainer was made with. */
  readonly opts: TrainerOptions<B>;
  /** Optimizer steps of the whole run. */
  readonly steps: number;
  #stopRequested = false;
  readonly #best: BestTracker;
  #epoch = 0;
  #batchInEpoch = 0;
  #iter: AsyncIterator<B> | Iterator<B> | null = null;

  constructor(opts: TrainerOptions<B>) {
    checkOptions('Trainer', opts, KNOWN);
    for (const k of ['model', 'optimizer', 'trainLoss', 'outDir'] as const) if (opts[k] === undefined) throw new ValueError(`Trainer: '${k}' is required`);
    if (typeof opts.trainLoss !== 'function') throw new ValueError('Trainer: trainLoss must be a function (batch) => loss tensor');
    const accum = opts.gradAccumSteps === undefined ? 1 : checkInt('Trainer', 'gradAccumSteps', opts.gradAccumSteps, { min: 1 });
    if (opts.steps !== undefined && opts.epochs !== undefined) throw new ValueError('Trainer: give steps or epochs, not both');
    if (opts.steps !== undefined) this.steps = checkInt('Trainer', 'steps', opts.steps, { min: 0 });
    else if (opts.epochs !== undefined) {
      checkInt('Trainer', 'epochs', opts.epochs, { min: 0 });
      const n = opts.trainData?.length;
      if (typeof n !== 'number') throw new ValueError('Trainer: epochs needs trainData with a length (a DataLoader or an array); give steps otherwise');
      this.steps = opts.epochs * Math.ceil(n / accum);
    } else throw new ValueError('Trainer: give the number of steps (or epochs)');
    for (const k of ['evalInterval', 'evalIters', 'logInterval', 'saveInterval'] as const) if (opts[k] !== undefined) checkInt('Trainer', k, opts[k], { min: 1 });
    for (const [name, s] of Object.entries(opts.state ?? {})) {
      if (typeof s?.stateDict !== 'function' || typeof s.loadStateDict !== 'function') throw new ValueError(`Trainer: state.${name} must have stateDict() and loadStateDict()`);
    }
    if (opts.gradScaler !== undefined && !(opts.gradScaler instanceof GradScaler)) throw new ValueError('Trainer: gradScaler must be a GradScaler');
    if (opts.compile !== undefined && checkBool('Trainer', 'compile', opts.compile) && opts.gradScaler !== undefined) {
      throw new ValueError('Trainer: compile does not take a gradScaler: its loss scale and overflow check live on the host, where a replayed step cannot follow them (train without compile, or autocast to bfloat16, which needs no loss scaling)');
    }
    if (opts.evalData && !opts.evalLoss) throw new ValueError('Trainer: evalData needs evalLoss(split, batch)');
    this.opts = opts;
    this.#best = new BestTracker(opts.best ?? {}, this.#splits().at(-1) ?? 'val');
  }

  #splits(): readonly string[] {
    if (this.opts.evalData) return Object.keys(this.opts.evalData);
    return this.opts.evalLoss ? this.opts.splits ?? ['train', 'val'] : [];
  }

  #callbacks(): TrainerCallbacks<B>[] {
    return [this.opts, ...(this.opts.callbacks ?? [])];
  }

  /** Stop after the current step, saving a checkpoint (what Ctrl-C does). */
  stop(): void { this.#stopRequested = true; }

  /** `<outDir>/checkpoints`, where the run's checkpoints go. */
  get checkpointDir(): string { return join(this.opts.outDir, 'checkpoints'); }

  /** Passes over the training data completed so far (a pass whose last batch was taken counts). */
  get epoch(): number {
    const n = this.opts.trainData?.length;
    return this.#epoch + (typeof n === 'number' && n > 0 && this.#batchInEpoch >= n ? 1 : 0);
  }

  /** The next training batch, starting a new epoch when the data runs out. */
  async #nextBatch(): Promise<B> {
    const data = this.opts.trainData;
    if (!data) return undefined as B;
    for (let fresh = 0; ; fresh++) {
      if (!this.#iter) { data.setEpoch?.(this.#epoch); this.#iter = iterate(data); }
      const r = await this.#iter.next();
      if (!r.done) { this.#batchInEpoch++; return r.value; }
      if (fresh > 0) throw new ValueError('Trainer: trainData yielded no batch');
      this.#iter = null;
      this.#epoch++;
      this.#batchInEpoch = 0;
    }
  }

  /**
   * Mean loss of each split (over all of its evalData batches, or `evalIters` drawn batches) and
   * the extra `evalMetrics`, in eval mode without gradients.
   */
  async evaluate(iters = this.opts.evalIters ?? 200): Promise<{
    /** Each split's mean loss. */
    losses: Record<string, number>;
    /** What `evalMetrics` returned ({} without it). */
    metrics: Record<string, number>;
  }> {
    checkInt('Trainer.evaluate', 'iters', iters, { min: 1 });
    const { model, evalLoss, evalData } = this.opts;
    const wasTraining = model.training;
    model.eval();
    const losses: Record<string, number> = {};
    let metrics: Record<string, number> = {};
    try {
      for (const split of this.#splits()) {
        let total: Tensor | undefined;
        let count = 0;
        const add = (batch: B) => {
          const prev = total;
          total = noGrad(() => tidy(() => {
            const l = evalLoss!(split, batch);
            return prev === undefined ? l : prev.add(l);
          }));
          prev?.dispose();
          count++;
        };
        if (evalData) {
          const it = iterate(evalData[split]!);
          for (let r = await it.next(); !r.done; r = await it.next()) add(r.value);
        } else {
          for (let k = 0; k < iters; k++) add(undefined as B);
        }
        losses[split] = total ? (await total.item()) / count : NaN;
        total?.dispose();
      }
      if (this.opts.evalMetrics) metrics = { ...(await noGrad(() => this.opts.evalMetrics!(this))) };
    } finally {
      model.train(wasTraining);
    }
    return { losses, metrics };
  }

  /** Trains to `steps` (or `epochs`), resuming from the latest checkpoint when `resume` is set; Ctrl-C (unless `handleSigint` is false) or `stop()` saves a checkpoint and ends the run cleanly. */
  async run(): Promise<TrainResult> {
    const o = this.opts;
    const { model, optimizer, scheduler } = o;
    const accum = o.gradAccumSteps ?? 1;
    const perEpoch = o.epochs !== undefined ? Math.ceil(o.trainData!.length! / accum) : undefined;
    const evalInterval = o.evalInterval ?? perEpoch ?? 250;
    const logInterval = o.logInterval ?? 1;
    const splits = this.#splits();
    const evaluates = splits.length > 0 || !!o.evalMetrics;
    mkdirSync(o.outDir, { recursive: true });
    const metricsPath = join(o.outDir, 'metrics.jsonl');
    const plotPath = join(o.outDir, 'loss.svg');
    const metrics = new MetricsLog(metricsPath);
    const bar = new ProgressBar({ total: this.steps, stream: o.stream, tty: o.tty, itemsName: o.itemsName });

    let start = 0;
    let evaluatedAt = -1;
    if (o.resume) {
      const latest = await latestCheckpoint(this.checkpointDir);
      if (latest) {
        const loaded = await loadCheckpoint(latest.path, { model, optimizer, scheduler, others: o.state });
        const extra = (loaded.extra ?? {}) as unknown as Partial<Extra>;
        start = loaded.step;
        evaluatedAt = extra.evaluatedAt ?? -1;
        this.#best.loadStateDict(extra.best ?? {});
        this.#epoch = extra.epoch ?? 0;
        const skip = extra.batchInEpoch ?? 0;
        if (o.trainData && skip > 0) {
          if (o.trainData.skip) {
            o.trainData.setEpoch?.(this.#epoch);
            await o.trainData.skip(skip);
            this.#batchInEpoch = skip;
            this.#iter = iterate(o.trainData);
          } else for (let i = 0; i < skip; i++) await this.#nextBatch();
        }
        bar.log(`resumed from ${latest.path} at step ${start}`);
      } else {
        bar.log(`resume: no checkpoint in ${this.checkpointDir}; starting from step 0`);
      }
    } else {
      // A fresh run owns its checkpoint folder: checkpoints of an earlier run there would compete
      // for "best" and "latest" with this run's.
      const stale = await listCheckpoints(this.checkpointDir);
      if (stale.length) {
        await rm(this.checkpointDir, { recursive: true, force: true });
        bar.log(`starting fresh: removed ${stale.length} checkpoint(s) of an earlier run from ${this.checkpointDir} (pass resume to continue it)`);
      }
    }
    const kept = metrics.reset(start > 0
      ? (r) => (r.type === 'train' ? r.step <= start : r.type === 'eval' && (r.step < start || (r.step === start && evaluatedAt === start)))
      : undefined);
    if (o.config !== undefined) metrics.append({ type: 'config', step: start, config: o.config });
    const trainLosses: [number, number][] = kept.filter((r) => r.type === 'train').map((r) => [r.step, r.loss as number]);
    const evals: EvalRecord[] = kept.filter((r) => r.type === 'eval').map((r) => ({ step: r.step, losses: r.losses as Record<string, number>, metrics: r.metrics as Record<string, number> | undefined }));

    let lastCheckpoint: string | null = null;
    const save = async (step: number, evaluated: boolean, metric?: number) => {
      const extra: Extra = { evaluatedAt: evaluated ? step : -1, best: this.#best.stateDict(), epoch: this.#epoch, batchInEpoch: this.#batchInEpoch, user: o.checkpointExtra };
      lastCheckpoint = await saveCheckpoint(this.checkpointDir, {
        model, optimizer, scheduler: scheduler as never, others: o.state, step, metric: metric !== undefined && Number.isFinite(metric) ? metric : undefined,
        extra: extra as unknown as JsonValue, keep: { last: o.keep?.last ?? 1, best: o.keep?.best ?? 1, mode: this.#best.mode }, fsync: o.fsync,
      });
    };
    let earlyStopped = false;
    const runEval = async (step: number) => {
      const { losses, metrics: extraMetrics } = await this.evaluate();
      const record: EvalRecord = { step, losses, ...(Object.keys(extraMetrics).length ? { metrics: extraMetrics } : {}) };
      evals.push(record);
      metrics.append({ type: 'eval', ...record });
      const { value, improved, stop } = this.#best.update(step, { ...losses, ...extraMetrics });
      if (stop) earlyStopped = true;
      const shown = [...splits.map((s) => `${s} loss ${losses[s]!.toFixed(4)}`), ...Object.entries(extraMetrics).map(([k, v]) => `${k} ${v.toFixed(4)}`)];
      bar.log(`step ${step}: ${shown.join(', ')}${improved ? ' (best)' : ''}`);
      for (const c of this.#callbacks()) await c.onEval?.({ ...record, improved }, this);
      return { metric: value, improved };
    };

    let interrupts = 0;
    const onSigint = () => {
      interrupts++;
      if (interrupts > 1) { bar.log('second interrupt: exiting without saving'); process.exit(130); }
      bar.log('interrupt: finishing this step and saving a checkpoint (Ctrl-C again to quit now)');
      this.stop();
    };
    if (o.handleSigint ?? true) process.on('SIGINT', onSigint);

    // One micro-batch: its loss (scaled by 1/accum) backpropagated, and with the last micro-batch of
    // a step the clipping, optimizer step and zeroGrad. Everything it makes is freed but the detached
    // loss and metric tensors it returns; the loss is read back outside it. The scheduler steps
    // outside it too (it only sets the groups' LR, which a replayed optimizer step reads).
    const scaler = o.gradScaler;
    const eagerStep = (batch: B, last: boolean): MicroOut => tidy(() => {
      const out = o.trainLoss(batch);
      const loss = out instanceof Tensor ? out : out.loss;
      const part = accum > 1 ? loss.div(accum) : loss;
      (scaler ? scaler.scale(part) : part).backward();
      const figures: Record<string, Tensor | number> = {};
      for (const [name, v] of Object.entries(out instanceof Tensor ? {} : out.metrics ?? {})) figures[name] = v instanceof Tensor ? v.detach() : v;
      if (!scaler && last) {
        if (o.gradClip) clipGradNorm(optimizer.params(), o.gradClip).dispose();
        optimizer.step();
        optimizer.zeroGrad();
      }
      return { loss: loss.detach(), metrics: figures };
    });
    // Compiled, a whole step is one call over its micro-batches: the gradients they accumulate are
    // made inside the call (a compiled call cannot add to gradients an earlier call made).
    const wholeStep = (batches: B[]): MicroOut[] => batches.map((b, k) => eagerStep(b, k === batches.length - 1));
    const compiled = o.compile ? compile(wholeStep, { name: 'Trainer step' }) : null;
    let checkedFigures = false;
    const compiledStep = (step: CompiledFunction<[B[]], MicroOut[]>, batches: B[]): MicroOut[] => {
      const outs = step(batches);
      if (!checkedFigures) {
        checkedFigures = true;
        const numbers = [...new Set(outs.flatMap((out) => Object.keys(out.metrics).filter((k) => !(out.metrics[k] instanceof Tensor))))];
        if (numbers.length) {
          for (const out of outs) for (const v of [out.loss, ...Object.values(out.metrics)]) if (v instanceof Tensor) v.dispose();
          throw new ValueError(`Trainer: with compile, trainLoss's metrics must be tensors; ${numbers.map((k) => `'${k}'`).join(', ')} ${numbers.length > 1 ? 'are numbers' : 'is a number'}, which a replayed step would repeat unchanged (return a 0-d tensor, or train without compile)`);
        }
      }
      return outs;
    };

    const t0 = performance.now();
    bar.start(start);
    let step = start;
    let lastRead = performance.now();
    let stepsSinceRead = 0;
    let itemsPerSecond = 0;
    let trainMs = 0;
    try {
      model.train();
      while (step < this.steps && !earlyStopped) {
        if (evaluates && step % evalInterval === 0 && evaluatedAt !== step) {
          const evalStart = performance.now();
          const { metric, improved } = await runEval(step);
          evaluatedAt = step;
          if (improved && step > 0) await save(step, true, metric);
          lastRead = performance.now();
          bar.exclude(lastRead - evalStart);
          if (earlyStopped) break;
        }
        const lr = scheduler ? scheduler.getLastLr() : optimizer.paramGroups[0]!.lr;
        const stepStart = performance.now();
        let lossT: Tensor | null = null;
        const stepMetrics: Record<string, (Tensor | number)[]> = {};
        const take = (out: MicroOut) => {
          for (const [name, v] of Object.entries(out.metrics)) (stepMetrics[name] ??= []).push(v);
          if (lossT) { const sum: Tensor = lossT.add(out.loss); lossT.dispose(); out.loss.dispose(); lossT = sum; } else lossT = out.loss;
        };
        if (compiled) {
          // The step's batches are drawn first; with several, each is copied, since a source such
          // as a DataLoader frees a batch when the next is drawn.
          const batches: B[] = [];
          try {
            for (let k = 0; k < accum; k++) { const b = await this.#nextBatch(); batches.push(accum > 1 ? noGrad(() => copyBatch(b)) : b); }
            for (const out of compiledStep(compiled, batches)) take(out);
          } finally {
            if (accum > 1) for (const b of batches) disposeBatch(b);
          }
        } else {
          for (let k = 0; k < accum; k++) take(eagerStep(await this.#nextBatch(), k === accum - 1));
        }
        if (o.gradScaler) {
          // Unscaled gradients are clipped; a step whose gradients overflowed is skipped and the scale backs off.
          tidy(() => {
            o.gradScaler!.unscale_(optimizer);
            if (o.gradClip) clipGradNorm(optimizer.params(), o.gradClip).dispose();
          });
          await o.gradScaler.step(optimizer);
          o.gradScaler.update();
          optimizer.zeroGrad();
        }
        scheduler?.step();
        step++;
        stepsSinceRead++;
        let loss: number | undefined;
        let figures: Record<string, number> | undefined;
        if (step % logInterval === 0 || step === this.steps || this.#stopRequested) {
          loss = (await lossT!.item()) / accum;
          figures = {};
          for (const [name, vs] of Object.entries(stepMetrics)) {
            let total = 0;
            for (const v of vs) total += v instanceof Tensor ? await v.item() : v;
            figures[name] = total / vs.length;
          }
          const now = performance.now();
          trainMs += now - stepStart;
          itemsPerSecond = ((o.itemsPerStep ?? 0) * stepsSinceRead) / Math.max(1e-9, (now - lastRead) / 1000);
          lastRead = now;
          stepsSinceRead = 0;
          trainLosses.push([step, loss]);
          metrics.append({ type: 'train', step, loss, lr, epoch: this.epoch, items_per_s: Math.round(itemsPerSecond), ...figures });
          bar.update({ step, loss, lr, tokensPerSec: o.itemsPerStep ? itemsPerSecond : undefined, metrics: figures });
        } else {
          trainMs += performance.now() - stepStart; // (time of queued device work is counted at the next read)
        }
        lossT!.dispose();
        for (const vs of Object.values(stepMetrics)) for (const v of vs) if (v instanceof Tensor) v.dispose();
        if (o.saveInterval && step % o.saveInterval === 0 && step < this.steps) await save(step, evaluatedAt === step);
        // A read that resolves at once (CPU) never yields to the event loop, so yield here:
        // that is where a pending Ctrl-C is delivered.
        await tick();
        const info: StepInfo = { step, epoch: this.epoch, loss, lr, ...(figures && Object.keys(figures).length ? { metrics: figures } : {}) };
        for (const c of this.#callbacks()) await c.onStep?.(info, this);
        if (this.#stopRequested) break;
      }
      const interrupted = step < this.steps && !earlyStopped;
      if (interrupted) {
        await save(step, false);
        bar.log(`stopped at step ${step}; checkpoint saved to ${lastCheckpoint}`);
      } else if (earlyStopped) {
        bar.log(`early stop at step ${step}: ${this.#best.metric} has not improved for ${this.#best.wait} evaluations (best ${this.#best.best.toFixed(4)} at step ${this.#best.bestStep})`);
        await save(step, true);
      } else if (evaluates) {
        const last = evals[evals.length - 1];
        const metric = last && last.step === step ? { ...last.losses, ...last.metrics }[this.#best.metric] : (await runEval(step)).metric;
        // Ranked for keep-best only when it is the best: a tie with an earlier best must not push
        // the earlier checkpoint (the one "best" names) out of the kept set.
        await save(step, true, this.#best.bestStep === step ? metric : undefined);
      } else {
        await save(step, false);
      }
      bar.done();
      const wallSeconds = (performance.now() - t0) / 1000;
      writeFileSync(plotPath, lossPlot(trainLosses, evals, splits));
      const ran = step - start;
      const result: TrainResult = {
        ...(compiled ? { compileStats: compiled.stats() } : {}),
        startStep: start, step, epoch: this.epoch, interrupted, earlyStopped, wallSeconds, msPerStep: ran > 0 ? trainMs / ran : NaN,
        itemsPerSecond: trainMs > 0 ? ((o.itemsPerStep ?? 0) * ran) / (trainMs / 1000) : 0, itemsName: o.itemsName ?? 'tokens', trainLosses, evals,
        bestMetricName: this.#best.metric, bestMetric: this.#best.best, bestStep: this.#best.bestStep, checkpoint: lastCheckpoint, metricsPath, plotPath,
      };
      metrics.append({
        type: 'summary', step, interrupted, early_stopped: earlyStopped, wall_s: wallSeconds, ms_per_step: result.msPerStep,
        best_metric: this.#best.metric, best: Number.isFinite(this.#best.best) ? this.#best.best : null, best_step: this.#best.bestStep, final: evals[evals.length - 1] ?? null,
      });
      for (const c of this.#callbacks()) await c.onEnd?.(result, this);
      return result;
    } finally {
      if (o.handleSigint ?? true) process.off('SIGINT', onSigint);
      await this.#iter?.return?.();
      this.#iter = null;
      compiled?.reset();
    }
  }
}
