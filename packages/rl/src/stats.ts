// Training-step plumbing shared by the trainers: one optimizer update from a loss, and reading
// per-minibatch statistic tensors back to the host as means.
import { tidy, type Tensor } from '@webgrad/core';
import { clipGradNorm, type Optimizer } from '@webgrad/optim';

/** Run `compute` (which returns a 0-d loss and 0-d statistics) inside tidy, backpropagate the loss,
 *  clip the global gradient norm (when maxGradNorm is not null), step and clear the gradients.
 *  Returns the statistics (the caller owns them) with the loss under `loss` and the pre-clip
 *  gradient norm under `gradNorm`. */
export function optimizerStep(optimizer: Optimizer, maxGradNorm: number | null, compute: () => { loss: Tensor; stats: Record<string, Tensor> }): Record<string, Tensor> {
  return tidy(() => {
    const { loss, stats } = compute();
    loss.backward();
    const out: Record<string, Tensor> = { ...stats, loss: loss.detach() };
    if (maxGradNorm !== null) out.gradNorm = clipGradNorm(optimizer.params(), maxGradNorm);
    optimizer.step();
    optimizer.zeroGrad();
    return out;
  });
}

/** Read lists of 0-d statistic tensors (one per minibatch) as their means, disposing them. */
export async function meanStats(collected: Record<string, Tensor>[]): Promise<Record<string, number>> {
  const sums: Record<string, number> = {};
  const counts: Record<string, number> = {};
  for (const rec of collected) {
    for (const [k, t] of Object.entries(rec)) {
      const v = await t.item();
      t.dispose();
      sums[k] = (sums[k] ?? 0) + v;
      counts[k] = (counts[k] ?? 0) + 1;
    }
  }
  const out: Record<string, number> = {};
  for (const k of Object.keys(sums)) out[k] = sums[k]! / counts[k]!;
  return out;
}

/** Arithmetic mean of host numbers (0 for an empty list). */
export const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
/** Sample standard deviation (n − 1 divisor) of host numbers; 0 for fewer than two. */
export function std(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}
