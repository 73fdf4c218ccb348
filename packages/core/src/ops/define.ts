// The op-definition machinery. Every differentiable op is declared once with `defineOp`: its
// forward (validation, shape/dtype inference, the kernel it runs), which tensors its backward needs
// saved, its backward written with Tensor ops, and sample inputs for the generated gradient checks.
//
// An op's inputs are a typed tuple (`defineOp<[Tensor, Tensor], Attrs, Saved>`), with `null` in the
// slot of an absent optional input (a layerNorm without bias); its forward saves tensors under names
// (`save('x', x)`), and its backward reads them back by name from its context (`ctx.saved.x`),
// together with the attributes, which inputs want a gradient, and each input's shape and dtype.
import type { DType } from '@webgrad/kernels';
import { isGradEnabled, setGradEnabled } from '../autograd/grad_mode.js';
import { Node, type Edge } from '../autograd/node.js';
import { AutogradError, DeviceError, DisposedError, fmtShape } from '../errors.js';
import { disposeOnThrow } from '../memory.js';
import type { Tensor } from '../tensor.js';

/** How a gradcheck sample draws each input: a shape, and optionally a value domain. */
export interface GradInput {
  /** The input's shape. */
  shape: number[];
  /** 'positive' draws from [0.5, 2]; 'unit' from (-0.9, 0.9); default (-2, 2) away from kinks. */
  domain?: 'any' | 'positive' | 'unit' | 'awayFromZero';
  /** Integer inputs (indices): values drawn from [0, high). Never differentiated. */
  int?: {
    /** Exclusive upper bound of the drawn integers. */
    high: number;
  };
  /** A float input the gradient is not checked for (e.g. class weights). */
  constant?: boolean;
}

/** A finite-difference gradient test case for an op: random inputs and the call on them. */
export interface GradSample {
  /** The inputs, drawn in float64. */
  inputs: GradInput[];
  /** Build the op call from the sample inputs. */
  call: (...xs: Tensor[]) => Tensor;
  /** Name of the case in test output. */
  label?: string;
}

/** An op's inputs: a tuple of tensors, null where an optional input is absent (or a list of any length). */
export type OpInputs = readonly (Tensor | null)[];
/** The tensors a forward saves for its backward, by name. */
export type SavedTensors<S> = Record<keyof S, Tensor>;
/** No attributes, or nothing saved. */
export type None = Record<string, never>;

/** What a backward knows of an input besides the saved tensors. */
export interface InputMeta { shape: readonly number[]; dtype: DType; requiresGrad: boolean }

/** One flag per input. */
export type InputFlags<I extends OpInputs> = { readonly [K in keyof I]: boolean };
/** One meta per input; null in the slot of an absent optional input. */
export type InputMetas<I extends OpInputs> = { readonly [K in keyof I]: I[K] extends Tensor ? InputMeta : InputMeta | null };
/** A gradient per input: null (or undefined) where none is wanted or the input is not differentiable. */
export type InputGrads<I extends OpInputs> = { [K in keyof I]: Tensor | null | undefined };

/** `save(name, t)` keeps `t` alive for the backward under `name` (a no-op when nothing is recorded). */
export type Save<S> = (name: keyof S & string, t: Tensor) => void;

/** Everything a backward reads. */
export interface OpContext<I extends OpInputs, A, S extends SavedTensors<S>> {
  /** The tensors the forward saved, by name. Reading one the forward did not save is an AutogradError. */
  readonly saved: Readonly<S>;
  readonly attrs: A;
  /** Whether each input wants a gradient in this pass. */
  readonly needs: InputFlags<I>;
  /** Each input's shape and dtype, and whether it required grad when the forward ran (what `save` was told). */
  readonly inputs: InputMetas<I>;
}

/** A differentiable op, declared once with `defineOp`: its forward (validation, output, kernel call, saved tensors), backward and gradcheck samples. */
export interface OpDef<I extends OpInputs = readonly Tensor[], A = None, S extends SavedTensors<S> = None> {
  /** The op's name, used in errors and in the graph. */
  name: string;
  /**
   * Compute the output. `needs[i]` says whether input i will want a gradient, so an op saves only
   * what those gradients read (a product saves neither factor when neither requires grad, one when
   * one does).
   */
  forward: (inputs: I, attrs: A, save: Save<S>, needs: InputFlags<I>) => Tensor;
  /** Gradients for each input from the output's gradient `g`, written with Tensor ops. */
  backward?: (g: Tensor, ctx: OpContext<I, A, S>) => InputGrads<I>;
  /** Samples for the generated finite-difference gradient tests. */
  gradcheck?: GradSample[];
}

/** An op definition of any signature, as the op table holds them. */
export type AnyOpDef = OpDef<any, any, any>;

/** Every op defined with `defineOp`, by name: the source for the generated op tests and docs. */
export const OP_TABLE = new Map<string, AnyOpDef>();

/** Declare an op and enter it in `OP_TABLE`. */
export function defineOp<I extends OpInputs, A = None, S extends SavedTensors<S> = None>(def: OpDef<I, A, S>): OpDef<I, A, S> {
  OP_TABLE.set(def.name, def);
  return def;
}

