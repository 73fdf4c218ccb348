// `pnpm example ppo-cartpole [flags]`: solve CartPole-v1 with actor-critic PPO. See --help.
import { pathToFileURL } from 'node:url';
import { UsageError, parseFlags, usage, type FlagSpecs } from '../shared/args.js';
import { releaseDevices, selectDevice, type DeviceChoice } from '../shared/device.js';
import { DEFAULTS, ppoCartPole, type PPOCartPoleOptions, type PPOCartPoleResult } from './ppo_cartpole.js';

const d = DEFAULTS;
export const FLAGS: FlagSpecs = {
  'device': { type: 'string', help: 'where to train', choices: ['cpu', 'webgpu', 'auto'], default: 'cpu' },
  'seed': { type: 'int', help: 'seed of the generators and environments', default: d.seed },
  'total-steps': { type: 'int', help: 'environment steps at most (summed over environments)', default: d.totalSteps },
  'num-envs': { type: 'int', help: 'environments stepped together', default: d.numEnvs },
  'rollout-steps': { type: 'int', help: 'steps per environment per rollout', default: d.rolloutSteps },
  'lr': { type: 'number', help: 'Adam learning rate (annealed linearly to 0)', default: d.lr },
  'update-epochs': { type: 'int', help: 'passes over each rollout', default: d.updateEpochs },
  'minibatches': { type: 'int', help: 'minibatches per pass', default: d.minibatches },
  'gamma': { type: 'number', help: 'discount', default: d.gamma },
  'lam': { type: 'number', help: 'GAE lambda', default: d.lam },
  'clip': { type: 'number', help: 'PPO clip range (policy and value)', default: d.clip },
  'ent-coef': { type: 'number', help: 'entropy bonus coefficient', default: d.entCoef },
  'target-return': { type: 'number', help: 'stop once the last 20 episodes average this (0: run all steps)', default: d.targetReturn },
  'eval-episodes': { type: 'int', help: 'evaluation episodes after training', default: d.evalEpisodes },
  'out': { type: 'string', help: 'output directory (metrics.jsonl, returns.svg)', default: d.out },
};

export async function main(argv: readonly string[]): Promise<PPOCartPoleResult | null> {
  let flags;
  try {
    flags = parseFlags(argv, FLAGS);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`error: ${e.message}\n\n${usage('pnpm example ppo-cartpole', 'Solve CartPole-v1 with PPO.', FLAGS)}`);
    process.exitCode = 2;
    return null;
  }
  if (flags.help) {
    console.log(usage('pnpm example ppo-cartpole', 'Solve CartPole-v1 (mean return ≥ 475 over 100 episodes) with actor-critic PPO.', FLAGS));
    return null;
  }
  const opts = { ...DEFAULTS } as PPOCartPoleOptions;
  for (const [k, v] of Object.entries(flags)) if (v !== undefined && k !== 'device') (opts as unknown as Record<string, unknown>)[k] = v;
  try {
    opts.device = await selectDevice((flags.device as DeviceChoice | undefined) ?? 'cpu');
    return await ppoCartPole(opts);
  } finally {
    await releaseDevices();
  }
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(entry).href) await main(process.argv.slice(2));
