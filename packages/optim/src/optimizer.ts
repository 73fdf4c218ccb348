// The Optimizer base class: parameter groups with their own hyperparameters, per-parameter state
// (step count + owned state tensors), zeroGrad, and an exact stateDict/loadStateDict round trip.
//
// Subclasses implement `updateParam` for one parameter; the base runs it under noGrad for every
// parameter that has a gradient (`updateParams`, which AdamW and Adam override to update all of a
// step's parameters in one multi-tensor call). State tensors are `keep()`-ed, so no tidy/scope sweeps them, and
// freed by `dispose()` or when a state dict replaces them.
//
// stateDict() is async: it reads every state tensor with `await t.data()` and returns a snapshot
// of plain data (TypedArrays in the tensors' own dtypes), so later steps cannot change it and it
// serializes losslessly (the checkpoint writer stores the arrays as safetensors, the rest as JSON).
import {
  checkBool, checkOptions, checkRange, fmtValue, hostAction, isTracing, keep, noGrad, tensor, zerosLike, ValueError, type DType, type Tensor, type TypedArray,
} from '@webgrad/core';

/** A JSON-serializable hyperparameter value. */
export type HyperValue = number | boolean | string | null | readonly number[];

/** Hyperparameters every optimizer's groups carry. */
export interface BaseHyper {
  /** Learning rate. */
  lr: number;
  /** Weight decay (L2 for SGD and Adam, decoupled for AdamW and Lion). */
  weightDecay: number;
}

/** A parameter group: its parameters plus its own (mutable) hyperparameters. */
export type ParamGroup<H extends BaseHyper = BaseHyper> = H & {
  /** The group's parameters. */
  params: Tensor[];
};

/** A group as passed in: any hyperparameter left out takes the optimizer's default. */
export type ParamGroupInput<H extends BaseHyper = BaseHyper> = Partial<H> & {
  /** The group's parameters. */
  params: Iterable<Tensor>;
};

/** Parameters as passed to a constructor: a flat list, or a list of groups. */
export type ParamsInput<H extends BaseHyper = BaseHyper> = Iterable<Tensor> | readonly ParamGroupInput<H>[];

/** Per-parameter optimizer state: the number of steps taken and owned state tensors. */
export interface ParamState {
  /** Steps taken for this parameter (the t of Adam's bias correction). */
  step: number;
  /** State tensors by name (`expAvg`, `expAvgSq`, `momentumBuffer`, …). */
  buffers: Record<string, Tensor>;
}

/** One parameter's update in a step: what `updateParam` receives (the state's step already counts this step). */
export interface ParamUpdate<H extends BaseHyper = BaseHyper> {
  /** The parameter. */
  param: Tensor;
  /** Its gradient. */
  grad: Tensor;
  /** Its state. */
  state: ParamState;
  /** Its group. */
  group: ParamGroup<H>;
}

/** A state tensor read back to the host. */
export interface TensorSnapshot {
  /** The tensor's dtype. */
  dtype: DType;
  /** The tensor's shape. */
  shape: number[];
  /** Its elements in row-major order, in an array of its dtype. */
  data: TypedArray;
}

/** A snapshot of an optimizer, keyed by the parameter's index in group order (as torch does). */
export interface OptimizerStateDict {
  /** Optimizer class name, checked on load. */
  kind: string;
  /** Per-parameter state by the parameter's index in group order. */
  state: Record<string, {
    /** Steps taken for the parameter. */
    step: number;
    /** Its state tensors by name. */
    buffers: Record<string, TensorSnapshot>;
  }>;
  /** Each group's parameter indices and hyperparameters. */
  paramGroups: Array<{
    /** Indices of the group's parameters. */
    params: number[];
    /** The group's hyperparameters. */
    hyper: Record<string, HyperValue>;
  }>;
}

/** A wrong argument to an optimizer, or a state dict that does not fit it. */
export class OptimizerError extends ValueError {}

