// The op-definition machinery. Every differentiable op is declared once with `defineOp`: its
// forward (validation, shape/dtype inference, the kernel it runs), which tensors its backward needs
// saved, its backward written with Tensor ops, and sample inputs for the generated gradient checks.
import type { DType } from '@webgrad/kernels';
import { isGradEnabled, setGradEnabled } from '../autograd/grad_mode.js';
import { Node, type Edge } from '../autograd/node.js';
import { DeviceError, DisposedError, fmtShape } from '../errors.js';
import { disposeOnThrow } from '../memory.js';
import { Tensor } from '../tensor.js';

/** How a gradcheck sample draws each input: a shape, and optionally a value domain. */
export interface GradInput {
  shape: number[];
  /** 'positive' draws from [0.5, 2]; 'unit' from (-0.9, 0.9); default (-2, 2) away from kinks. */
  domain?: 'any' | 'positive' | 'unit' | 'awayFromZero';
  /** Integer inputs (indices): values drawn from [0, high). Never differentiated. */
  int?: { high: number };
  /** A float input the gradient is not checked for (e.g. class weights). */
  constant?: boolean;
}

export interface GradSample {
  inputs: GradInput[];
  /** Build the op call from the sample inputs. */
  call: (...xs: Tensor[]) => Tensor;
  label?: string;
}

export interface OpDef<A> {
  name: string;
  /**
   * Compute the output. `save` keeps a tensor alive for backward (a no-op when nothing is recorded);
   * `needs[i]` says whether input i will want a gradient, so an op saves only what those gradients
   * read (a product saves neither factor when neither requires grad, one when one does).
   */
  forward: (inputs: Tensor[], attrs: A, save: (t: Tensor) => void, needs: readonly boolean[]) => Tensor;
  /**
   * Gradients for each input from the output's gradient, written with Tensor ops. `needs` says which
   * inputs want one in this pass; `inputs[i].requiresGrad` is what `save` was told at record time.
   */
  backward?: (grad: Tensor, saved: Tensor[], attrs: A, needs: boolean[], inputs: ReadonlyArray<InputMeta>) => (Tensor | null | undefined)[];
  /** Samples for the generated finite-difference gradient tests. */
  gradcheck?: GradSample[];
}

/** What a backward knows of each input besides the saved tensors. */
export interface InputMeta { shape: readonly number[]; dtype: DType; requiresGrad: boolean }

/** Every op defined with `defineOp`, by name: the source for the generated op tests and docs. */
export const OP_TABLE = new Map<string, OpDef<any>>();

export function defineOp<A>(def: OpDef<A>): OpDef<A> {
  OP_TABLE.set(def.name, def);
  return def;
}

export function checkInputs(op: string, inputs: Tensor[]): void {
  let dev: string | undefined;
  for (let i = 0; i < inputs.length; i++) {
    const t = inputs[i]!;
    if (t.isDisposed) throw new DisposedError(`${op}: input ${i} (shape ${fmtShape(t.shape)}) was used after dispose()`);
    if (dev === undefined) dev = t.device;
    else if (t.device !== dev) {
      throw new DeviceError(`${op}: expected all tensors on one device, got ${inputs.map((x) => `${x.device} ${fmtShape(x.shape)}`).join(', ')}; move them with .to(device)`);
    }
  }
}

const noSave = (): void => {};

/** Run an op: validate, compute, and record a graph node when gradients are wanted. */
export function apply<A>(def: OpDef<A>, inputs: Tensor[], attrs: A): Tensor {
  checkInputs(def.name, inputs);
  let recording = false;
  if (def.backward !== undefined && isGradEnabled()) {
    for (let i = 0; i < inputs.length && !recording; i++) recording = inputs[i]!.requiresGrad;
  }
  const saved: Tensor[] = [];
  const originals: Tensor[] = [];
  const save = recording ? (t: Tensor) => { originals.push(t); saved.push(t.alias({ internal: true })); } : noSave;
  // A forward written with Tensor ops (user-defined ops) must not record its own inner graph.
  const prev = isGradEnabled();
  setGradEnabled(false);
  let out: Tensor;
  try {
    const needs = inputs.map((t) => recording && t.requiresGrad);
    out = disposeOnThrow(() => def.forward(inputs, attrs, save, needs));
  } catch (e) {
    for (const a of saved) a.dispose();
    throw e;
  } finally {
    setGradEnabled(prev);
  }
  if (!recording) return out;
  const edges: Edge[] = inputs.map((t) => ({
    node: t.gradFn,
    leaf: t.gradFn ? null : t.requiresGrad ? (t.leafSource ?? t) : null,
    needsGrad: t.requiresGrad,
    shape: t.shape,
    dtype: t.dtype,
  }));
  const meta = inputs.map((t) => ({ shape: t.shape, dtype: t.dtype, requiresGrad: t.requiresGrad }));
  const backward = def.backward!;
  const node = new Node(def.name, edges, saved, (g, s, needs) => backward(g, s, attrs, needs, meta), out.shape, out.dtype);
  out.requiresGrad = true;
  out.gradFn = node;
  node.incRef();
  // Saved aliases keep their place in the graph, so a backward run with createGraph can be
  // differentiated again: an input's alias points at the input's node (or leaf); the output's alias
  // points weakly at this node (a strong link would be a cycle).
  saved.forEach((a, i) => {
    const o = originals[i]!;
    if (o === out) { a.requiresGrad = true; a.gradFn = node; a.weakGradFn = true; return; }
    linkGraph(a, o);
  });
  return out;
}

/** Give `alias` (a new tensor over `of`'s storage) `of`'s place in the autograd graph. */
function linkGraph(alias: Tensor, of: Tensor): Tensor {
  if (!of.requiresGrad) return alias;
  alias.requiresGrad = true;
  if (of.gradFn) {
    alias.gradFn = of.gradFn;
    of.gradFn.incRef();
  } else alias.leafSource = of.leafSource ?? of;
  return alias;
}

/**
 * A new tensor object over `t`'s storage that stands where `t` stands in the graph: gradients that
 * flow into it flow on to `t`'s producer (or leaf). A plain `alias()` is a constant; passing a
 * gradient on through one would cut the graph of a higher-order derivative.
 */
export function graphAlias(t: Tensor): Tensor {
  return linkGraph(t.alias(), t);
}
