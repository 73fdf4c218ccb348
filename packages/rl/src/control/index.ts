// Classic control: environments, experience storage and advantage estimation for on-policy RL.
export * from './env.js';
export * from './cartpole.js';
export * from './advantages.js';
export * from './rollout_buffer.js';