const isIterable = (x: unknown): x is Iterable<unknown> =>
  typeof x === 'object' && x !== null && typeof (x as Iterable<unknown>)[Symbol.iterator] === 'function';

const isTensorLike = (x: unknown): x is Tensor =>
  typeof x === 'object' && x !== null && (x as { __isTensor?: boolean }).__isTensor === true;

/** Base of every optimizer (torch.optim.Optimizer): parameter groups with their own hyperparameters, per-parameter state, `step()`, `zeroGrad()`, and an exact `stateDict()`/`loadStateDict()` round trip. Subclasses implement `updateParam` for one parameter. */
export abstract class Optimizer<H extends BaseHyper = BaseHyper> {
  /** The groups; each group's hyperparameters (e.g. `lr`) may be changed between steps. */
  readonly paramGroups: ParamGroup<H>[] = [];
  /** State of each parameter that has taken a step. */
  readonly state = new Map<Tensor, ParamState>();
  /** Every hyperparameter's default, with the constructor's options applied. */
  protected readonly defaults: H;
  /** Class name stored in state dicts. */
  abstract readonly kind: string;

  /** `defaults`: every hyperparameter's default, overridden by the user's options (checked here). */
  constructor(params: ParamsInput<H>, defaults: H, opts: Partial<H> = {}) {
    const op = new.target.name;
    checkOptions(op, opts, Object.keys(defaults), 'options');
    this.defaults = { ...defaults };
    for (const [k, v] of Object.entries(opts)) if (v !== undefined) (this.defaults as Record<string, unknown>)[k] = v;
    if (!isIterable(params)) throw new OptimizerError(`${op}: params must be a list of tensors or of parameter groups, got ${fmtValue(params)}`);
    const list = [...(params as Iterable<Tensor | ParamGroupInput<H>>)];
    if (list.length === 0) throw new OptimizerError(`${op}: params is an empty list; pass the tensors to optimize`);
    if (list.every(isTensorLike)) this.addParamGroup({ params: list as Tensor[] } as unknown as ParamGroupInput<H>);
    else if (list.some(isTensorLike)) throw new OptimizerError(`${op}: pass either a list of tensors or a list of parameter groups, not a mix`);
    else for (const g of list as ParamGroupInput<H>[]) this.addParamGroup(g);
  }

  /** The class name for messages (`kind` is not set yet while the constructor runs). */
  protected get name(): string { return this.kind ?? this.constructor.name; }

  /** Add a group (its missing hyperparameters come from the defaults). A parameter may be in one group only. */
  addParamGroup(group: ParamGroupInput<H>): void {
    const op = this.name;
    checkOptions(op, group, ['params', ...Object.keys(this.defaults)], 'param group');
    if (!isIterable(group.params)) throw new OptimizerError(`${op}: a param group's params must be a list of tensors, got ${fmtValue(group.params)}`);
    const params = [...group.params];
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    for (const p of params) {
      if (!isTensorLike(p)) throw new OptimizerError(`${op}.addParamGroup: params must be tensors, got ${fmtValue(p)}`);
      if (p.dtype !== 'float32' && p.dtype !== 'float64') throw new OptimizerError(`${op}: params must be floating-point tensors (only those can be optimized), got ${p.dtype}${p.name ? ` (${p.name})` : ''}`);
      if (seen.has(p)) throw new OptimizerError(`${op}.addParamGroup: a parameter appears in more than one group${p.name ? ` (${p.name})` : ''}`);
      seen.add(p);
    }
    const full = { ...this.defaults } as Record<string, unknown>;
    for (const [k, v] of Object.entries(group)) if (k !== 'params' && v !== undefined) full[k] = v;
    full.params = params;
    this.validateGroup(full as unknown as ParamGroup<H>);
    this.paramGroups.push(full as unknown as ParamGroup<H>);
  }

