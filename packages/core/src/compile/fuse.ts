// Fusion of a finished tape: runs of consecutive float32 unary / binary / binaryScalar launches over
// the same iteration shape become one `fusedElementwise` launch (a FusedProgram: inputs, steps,
// outputs), where the device has that kernel.
//
// Values inside a run are tracked by buffer: a step that reads a buffer written earlier in the run
// (with the same contiguous view) reads that step's value instead of memory. A value is written out
// only when something outside the run needs it — an entry after the run, a host action, the
// step's result, a tensor still alive when the step returned, or any buffer that is not the
// arena's (parameters updated in place); the other intermediates never touch memory, and their
// buffers leave the arena (compile.ts frees what no entry refers to any more).
//
// A run stops where a step would read a buffer the run wrote through a different view, write a
// buffer the run read through a different view (the fused kernel reads every input of an element
// before writing it, so only same-position aliasing is safe), or need more than FUSED_MAX_BUFFERS
// views.
//
// Epilogues, where the device has `matmulEpilogue`: a float32 matmul whose product the run's first
// step reads becomes the run's value 0, and the matmul and the run one launch (the product is
// written only when something else needs it, as any value of a run). The matmul may be moved past
// up to MAX_SKIPPED entries before the run that neither touch its product nor write its operands
// (the dX matmul's GELU gradient waits behind the dW matmul); no step may write an operand, which
// every element reads. Bias gradients: a sum of dY over every axis but the last, followed (within
// MAX_SKIPPED entries) by the weight-gradient matmul whose A is dYᵀ, is written by that matmul as
// the row sums of A and the reduce is dropped; the sum order is the matmul kernel's (matmul_epilogue.ts).
//
// Residual gradients, where the device has `layerNormBackwardAdd` (before the passes above): a
// `layerNormBackward` whose float32 dx a following float32 `add` reads, with the residual path's
// gradient r, becomes one launch writing out = dx + r (the add's own bits) at the add's place, and
// dx only where something else reads it. The layerNorm backward is moved past up to MAX_SKIPPED
// entries before the add that neither touch its outputs (dx, dweight, dbias) nor write its inputs.
import { BOOL_RESULT_OPS, FUSED_MAX_BUFFERS, contiguousStrides, type BinaryOp, type FusedProgram, type FusedStep, type UnaryOp, type View, validateFusedProgram } from '@webgrad/kernels';
import type { Backend } from '../backend/backend.js';
import { type Entry, type FusedEntry, type KernelEntry, type OutputTemplate, type Ref, type Tape, isView } from './tape.js';

const ELEMENTWISE = new Set(['unary', 'binary', 'binaryScalar']);

/** Argument `i` of elementwise entry `e`, a view. */
function viewArg(e: KernelEntry, i: number): View<unknown> {
  const v = e.args[i];
  if (!isView(v)) throw new Error(`fuse: argument ${i} of ${e.name} is not a view`);
  return v;
}

/** The views an elementwise entry reads, and the one it writes. */
function operands(e: KernelEntry): { ins: View<unknown>[]; out: View<unknown> } {
  if (e.name === 'unary') return { ins: [viewArg(e, 1)], out: viewArg(e, 2) };
  if (e.name === 'binary') return { ins: [viewArg(e, 1), viewArg(e, 2)], out: viewArg(e, 3) };
  return { ins: [viewArg(e, 1)], out: viewArg(e, 4) };
}

const sameList = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
const geometry = (v: View<unknown>): string => `${v.offset}|${v.strides.join(',')}`;

/** Whether entry `e` can be a step of a fused program at all. */
function fusible(e: Entry): e is KernelEntry {
  if (e.kind !== 'kernel' || !ELEMENTWISE.has(e.name) || e.backend.kernels.fusedElementwise === undefined) return false;
  const { ins, out } = operands(e);
  if (out.dtype !== 'float32' || ins.some((v) => v.dtype !== 'float32' || !sameList(v.shape, out.shape))) return false;
  if (e.name !== 'unary' && BOOL_RESULT_OPS.has(e.args[0] as BinaryOp)) return false;
  if (out.shape.reduce((p, d) => p * d, 1) === 0) return false;
  return sameList(out.strides, contiguousStrides(out.shape));
}

