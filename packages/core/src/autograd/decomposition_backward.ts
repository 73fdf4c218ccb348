// Differentiable backward for fused ops. A fused kernel's backward (softmax, layerNorm,
// crossEntropy, attention) writes its gradients directly and records nothing, so under
// `createGraph` its result would be a constant and every higher derivative through it silently
// zero. Instead, when the backward is being recorded, the op's gradients are taken by
// differentiating its decomposition into primitive ops: the same values (to rounding), and a graph
// that can be differentiated again, as often as wanted.
import type { Tensor } from '../tensor.js';
import { apply, type OpDef } from '../ops/define.js';
import { isGradEnabled } from './grad_mode.js';
import { runBackward } from './engine.js';

/** y = x as a new graph node, so each input of the decomposition is a separate capture point. */
const IDENTITY: OpDef<Record<string, never>> = {
  name: 'identity',
  forward: ([x]) => x!.alias(),
  backward: (g) => [g],
};

/** True inside a backward pass that records its own graph (`createGraph`). */
export const recordingBackward = (): boolean => isGradEnabled();

/**
 * d(decomposed(inputs))/d(inputs) contracted with `g`, recorded so that it can be differentiated
 * again. `inputs[i]` is the forward input (a saved tensor that keeps its place in the graph), or
 * null where the op's decomposition does not read it; only inputs with `needs[i]` get a gradient.
 */
export function backwardThroughDecomposition(
  g: Tensor, inputs: (Tensor | null)[], needs: boolean[], decomposed: (...xs: Tensor[]) => Tensor,
): (Tensor | null)[] {
  const points = inputs.map((x, i) => (x && needs[i] && x.requiresGrad ? apply(IDENTITY, [x], {}) : x));
  const y = decomposed(...points.map((p) => p!));
  const wanted = points.filter((p, i): p is Tensor => p !== null && p !== inputs[i]);
  const got = runBackward([{ tensor: y, grad: g }], { createGraph: true }, wanted);
  return points.map((p, i) => (p && p !== inputs[i] ? got.get(p) ?? null : null));
}