  /** Check a group's hyperparameters; subclasses extend it. */
  protected validateGroup(g: ParamGroup<H>): void {
    checkRange(this.name, 'lr', g.lr, 0, Infinity);
    checkRange(this.name, 'weightDecay', g.weightDecay, 0, Infinity);
  }

  /** Every parameter, in group order. */
  params(): Tensor[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /** Set one learning rate for every group (an attached LrScheduler instead keeps per-group ratios). */
  setLr(lr: number): void {
    checkRange(`${this.name}.setLr`, 'lr', lr, 0, Infinity);
    for (const g of this.paramGroups) g.lr = lr;
  }

  /** Clear gradients: dispose and set `.grad = null` (default), or zero them in place. */
  zeroGrad(opts: { setToNone?: boolean } = {}): void {
    checkOptions(`${this.name}.zeroGrad`, opts, ['setToNone']);
    const setToNone = checkBool(`${this.name}.zeroGrad`, 'setToNone', opts.setToNone === undefined ? true : opts.setToNone);
    noGrad(() => {
      for (const p of this.params()) {
        const g = p.grad;
        if (!g) continue;
        if (setToNone || g.isDisposed) { if (!g.isDisposed) g.dispose(); p.grad = null; } else g.zero_();
      }
    });
  }

  /**
   * One optimization step for every parameter that has a gradient. Inside a compiled step it is a
   * host action: it runs again at every replay (step counts, bias corrections and the groups'
   * current learning rates advance as in eager mode), with the gradients the trace saw, whose
   * buffers each replay rewrites.
   */
  step(): void {
    if (!isTracing()) { this.stepWith(null); return; }
    const grads = new Map<Tensor, Tensor>();
    for (const p of this.params()) if (p.grad && !p.grad.isDisposed) grads.set(p, p.grad.alias({ internal: true }));
    hostAction(`${this.name}.step`, () => this.stepWith(grads), () => { for (const g of grads.values()) g.dispose(); });
  }

  /** The step, reading each parameter's gradient from `grads` when given, else from `p.grad`. */
  private stepWith(grads: ReadonlyMap<Tensor, Tensor> | null): void {
    noGrad(() => {
      const updates: ParamUpdate<H>[] = [];
      for (const group of this.paramGroups) {
        this.beforeGroup(group);
        for (const p of group.params) {
          const g = grads === null ? p.grad : grads.get(p);
          if (!g || g.isDisposed) continue;
          const st = this.stateOf(p);
          st.step += 1;
          updates.push({ param: p, grad: g, state: st, group });
        }
      }
      this.updateParams(updates);
    });
  }

  /** Hook run for each group, in order, before the step updates any parameter. */
  protected beforeGroup(_group: ParamGroup<H>): void {}

  /** Update every parameter of the step (group order) in place; the default runs `updateParam` on each. Runs under noGrad. */
  protected updateParams(updates: readonly ParamUpdate<H>[]): void {
    for (const u of updates) this.updateParam(u.param, u.grad, u.state, u.group);
  }

  /** Update one parameter in place from its gradient. Runs under noGrad. */
  protected abstract updateParam(p: Tensor, grad: Tensor, state: ParamState, group: ParamGroup<H>): void;

  /** The state of parameter `p` (step count and buffers), created empty on first use. */
  protected stateOf(p: Tensor): ParamState {
    let st = this.state.get(p);
    if (!st) { st = { step: 0, buffers: {} }; this.state.set(p, st); }
    return st;
  }

  /** The named state tensor of `p`, created (owned) with zeros like `p` on first use. */
  protected buffer(p: Tensor, st: ParamState, name: string, init?: () => Tensor): Tensor {
    let b = st.buffers[name];
    if (!b) { b = keep(init ? init() : zerosLike(p)); st.buffers[name] = b; }
    return b;
  }

  /** An exact snapshot of state tensors, step counts and group hyperparameters. */
  async stateDict(): Promise<OptimizerStateDict> {
    const index = new Map<Tensor, number>();
    this.params().forEach((p, i) => index.set(p, i));
    const state: OptimizerStateDict['state'] = {};
    for (const [p, st] of this.state) {
      const i = index.get(p);
      if (i === undefined) continue;
      const buffers: Record<string, TensorSnapshot> = {};
      for (const [k, t] of Object.entries(st.buffers)) buffers[k] = { dtype: t.dtype, shape: [...t.shape], data: await t.data() };
      state[String(i)] = { step: st.step, buffers };
    }
    let next = 0;
    const paramGroups = this.paramGroups.map((g) => {
      const hyper: Record<string, HyperValue> = {};
      for (const [k, v] of Object.entries(g)) if (k !== 'params') hyper[k] = Array.isArray(v) ? [...(v as number[])] : (v as HyperValue);
      return { params: g.params.map(() => next++), hyper };
    });
    return { kind: this.kind, state, paramGroups };
  }

  /** Restore a snapshot taken from an optimizer built over the same parameters (same groups, same order). */
  loadStateDict(sd: OptimizerStateDict): void {
    const where = `${this.kind}.loadStateDict`;
    if (sd.kind !== this.kind) throw new OptimizerError(`${where}: the state dict is from ${sd.kind}, not ${this.kind}`);
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new OptimizerError(`${where}: the state dict has ${sd.paramGroups.length} parameter groups, this optimizer has ${this.paramGroups.length}`);
    }
    sd.paramGroups.forEach((g, i) => {
      const n = this.paramGroups[i]!.params.length;
      if (g.params.length !== n) throw new OptimizerError(`${where}: group ${i} has ${g.params.length} parameters in the state dict, ${n} here`);
    });
    const params = this.params();
    // Validate everything before changing anything: the hyperparameters as a constructor would.
    sd.paramGroups.forEach((g, i) => {
      const trial = { ...this.paramGroups[i]! } as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(g.hyper)) trial[k] = v;
      this.validateGroup(trial as unknown as ParamGroup<H>);
    });
    for (const [key, st] of Object.entries(sd.state)) {
      const p = params[Number(key)];
      if (!p) throw new OptimizerError(`${where}: state for parameter #${key}, but there are only ${params.length} parameters`);
      if (!Number.isInteger(st.step) || st.step < 0) throw new OptimizerError(`${where}: parameter #${key} has an invalid step ${st.step}`);
      for (const [name, s] of Object.entries(st.buffers)) {
        const n = s.shape.reduce((a, b) => a * b, 1);
        if (s.data.length !== n) throw new OptimizerError(`${where}: state '${name}' of parameter #${key} has ${s.data.length} values for shape [${s.shape.join(', ')}]`);
        if (n !== p.size) throw new OptimizerError(`${where}: state '${name}' of parameter #${key} has shape [${s.shape.join(', ')}], the parameter has [${p.shape.join(', ')}]`);
      }
    }
    this.disposeState();
    for (const [key, st] of Object.entries(sd.state)) {
      const p = params[Number(key)]!;
      const buffers: Record<string, Tensor> = {};
      for (const [name, s] of Object.entries(st.buffers)) {
        buffers[name] = keep(tensor(s.data, { dtype: s.dtype, shape: s.shape, device: p.device }));
      }
      this.state.set(p, { step: st.step, buffers });
    }
    sd.paramGroups.forEach((g, i) => {
      const group = this.paramGroups[i]! as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(g.hyper)) group[k] = Array.isArray(v) ? [...v] : v;
    });
  }

  private disposeState(): void {
    for (const st of this.state.values()) for (const t of Object.values(st.buffers)) t.dispose();
    this.state.clear();
  }

  /** Free every state tensor (the optimizer can still step; state restarts from zero). */
  dispose(): void {
    this.disposeState();
  }
}