/** A value inside a run: input view k, or the result of step k. */
type Val = { readonly input: number } | { readonly step: number };
interface Write { value: Val; view: View<unknown>; ref: Ref }
type RunStep =
  | { kind: 'unary'; op: string; args: [Val] }
  | { kind: 'binary'; op: string; args: [Val, Val] }
  | { kind: 'scalar'; op: string; args: [Val]; value: number; scalarFirst: boolean };

/** A run being grown; `tryAdd` either takes an entry or leaves the run unchanged. */
class Run {
  readonly inputs: { view: View<unknown>; ref: Ref }[] = [];
  readonly steps: RunStep[] = [];
  readonly writes = new Map<unknown, Write>();
  readonly entries: KernelEntry[] = [];

  /**
   * `limit`: most inputs + outputs; `product`: value 0 of an epilogue run, the matmul's product in
   * its out view, which the first step must read; `unwritable`: buffers no step may write (the
   * matmul's operands, which every element of the product reads); `untouchable`: buffers no step
   * may read or write (the row sums the matmul writes beside the run).
   */
  constructor(
    readonly backend: Backend, readonly shape: readonly number[], readonly needed: (r: Ref, end: number) => boolean,
    readonly limit = FUSED_MAX_BUFFERS, readonly product: { view: View<unknown>; ref: Ref } | null = null,
    readonly unwritable: ReadonlySet<unknown> = new Set(), readonly untouchable: ReadonlySet<unknown> = new Set(),
  ) {
    if (product !== null) {
      this.inputs.push(product);
      this.writes.set(product.view.buffer, { value: { input: 0 }, view: product.view, ref: product.ref });
    }
  }

