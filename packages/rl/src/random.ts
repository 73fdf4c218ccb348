// Host-side randomness for the trainers (minibatch shuffling). The generator is core's
// `seededRandom`, re-exported here for code that imported it from @webgrad/rl.
import { checkFunction, checkSize } from '@webgrad/core';

export { seededRandom } from '@webgrad/core';

/** A uniformly random permutation of 0 … n − 1 (Fisher–Yates). */
export function permutation(n: number, rand: () => number): number[] {
  checkSize('permutation', 'n', n);
  checkFunction('permutation', 'rand', rand);
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}
