// @webgrad/rl: preference and reinforcement learning for language models — reward-model loss,
// the DPO family, PPO with a KL-penalized reward, GRPO and REINFORCE/RLOO with a reward function,
// and the rollout utilities they share.
export * from './masked.js';
export * from './backbone.js';
export * from './reward_model.js';
export * from './dpo.js';
export * from './kl.js';
export * from './gae.js';
export * from './rollout.js';
export * from './reference.js';
export * from './ppo.js';
export * from './grpo.js';
export * from './reinforce.js';
export { seededRandom, permutation } from './random.js';
export * from './distributions.js';
export * from './control/index.js';