  #inputIndex(list: readonly { view: View<unknown> }[], v: View<unknown>): number {
    const g = geometry(v);
    return list.findIndex((n) => n.view.buffer === v.buffer && geometry(n.view) === g);
  }

  tryAdd(e: KernelEntry, index: number): boolean {
    if (e.backend !== this.backend) return false;
    const { ins, out } = operands(e);
    if (!sameList(out.shape, this.shape)) return false;
    const refOf = (v: View<unknown>): Ref => {
      const ref = e.refs.find((r) => r.view === v);
      if (ref === undefined) throw new Error(`fuse: a view of ${e.name} has no ref`);
      return ref;
    };
    const args: Val[] = [];
    const added: { view: View<unknown>; ref: Ref }[] = [];
    for (const v of ins) {
      const w = this.writes.get(v.buffer);
      if (w !== undefined) {
        if (geometry(w.view) !== geometry(v)) return false;
        args.push(w.value);
        continue;
      }
      let k = this.#inputIndex(this.inputs, v);
      if (k === -1) {
        const a = this.#inputIndex(added, v);
        if (a === -1) added.push({ view: v, ref: refOf(v) });
        k = this.inputs.length + (a === -1 ? added.length - 1 : a);
      }
      args.push({ input: k });
    }
    if (this.product !== null && this.steps.length === 0 && !args.some((a) => 'input' in a && a.input === 0)) return false;
    if (this.unwritable.has(out.buffer) || [...ins, out].some((v) => this.untouchable.has(v.buffer))) return false;
    // Writing a buffer the run reads elsewhere than at the same positions would clobber inputs.
    const g = geometry(out);
    if ([...this.inputs, ...added].some((n) => n.view.buffer === out.buffer && geometry(n.view) !== g)) return false;
    const prior = this.writes.get(out.buffer);
    if (prior !== undefined && geometry(prior.view) !== g) return false;
    const writesAfter = new Map(this.writes);
    writesAfter.set(out.buffer, { value: { step: -1 }, view: out, ref: refOf(out) });
    let outputs = 0;
    for (const w of writesAfter.values()) if (this.needed(w.ref, index)) outputs++;
    if (this.inputs.length + added.length + outputs > this.limit) return false;

    this.inputs.push(...added);
    const op = e.args[0] as string;
    const [a, b] = args;
    if (a === undefined) throw new Error(`fuse: ${e.name} has no operand`);
    if (e.name === 'unary') this.steps.push({ kind: 'unary', op, args: [a] });
    else if (e.name === 'binary') {
      if (b === undefined) throw new Error('fuse: binary has one operand');
      this.steps.push({ kind: 'binary', op, args: [a, b] });
    } else this.steps.push({ kind: 'scalar', op, args: [a], value: e.args[2] as number, scalarFirst: e.args[3] as boolean });
    this.writes.set(out.buffer, { value: { step: this.steps.length - 1 }, view: out, ref: refOf(out) });
    this.entries.push(e);
    return true;
  }

  /** The fused entry, writing what is needed after `end` (the index of the run's last entry). */
  build(end: number): FusedEntry {
    const n = this.inputs.length;
    const num = (v: Val): number => ('input' in v ? v.input : n + v.step);
    const steps: FusedStep[] = this.steps.map((s) => {
      if (s.kind === 'unary') return { kind: 'unary', op: s.op as UnaryOp, args: [num(s.args[0])] };
      if (s.kind === 'binary') return { kind: 'binary', op: s.op as BinaryOp, args: [num(s.args[0]), num(s.args[1])] };
      return { kind: 'scalar', op: s.op as BinaryOp, args: [num(s.args[0])], value: s.value, scalarFirst: s.scalarFirst };
    });
    const outs: View<unknown>[] = [];
    const outputs: number[] = [];
    const refs: Ref[] = this.inputs.map((i) => i.ref);
    for (const w of this.writes.values()) {
      if (!this.needed(w.ref, end)) continue;
      outs.push(w.view);
      outputs.push(num(w.value));
      refs.push(w.ref);
    }
    return {
      kind: 'fused', backend: this.backend, program: { inputs: n, steps, outputs },
      inputs: this.inputs.map((i) => i.view), outs, refs, replaces: this.entries.length,
    };
  }
}

// ---- epilogues: a matmul and the elementwise run that reads its product ----------------------

/** The arguments each kernel writes, for the entries an epilogue matmul may be moved past. */
const WRITTEN_ARGS: Readonly<Record<string, readonly number[]>> = {
  matmul: [2], reduce: [3], unary: [2], binary: [3], binaryScalar: [4], copy: [1], fill: [0],
  layerNorm: [4, 5, 6], layerNormBackward: [5, 6, 7], layerNormBackwardAdd: [6, 7, 8, 9],
};

/** Most entries an epilogue matmul is moved past to reach the run that reads its product. */
const MAX_SKIPPED = 4;

/** The a, b and out views of a matmul entry that could take an epilogue, or null. */
function epilogueMatmul(e: Entry): { a: View<unknown>; b: View<unknown>; out: View<unknown> } | null {
  if (e.kind !== 'kernel' || e.name !== 'matmul' || e.backend.kernels.matmulEpilogue === undefined) return null;
  const [a, b, out] = e.args;
  if (!isView(a) || !isView(b) || !isView(out)) return null;
  if ([a, b, out].some((v) => v.dtype !== 'float32') || out.shape.length < 2 || out.shape.reduce((p, d) => p * d, 1) === 0) return null;
  if (!sameList(out.strides, contiguousStrides(out.shape))) return null;
  return { a, b, out };
}

