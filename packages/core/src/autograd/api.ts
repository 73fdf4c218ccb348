// The public autograd entry points: backward, gradients, grad, and user-defined differentiable ops.
import { AutogradError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { runBackward, type BackwardOptions } from './engine.js';
import { apply, defineOp } from '../ops/define.js';
import { detach } from '../ops/device.js';

/** Accumulate d(output)/d(leaf) into every leaf's `.grad`. */
export function backward(output: Tensor, grad?: Tensor | null, opts: BackwardOptions = {}): void {
  runBackward([{ tensor: output, grad: grad ?? null }], opts);
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
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  const got = runBackward(outs.map((t, i) => ({ tensor: t, grad: opts.gradOutputs?.[i] ?? null })), opts, inputs);
  return inputs.map((t, i) => {
    const g = got.get(t) ?? null;
    if (!g && !opts.allowUnused) throw new AutogradError(`gradients: input ${i} (shape [${t.shape.join(', ')}]) is not used to compute the outputs; pass { allowUnused: true }`);
    return g;
  });
}

/**
 * `grad(f)` is a function returning df/dx for each tensor argument (f must return a scalar).
 * The returned gradients are owned by the caller.
 */
export function grad(f: (...xs: Tensor[]) => Tensor): (...xs: Tensor[]) => Tensor[] {
  return (...xs: Tensor[]) => {
    const vars = xs.map((x) => detach(x).requiresGrad_(true));
    const y = f(...vars);
    const gs = gradients(y, vars, { allowUnused: true });
    y.dispose();
    const out = gs.map((g, i) => g ?? xs[i]!.mul(0));
    for (const v of vars) v.dispose();
    return out;
  };
}

export interface CustomOp<A> {
  name: string;
  forward: (inputs: Tensor[], attrs: A, save: (t: Tensor) => void) => Tensor;
  backward: (grad: Tensor, saved: Tensor[], attrs: A) => (Tensor | null)[];
}

/** A user-defined differentiable op: forward and backward written with Tensor ops. Returns the op function. */
export function customOp<A = Record<string, never>>(def: CustomOp<A>): (inputs: Tensor[], attrs?: A) => Tensor {
  const op = defineOp<A>({ name: def.name, forward: def.forward, backward: (g, s, a) => def.backward(g, s, a) });
  return (inputs, attrs) => apply(op, inputs, (attrs ?? {}) as A);
}