/** The inputs are live and on one device. */
export function checkInputs(op: string, inputs: OpInputs): void {
  let dev: string | undefined;
  for (let i = 0; i < inputs.length; i++) {
    const t = inputs[i];
    if (t === null) continue;
    if (t.isDisposed) throw new DisposedError(`${op}: input ${i} (shape ${fmtShape(t.shape)}) was used after dispose()`);
    if (dev === undefined) dev = t.device;
    else if (t.device !== dev) {
      const all = inputs.filter((x): x is Tensor => x !== null).map((x) => `${x.device} ${fmtShape(x.shape)}`);
      throw new DeviceError(`${op}: expected all tensors on one device, got ${all.join(', ')}; move them with .to(device)`);
    }
  }
}

const noSave = (): void => {};

/**
 * The prototype of an op's saved-tensor records: a name the forward did not save falls through to
 * it and is an error, not undefined. One per op name, so a backward call builds a plain object.
 */
const missingSaved = new Map<string, object>();
function savedPrototype(op: string): object {
  let proto = missingSaved.get(op);
  if (proto === undefined) {
    proto = new Proxy(Object.create(null) as object, {
      get(_t, key, receiver: Record<string, Tensor>) {
        if (typeof key !== 'string' || key === 'then') return undefined;
        const saved = Object.keys(receiver);
        throw new AutogradError(`'${op}': its backward read the saved tensor '${key}', which the forward did not save (saved: ${saved.join(', ') || 'none'})`);
      },
    });
    missingSaved.set(op, proto);
  }
  return proto;
}

/** The saved tensors of one backward call, by name. */
function savedRecord(op: string, names: readonly string[], tensors: Tensor[]): Record<string, Tensor> {
  const record = Object.create(savedPrototype(op)) as Record<string, Tensor>;
  for (let i = 0; i < names.length; i++) record[names[i]] = tensors[i];
  return record;
}

/**
 * Sees (and may substitute) the inputs of every op before it runs. Activation checkpointing uses it
 * to find the tensors a function reads from its closure (module parameters) and, when it recomputes
 * the function, to give those reads its own graph positions. Not part of the public API.
 */
export type InputHook = (inputs: OpInputs) => OpInputs;
let inputHook: InputHook | null = null;
/** Install `hook` (null: none); returns the one it replaces. */
export function swapInputHook(hook: InputHook | null): InputHook | null {
  const prev = inputHook;
  inputHook = hook;
  return prev;
}

const absentEdge = (): Edge => ({ node: null, leaf: null, needsGrad: false, shape: [], dtype: 'float32' });

/** Run an op: validate, compute, and record a graph node when gradients are wanted. */
export function apply<I extends OpInputs, A, S extends SavedTensors<S>>(def: OpDef<I, A, S>, inputs: NoInfer<I>, attrs: NoInfer<A>): Tensor {
  if (inputHook !== null) inputs = inputHook(inputs) as NoInfer<I>;
  checkInputs(def.name, inputs);
  let recording = false;
  if (def.backward !== undefined && isGradEnabled()) {
    for (const t of inputs) if (t !== null && t.requiresGrad) { recording = true; break; }
  }
  const names: string[] = [];
  const saved: Tensor[] = [];
  const originals: Tensor[] = [];
  const save: Save<S> = recording ? (name, t) => {
    if (names.includes(name)) throw new AutogradError(`'${def.name}': the forward saved '${name}' twice`);
    names.push(name); originals.push(t); saved.push(t.alias({ internal: true }));
  } : noSave;
  // A forward written with Tensor ops (user-defined ops) must not record its own inner graph.
  const prev = isGradEnabled();
  setGradEnabled(false);
  let out: Tensor;
  try {
    const needs = inputs.map((t) => recording && t !== null && t.requiresGrad) as unknown as InputFlags<I>;
    out = disposeOnThrow(() => def.forward(inputs, attrs, save, needs));
  } catch (e) {
    for (const a of saved) a.dispose();
    throw e;
  } finally {
    setGradEnabled(prev);
  }
  const backward = def.backward;
  if (!recording || backward === undefined) return out;
  const edges: Edge[] = inputs.map((t) => (t === null ? absentEdge() : {
    node: t.gradFn,
    leaf: t.gradFn ? null : t.requiresGrad ? (t.leafSource ?? t) : null,
    needsGrad: t.requiresGrad,
    shape: t.shape,
    dtype: t.dtype,
  }));
  const metas = inputs.map((t) => (t === null ? null : { shape: t.shape, dtype: t.dtype, requiresGrad: t.requiresGrad })) as unknown as InputMetas<I>;
  const node = new Node(def.name, edges, saved, (g, s, needs) => backward(g, {
    saved: savedRecord(def.name, names, s) as S,
    attrs,
    needs: needs as unknown as InputFlags<I>,
    inputs: metas,
  }) as (Tensor | null | undefined)[], out.shape, out.dtype);
  out.requiresGrad = true;
  out.gradFn = node;
  node.incRef();
  // Saved aliases keep their place in the graph, so a backward run with createGraph can be
  // differentiated again: an input's alias points at the input's node (or leaf); the output's alias
  // points weakly at this node (a strong link would be a cycle).
  saved.forEach((a, i) => {
    const o = originals[i] as Tensor;
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