/** Whether kernel entry `f` may run before an entry that reads `read` and writes `wrote` instead of after it: it touches none of `wrote` and writes none of `read`. */
function movablePast(f: Entry, read: readonly unknown[], wrote: readonly unknown[]): boolean {
  if (f.kind !== 'kernel' || f.rng !== null) return false;
  const written = WRITTEN_ARGS[f.name];
  if (written === undefined || f.refs.some((r) => wrote.includes(r.view.buffer))) return false;
  return written.every((k) => {
    const v = f.args[k];
    return isView(v) && !read.includes(v.buffer);
  });
}

/** A bias gradient's sum to be written by the weight-gradient matmul: the [N] view and its ref. */
interface RowSums { readonly view: View<unknown>; readonly ref: Ref }

/**
 * Bias gradients folded into weight gradients: a float32 `reduce(sum)` of a contiguous dY
 * [..., N] over every axis but the last (into [1, ..., 1, N]) followed, within MAX_SKIPPED entries
 * that neither touch its sum nor write dY, by a matmul whose A is dYᵀ — the same elements as
 * [N, R] with strides [1, N]. The sum is then the row sums of that A: the reduce is dropped
 * (`dropped`, by index) and the matmul writes them (`rowSums`, by the matmul's index).
 */
function biasGradients(entries: readonly Entry[]): { dropped: Set<number>; rowSums: Map<number, RowSums> } {
  const dropped = new Set<number>();
  const rowSums = new Map<number, RowSums>();
  entries.forEach((e, i) => {
    if (e.kind !== 'kernel' || e.name !== 'reduce' || e.args[0] !== 'sum' || e.backend.kernels.matmulEpilogue === undefined) return;
    const [, x, axes, sum] = e.args;
    if (!isView(x) || !isView(sum) || !Array.isArray(axes) || x.dtype !== 'float32' || sum.dtype !== 'float32') return;
    const r = x.shape.length;
    const N = x.shape[r - 1] ?? 0;
    const R = x.shape.slice(0, r - 1).reduce((p, d) => p * d, 1);
    if (r < 2 || N === 0 || R === 0 || !sameList(x.strides, contiguousStrides(x.shape))) return;
    if (!sameList([...axes].sort((p, q) => p - q), [...Array(r - 1).keys()])) return;
    if (!sameList(sum.shape, [...Array<number>(r - 1).fill(1), N]) || !sameList(sum.strides, contiguousStrides(sum.shape))) return;
    const sumRef = e.refs.find((q) => q.view === sum);
    if (sumRef === undefined) return;
    for (let j = i + 1; j <= i + 1 + MAX_SKIPPED; j++) {
      const f = entries[j];
      if (f === undefined) return;
      const mm = epilogueMatmul(f);
      // A is dYᵀ; B and the product are elsewhere than the sum (B is read, not the sum being written).
      const isDyT = mm !== null && mm.a.buffer === x.buffer && mm.a.offset === x.offset && sameList(mm.a.shape, [N, R]) && sameList(mm.a.strides, [1, N]);
      if (mm !== null && isDyT && f.kind === 'kernel' && f.backend === e.backend && !rowSums.has(j) &&
        [mm.a, mm.b, mm.out].every((v) => f.refs.some((q) => q.view === v)) && mm.b.buffer !== sum.buffer && mm.out.buffer !== sum.buffer) {
        const view: View<unknown> = { buffer: sum.buffer, dtype: 'float32', shape: [N], strides: [1], offset: sum.offset };
        rowSums.set(j, { view, ref: { view, slot: sumRef.slot, logical: sumRef.logical } });
        dropped.add(i);
        return;
      }
      if (!movablePast(f, [x.buffer], [sum.buffer])) return;
    }
  });
  return { dropped, rowSums };
}

/**
 * The matmul at `entries[i]` with the elementwise run that reads its product as one
 * `matmulEpilogue` entry: the entries it was moved past (at most MAX_SKIPPED, before the run's first
 * step), the entry, and the index after the run; or null where no run reads the product.
 */
