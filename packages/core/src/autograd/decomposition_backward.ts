// Gradients of a fused op through its decomposition into primitive ops. Two uses:
// - A fused kernel's backward (softmax, layerNorm, crossEntropy, attention) writes its gradients
//   directly and records nothing, so under `createGraph` its result would be a constant and every
//   higher derivative through it silently zero. When the backward is being recorded, the op's
//   gradients are instead taken by differentiating its decomposition: the same values (to
//   rounding), and a graph that can be differentiated again, as often as wanted.
// - On a backend without the fused kernel, the op runs decomposed and its backward is this too.
import type { Tensor } from '../tensor.js';
import { apply, type OpDef } from '../ops/define.js';
import { detach } from '../ops/device.js';
import { isGradEnabled, setGradEnabled } from './grad_mode.js';
import { runBackward } from './engine.js';

/** y = x as a new graph node, so each input of the decomposition is a separate capture point. */
const IDENTITY: OpDef<[Tensor]> = {
  name: 'identity',
  forward: ([x]) => x.alias(),
  backward: (g) => [g],
};

/** True inside a backward pass that records its own graph (`createGraph`). */
export const recordingBackward = (): boolean => isGradEnabled();

type Grads<I extends readonly (Tensor | null)[]> = { [K in keyof I]: Tensor | null };

/**
 * d(decomposed(inputs))/d(inputs) contracted with `g`. `inputs[i]` is the forward input (a saved
 * tensor that keeps its place in the graph), or null where the op's decomposition does not read
 * it; only inputs with `needs[i]` get a gradient. Inside a recorded backward the result is itself
 * recorded (it can be differentiated again); otherwise the decomposition runs on detached copies of
 * the inputs and nothing outlives the call but the gradients.
 */
export function backwardThroughDecomposition<const I extends readonly (Tensor | null)[]>(
  g: Tensor, inputs: I, needs: { readonly [K in keyof I]: boolean }, decomposed: (...xs: I) => Tensor,
): Grads<I> {
  const recording = recordingBackward();
  const wants = (x: Tensor | null, i: number): x is Tensor => x !== null && needs[i] === true && (!recording || x.requiresGrad);
  const prev = isGradEnabled();
  setGradEnabled(true);
  try {
    const points = inputs.map((x, i) => {
      if (!wants(x, i)) return x;
      return recording ? apply(IDENTITY, [x], {}) : detach(x).requiresGrad_(true);
    }) as unknown as I;
    const y = decomposed(...points);
    const wanted = points.filter((p, i): p is Tensor => p !== null && p !== inputs[i]);
    if (wanted.length === 0 || !y.requiresGrad) return inputs.map(() => null) as Grads<I>;
    const got = runBackward([{ tensor: y, grad: g }], { createGraph: recording }, wanted);
    return points.map((p, i) => (p && p !== inputs[i] ? got.get(p) ?? null : null)) as Grads<I>;
  } finally {
    setGradEnabled(prev);
  }
}
