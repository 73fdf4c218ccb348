// The public autograd entry points: backward, gradients, grad, and user-defined differentiable ops.
import { AutogradError, ValueError } from '../errors.js';
import { checkBool, checkFunction, checkOptions, checkTensor, fmtValue } from '../validate.js';
import type { Tensor } from '../tensor.js';
import { runBackward, type BackwardOptions } from './engine.js';
import { apply, defineOp } from '../ops/define.js';
import { detach } from '../ops/device.js';
import { disposeOnThrow } from '../memory.js';

const BACKWARD_KEYS = ['retainGraph', 'createGraph'];

/** Validated backward options: known keys, and booleans where booleans go. */
function backwardOptions<T extends BackwardOptions & { allowUnused?: boolean }>(op: string, opts: T | undefined, keys: readonly string[]): T {
  const o = checkOptions(op, opts, keys);
  for (const k of ['retainGraph', 'createGraph', 'allowUnused'] as const) if (o[k] !== undefined) checkBool(op, k, o[k]);
  return o;
}

/** Accumulate d(output)/d(leaf) into every leaf's `.grad`. */
export function backward(output: Tensor, grad?: Tensor | null, opts: BackwardOptions = {}): void {
  checkTensor('backward', 'output', output);
  if (grad != null) checkTensor('backward', 'grad', grad);
  backwardOptions('backward', opts, BACKWARD_KEYS);
  disposeOnThrow(() => runBackward([{ tensor: output, grad: grad ?? null }], opts));
}

/**
 * Gradients of `outputs` with respect to `inputs`, returned in order, without touching `.grad`
 * (like torch.autograd.grad). An input the outputs do not depend on gets null, or an error unless
 * `allowUnused`.
 */
export function gradients(
  outputs: Tensor | Tensor[], inputs: Tensor[],
  opts: BackwardOptions & { gradOutputs?: (Tensor | null)[]; allowUnused?: boolean } = {},
): (Tensor | null)[] {
  backwardOptions('gradients', opts, [...BACKWARD_KEYS, 'gradOutputs', 'allowUnused']);
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  outs.forEach((t, i) => checkTensor('gradients', `outputs[${i}]`, t));
  if (!Array.isArray(inputs)) throw new ValueError(`gradients: inputs must be an array of tensors, got ${fmtValue(inputs)}`);
  inputs.forEach((t, i) => checkTensor('gradients', `inputs[${i}]`, t));
  if (opts.gradOutputs !== undefined && !Array.isArray(opts.gradOutputs)) {
    throw new ValueError(`gradients: gradOutputs must be an array with one gradient (or null) per output, got ${fmtValue(opts.gradOutputs)}`);
  }
  const got = disposeOnThrow(() => runBackward(outs.map((t, i) => ({ tensor: t, grad: opts.gradOutputs?.[i] ?? null })), opts, inputs));
  return inputs.map((t, i) => {
    const g = got.get(t) ?? null;
    if (!g && !opts.allowUnused) {
      for (const r of got.values()) r.dispose();
      throw new AutogradError(`gradients: input ${i} (shape [${t.shape.join(', ')}]) is not used to compute the outputs; pass { allowUnused: true }`);
    }
    return g;
  });
}

/**
 * `grad(f)` is a function returning df/dx for each tensor argument (f must return a scalar).
 * The returned gradients are owned by the caller.
 */
export function grad(f: (...xs: Tensor[]) => Tensor): (...xs: Tensor[]) => Tensor[] {
  checkFunction('grad', 'f', f);
  return (...xs: Tensor[]) => {
    const vars = xs.map((x) => detach(x).requiresGrad_(true));
    const y = f(...vars);
    const gs = gradients(y, vars, { allowUnused: true });
    y.dispose();
    const out = gs.map((g, i) => g ?? xs[i].mul(0));
    for (const v of vars) v.dispose();
    return out;
  };
}

/** The definition `customOp` takes: a named forward and its backward, both written with Tensor ops. */
export interface CustomOp<A> {
  /** The op's name, used in errors. */
  name: string;
  /** Compute the output from `inputs`; `save(t)` keeps a tensor for the backward, in order. */
  forward: (inputs: Tensor[], attrs: A, save: (t: Tensor) => void) => Tensor;
  /** One gradient per input (null where none) from the output's gradient and the saved tensors. */
  backward: (grad: Tensor, saved: Tensor[], attrs: A) => (Tensor | null)[];
}

/** A user-defined differentiable op: forward and backward written with Tensor ops. Returns the op function. */
export function customOp<A = Record<string, never>>(def: CustomOp<A>): (inputs: Tensor[], attrs?: A) => Tensor {
  const d = checkOptions('customOp', def, ['name', 'forward', 'backward'], 'def');
  if (typeof d.name !== 'string' || d.name === '') throw new ValueError(`customOp: def.name must be a non-empty string, got ${fmtValue(d.name)}`);
  checkFunction('customOp', 'def.forward', d.forward);
  checkFunction('customOp', 'def.backward', d.backward);
  // Saved tensors keep the order the user's forward saved them in, under their positions as names.
  const op = defineOp<Tensor[], A, Record<string, Tensor>>({
    name: def.name,
    forward: (inputs, attrs, save) => {
      let n = 0;
      return def.forward(inputs, attrs, (t) => save(String(n++), t));
    },
    backward: (g, { saved, attrs }) => def.backward(g, Object.values(saved), attrs),
  });
  return (inputs, attrs) => {
    if (!Array.isArray(inputs)) throw new ValueError(`${def.name}: inputs must be an array of tensors, got ${fmtValue(inputs)}`);
    inputs.forEach((t, i) => checkTensor(def.name, `inputs[${i}]`, t));
    return apply(op, inputs, (attrs ?? {}) as A);
  };
}

/** This file's Tensor method: `y.backward()` is `backward(y)`. */
export const AUTOGRAD_METHODS = { backward };