function epilogueAt(
  entries: readonly Entry[], i: number, needed: (r: Ref, end: number) => boolean, rowSums: ReadonlyMap<number, RowSums>, dropped: ReadonlySet<number>,
  alone = false,
): { moved: number[]; entry: KernelEntry; next: number } | null {
  const e = entries[i];
  const mm = e === undefined ? null : epilogueMatmul(e);
  if (e === undefined || e.kind !== 'kernel' || mm === null) return null;
  const refOf = (v: View<unknown>): Ref | null => e.refs.find((r) => r.view === v) ?? null;
  const [aRef, bRef, outRef] = [refOf(mm.a), refOf(mm.b), refOf(mm.out)];
  if (aRef === null || bRef === null || outRef === null) return null;
  const sums = rowSums.get(i) ?? null;
  const withSums = (program: FusedProgram, inputs: readonly View<unknown>[], outs: readonly View<unknown>[], refs: readonly Ref[]): KernelEntry => ({
    kind: 'kernel', backend: e.backend, name: 'matmulEpilogue',
    args: [mm.a, mm.b, program, inputs, outs, sums?.view ?? null],
    refs: [aRef, bRef, ...refs, ...(sums === null ? [] : [sums.ref])], rng: null,
  });
  // Only the matmul writing the row sums: the identity program.
  const justSums = (): { moved: number[]; entry: KernelEntry; next: number } | null =>
    (sums === null ? null : { moved: [], entry: withSums({ inputs: 1, steps: [], outputs: [0] }, [], [mm.out], [outRef]), next: i + 1 });
  if (alone) return justSums();
  // A and B (and the row sums) are bound besides the program's views, the product is not.
  const limit = FUSED_MAX_BUFFERS - 1 - (sums === null ? 0 : 1);
  const run = new Run(e.backend, mm.out.shape, needed, limit, { view: mm.out, ref: outRef }, new Set([mm.a.buffer, mm.b.buffer]), new Set(sums === null ? [] : [sums.view.buffer]));
  const moved: number[] = [];
  const read = [mm.a.buffer, mm.b.buffer];
  const wrote = [mm.out.buffer, ...(sums === null ? [] : [sums.view.buffer])];
  let j = i + 1;
  for (let f = entries[j]; f !== undefined; f = entries[++j]) {
    if (fusible(f) && run.tryAdd(f, j)) continue;
    if (run.entries.length > 0 || moved.length === MAX_SKIPPED || dropped.has(j) || !movablePast(f, read, wrote)) break;
    // A matmul writing row sums is moved as such: they must not meet this matmul's buffers either.
    const its = rowSums.get(j)?.view.buffer;
    if (its !== undefined && (read.includes(its) || wrote.includes(its))) break;
    moved.push(j);
  }
  if (run.entries.length === 0) return justSums();
  const fused = run.build(j - 1);
  if (fused.outs.length === 0) return justSums();
  try {
    validateFusedProgram(fused.program);
  } catch {
    return justSums();
  }
  return { moved, entry: withSums(fused.program, fused.inputs.slice(1), fused.outs, fused.refs.slice(1)), next: j };
}

// ---- layerNorm backward with the residual gradient added ---------------------------------------

/** The views of a layerNormBackward entry that could take an addend (float32 dx), or null. */
function layerNormBackwardViews(e: Entry): View<unknown>[] | null {
  if (e.kind !== 'kernel' || e.name !== 'layerNormBackward' || e.backend.kernels.layerNormBackwardAdd === undefined || e.rng !== null) return null;
  const [x, w, mean, rstd, dy, dx, dw, db] = e.args;
  const views = [x, mean, rstd, dy, dx];
  if (!views.every(isView) || ![w, dw, db].every((v) => v === null || isView(v))) return null;
  if ((dx as View<unknown>).dtype !== 'float32') return null;
  return e.args as View<unknown>[];
}

