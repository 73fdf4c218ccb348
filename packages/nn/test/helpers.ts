// Shared helpers for the Module/layer/loss/GPT tests: fixtures, closeness checks and a float64
// central-difference gradient check (defined in ./helpers/layer_check.ts and re-exported here),
// plus loading a fixture state dict into a module.
import type { Module } from '@webgrad/nn';
import { stateFrom, disposeAll, type JT } from './helpers/layer_check.js';

export * from './helpers/layer_check.js';

/** Load fixture tensors (already under the library's names) into `m`, strictly. */
export function loadFixtureState(m: Module, state: Record<string, JT>, opts: { dtype?: 'float32' | 'float64'; strict?: boolean } = {}): void {
  const sd = stateFrom(state, { dtype: opts.dtype });
  try {
    m.loadStateDict(sd, { strict: opts.strict ?? true });
  } finally {
    disposeAll(sd);
  }
}
