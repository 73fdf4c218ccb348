// A frozen reference policy: a copy of a GPT with gradients off, in eval mode, as the KL penalty of
// PPO/GRPO/REINFORCE and DPO's reference need.
import { GPT } from '@webgrad/nn';
import { checkGPT } from './args.js';

/** A new GPT with `policy`'s configuration and a copy of its current weights, frozen (no gradients)
 *  and in eval mode. Dispose it with `ref.dispose()` when done. */
export function createReferenceModel(policy: GPT): GPT {
  checkGPT('createReferenceModel', 'policy', policy);
  const ref = new GPT(policy.config);
  ref.loadStateDict(policy.stateDict());
  ref.requiresGrad_(false);
  ref.eval();
  return ref;
}