/**
 * The layerNormBackward at `entries[i]` and the float32 add that reads its dx as one
 * `layerNormBackwardAdd` entry: the entries it is moved past, the entry, and the add's index; or
 * null. The add reads dx's elements (its view, or a contiguous reshape of a contiguous dx) and an r
 * outside dx's buffer into an out outside dx's buffer; r and out take dx's shape (reshaped where
 * contiguous).
 */
function layerNormAddAt(entries: readonly Entry[], i: number, needed: (r: Ref, end: number) => boolean):
  { moved: number[]; entry: KernelEntry; at: number } | null {
  const e = entries[i];
  const args = e === undefined ? null : layerNormBackwardViews(e);
  if (e === undefined || e.kind !== 'kernel' || args === null) return null;
  const [x, w, mean, rstd, dy, dx, dw, db] = args as [View<unknown>, View<unknown> | null, View<unknown>, View<unknown>, View<unknown>, View<unknown>, View<unknown> | null, View<unknown> | null];
  const read = [x, w, mean, rstd, dy].filter((v) => v !== null).map((v) => v.buffer);
  const wrote = [dx, dw, db].filter((v) => v !== null).map((v) => v.buffer);
  const numel = (v: View<unknown>): number => v.shape.reduce((p, d) => p * d, 1);
  const contiguous = (v: View<unknown>): boolean => sameList(v.strides, contiguousStrides(v.shape));
  // The add may see dx through a reshaped view (the block's [B, T, C] over the layerNorm's [B·T, C]).
  const isDx = (v: View<unknown>): boolean => v.buffer === dx.buffer && v.offset === dx.offset && numel(v) === numel(dx) &&
    ((sameList(v.shape, dx.shape) && sameList(v.strides, dx.strides)) || (contiguous(v) && contiguous(dx)));
  // A view of the add with dx's shape, and its ref: itself, or contiguous ones reshaped (null where it cannot be).
  const asDx = (v: View<unknown>, ref: Ref): { view: View<unknown>; ref: Ref } | null => {
    if (sameList(v.shape, dx.shape)) return { view: v, ref };
    if (!contiguous(v)) return null;
    const view: View<unknown> = { buffer: v.buffer, dtype: v.dtype, shape: [...dx.shape], strides: contiguousStrides(dx.shape), offset: v.offset };
    return { view, ref: { view, slot: ref.slot, logical: ref.logical } };
  };
  const moved: number[] = [];
  for (let j = i + 1; j <= i + 1 + MAX_SKIPPED; j++) {
    const f = entries[j];
    if (f === undefined) return null;
    if (f.kind === 'kernel' && f.name === 'binary' && f.args[0] === 'add' && f.backend === e.backend) {
      const [, a, b, out] = f.args;
      if (isView(a) && isView(b) && isView(out) && (isDx(a) || isDx(b))) {
        const r = isDx(a) ? b : a;
        const refOf = (v: View<unknown>, from: KernelEntry): Ref | undefined => from.refs.find((q) => q.view === v);
        const [rRef, outRef, dxRef] = [refOf(r, f), refOf(out, f), refOf(dx, e)];
        if (r.dtype !== 'float32' || out.dtype !== 'float32' || r.buffer === dx.buffer || out.buffer === dx.buffer ||
          rRef === undefined || outRef === undefined || dxRef === undefined) return null;
        const [rv, ov] = [asDx(r, rRef), asDx(out, outRef)];
        if (rv === null || ov === null) return null;
        const writeDx = needed(dxRef, j);
        const lnRefs = e.refs.filter((q) => q.view !== dx);
        return {
          moved, at: j, entry: {
            kind: 'kernel', backend: e.backend, name: 'layerNormBackwardAdd',
            args: [x, w, mean, rstd, dy, rv.view, ov.view, writeDx ? dx : null, dw, db],
            refs: [...lnRefs, rv.ref, ov.ref, ...(writeDx ? [dxRef] : [])], rng: null,
          },
        };
      }
    }
    // Another reader of dx keeps it apart; so does anything it cannot be moved past.
    if (moved.length === MAX_SKIPPED || !movablePast(f, read, wrote)) return null;
    moved.push(j);
  }
  return null;
}

