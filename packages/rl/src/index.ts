// @webgrad/rl: preference and reinforcement learning for language models — reward-model loss,
// the DPO family, PPO with a KL-penalized reward, GRPO and REINFORCE/RLOO with a reward function,
// the rollout utilities they share, and trainers on @webgrad/train's Trainer (RewardTrainer, DPOTrainer,
// PPOTrainer, GRPOTrainer).
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
export {
  collatePreferences, preferenceCollate, tokenizePreferencePair, type CollatePreferencesOptions, type PreferenceBatch, type PreferencePair,
  type PreferenceText, type PreferenceTokenizer, type TokenizePreferenceOptions,
} from './trainers/preference_data.js';
export * from './trainers/concatenated_forward.js';
export * from './trainers/reference_logprobs.js';
export type { TrainingArgs, LrScheduleType } from './trainers/training_args.js';
export { PreferenceTrainer, type PreferenceDataset, type PreferenceDataArgs, type PreferenceTrainerInput, type LogRecord } from './trainers/preference_trainer.js';
export * from './trainers/reward_trainer.js';
export * from './trainers/dpo_trainer.js';
export { optimizerStep, meanStats, mean, std } from './stats.js';
export * from './trainers/reward_functions.js';
export * from './trainers/reward_model_scorer.js';
export * from './trainers/kl_stats.js';
export { RLLoop, type RLLoopConfig, type RLTrainResult, type RLIterationHooks, type PreparedIteration, type ScoredRollout } from './trainers/rl_loop.js';
export * from './trainers/ppo_trainer.js';
export * from './trainers/grpo_trainer.js';
