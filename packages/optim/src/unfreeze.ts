// Gradual unfreezing (Howard & Ruder 2018, ULMFiT): fine-tune a pretrained network starting with
// only its top layers trainable and unfreeze more layers, top down, at given epochs. It works on
// anything with `requiresGrad_` (a Module). Frozen parameters get no gradient, so an optimizer built
// over all parameters simply skips them until they are unfrozen.
//
//   const unfreezer = new GradualUnfreezing([...model.h], { schedule: { 0: 1, 2: 2, 4: 4 } });
//   for (let epoch = 0; ...; epoch++) { unfreezer.step(epoch); ...train... }
//
// The trainable set is a pure function of the epoch, so resuming just calls step(epoch) again.
import { checkOptions, checkSize, fmtValue } from '@webgrad/core';
import { OptimizerError } from './optimizer.js';

const isFreezable = (m: unknown): m is Freezable => typeof m === 'object' && m !== null && typeof (m as Freezable).requiresGrad_ === 'function';

/** Anything that can be frozen and unfrozen as a whole (nn's Module). */
export interface Freezable {
  /** Turns gradients on or off for every parameter of the module. */
  requiresGrad_(requiresGrad?: boolean): unknown;
}

/** From each listed epoch on, the top `k` layers are trainable: `{0: 1, 3: 2}` or `[[0, 1], [3, 2]]`. */
export type UnfreezeSchedule = Readonly<Record<number, number>> | readonly (readonly [number, number])[];

/** Options of GradualUnfreezing. */
export interface GradualUnfreezingOptions {
  /** From which epoch how many top layers are trainable. */
  schedule: UnfreezeSchedule;
  /** Modules kept trainable throughout (e.g. a new task head). */
  alwaysTrainable?: readonly Freezable[];
}

/** Gradual unfreezing (Howard & Ruder 2018, ULMFiT): starts with only the top layers trainable and unfreezes more, top down, at the epochs of the schedule. Call `step(epoch)` at the start of each epoch. */
export class GradualUnfreezing {
  readonly #points: [number, number][];
  #epoch = -1;
  #trainable = -1;

  /**
   * @param layers The layers that unfreeze, ordered bottom (input side) to top (output side).
   * @param opts The schedule and the modules trainable throughout.
   */
  constructor(readonly layers: readonly Freezable[], private readonly opts: GradualUnfreezingOptions) {
    const op = 'GradualUnfreezing';
    if (!Array.isArray(layers) || !layers.every(isFreezable)) throw new OptimizerError(`${op}: layers must be an array of modules, got ${fmtValue(layers)}`);
    checkOptions(op, opts, ['schedule', 'alwaysTrainable']);
    if (typeof opts.schedule !== 'object' || opts.schedule === null) throw new OptimizerError(`${op}: schedule must be { epoch: topLayers } or [[epoch, topLayers], ...], got ${fmtValue(opts.schedule)}`);
    if (opts.alwaysTrainable !== undefined && !(Array.isArray(opts.alwaysTrainable) && opts.alwaysTrainable.every(isFreezable))) {
      throw new OptimizerError(`${op}: alwaysTrainable must be an array of modules, got ${fmtValue(opts.alwaysTrainable)}`);
    }
    const pts = Array.isArray(opts.schedule)
      ? (opts.schedule as readonly (readonly [number, number])[]).map((x) => (Array.isArray(x) ? [x[0], x[1]] : [NaN, NaN]) as [number, number])
      : Object.entries(opts.schedule).map(([e, k]) => [Number(e), k as number] as [number, number]);
    for (const [e, k] of pts) {
      if (!Number.isInteger(e) || e < 0) throw new OptimizerError(`${op}: the schedule's epochs must be non-negative integers, got ${fmtValue(e)}`);
      if (!Number.isInteger(k) || k < 0 || k > layers.length) throw new OptimizerError(`${op}: the schedule's number of top layers must be an integer in [0, ${layers.length}], got ${fmtValue(k)} at epoch ${e}`);
    }
    this.#points = pts.sort((a, b) => a[0] - b[0]);
    this.step(0);
  }

  /** How many top layers are trainable at `epoch` (0 before the first scheduled epoch). */
  trainableAt(epoch: number): number {
    checkSize('GradualUnfreezing', 'epoch', epoch);
    let k = 0;
    for (const [e, n] of this.#points) if (e <= epoch) k = n;
    return k;
  }

  /** Apply the schedule for `epoch` (call at the start of each epoch). Returns the layer indices unfrozen now. */
  step(epoch: number): number[] {
    const k = this.trainableAt(epoch);
    const n = this.layers.length;
    const before = this.#trainable;
    this.layers.forEach((layer, i) => layer.requiresGrad_(i >= n - k));
    for (const m of this.opts.alwaysTrainable ?? []) m.requiresGrad_(true);
    this.#epoch = epoch;
    this.#trainable = k;
    const newly: number[] = [];
    for (let i = n - k; i < n - Math.max(before, 0); i++) newly.push(i);
    return newly;
  }

  /** The epoch of the last `step` (−1 before the first). */
  get epoch(): number { return this.#epoch; }
  /** Number of top layers trainable now. */
  get numTrainable(): number { return this.#trainable; }

  /** The current epoch, for checkpoints. */
  stateDict(): {
    /** The epoch of the last `step`. */
    epoch: number;
  } { return { epoch: this.#epoch }; }
  /** Restores the trainable set of a snapshot's epoch (calls `step(epoch)`). */
  loadStateDict(s: { epoch: number }): void { this.step(s.epoch); }
}