/** Joins each layerNormBackward and the add of its dx into a layerNormBackwardAdd entry (see the header), in place. */
function fuseLayerNormAdds(tape: Tape, needed: (r: Ref, end: number) => boolean): void {
  const entries = tape.entries;
  if (!entries.some((e) => layerNormBackwardViews(e) !== null)) return;
  const out: Entry[] = [];
  const done = new Set<number>();
  for (const [i, e] of entries.entries()) {
    if (done.has(i)) continue;
    const joined = layerNormAddAt(entries, i, needed);
    if (joined === null || done.has(joined.at) || joined.moved.some((k) => done.has(k))) { out.push(e); continue; }
    // The moved entries keep their order before the joined launch, which takes the add's place.
    for (const k of joined.moved) {
      const moved = entries[k];
      if (moved) out.push(moved);
      done.add(k);
    }
    out.push(joined.entry);
    done.add(joined.at);
  }
  tape.entries = out;
}

function outputLogicals(t: OutputTemplate, out: Set<number>): Set<number> {
  if (t.k === 'tensor') out.add(t.ref.logical);
  else if (t.k === 'list') for (const i of t.items) outputLogicals(i, out);
  else if (t.k === 'record') for (const [, f] of t.fields) outputLogicals(f, out);
  return out;
}

/** Replace fusible runs of `tape.entries` by fusedElementwise entries, in place. */
export function fuseTape(tape: Tape): void {
  const returned = outputLogicals(tape.output, new Set());
  // Whether a value (by its ref) is read after entry `end` of `list`: by an entry, a host action, the step's result, or a surviving tensor.
  const neededIn = (list: readonly Entry[]): ((r: Ref, end: number) => boolean) => {
    const lastRef = new Map<number, number>();
    list.forEach((e, i) => { if (e.kind !== 'host') for (const r of e.refs) if (r.logical >= 0) lastRef.set(r.logical, i); });
    return (r, end) => r.logical < 0 || tape.liveAtEnd.has(r.logical) || tape.hostRead.has(r.logical) || returned.has(r.logical) || (lastRef.get(r.logical) ?? -1) > end;
  };
  fuseLayerNormAdds(tape, neededIn(tape.entries));
  const entries = tape.entries;
  if (!entries.some((e) => e.kind === 'kernel' && e.backend.kernels.fusedElementwise !== undefined)) return;
  const needed = neededIn(entries);

  const { dropped, rowSums } = biasGradients(entries);
  const out: Entry[] = [];
  let i = 0;
  for (let e = entries[i]; e !== undefined; e = entries[i]) {
    if (dropped.has(i)) { i++; continue; }
    const epilogue = epilogueAt(entries, i, needed, rowSums, dropped);
    if (epilogue !== null) {
      for (const k of epilogue.moved) {
        const f = entries[k];
        const sums = rowSums.has(k) ? epilogueAt(entries, k, needed, rowSums, dropped, true) : null;
        if (sums !== null) out.push(sums.entry);
        else if (f !== undefined) out.push(f);
      }
      out.push(epilogue.entry);
      i = epilogue.next;
      continue;
    }
    if (!fusible(e)) { out.push(e); i++; continue; }
    const run = new Run(e.backend, operands(e).out.shape, needed);
    let j = i;
    while (j < entries.length) {
      const f = entries[j];
      if (f === undefined || !fusible(f) || !run.tryAdd(f, j)) break;
      j++;
    }
    if (run.entries.length < 2) { out.push(e); i++; continue; }
    const fused = run.build(j - 1);
    // A run whose values nothing reads afterwards is dead: it is dropped.
    if (fused.outs.length > 0) {
      try {
        validateFusedProgram(fused.program);
      } catch {
        out.push(...run.entries);
        i = j;
        continue;
      }
      out.push(fused);
    }
    i = j;
  }
  tape.entries = out;
}
