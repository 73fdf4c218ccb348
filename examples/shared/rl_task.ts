// What the RL examples on a checkable task (rft-grpo, rlhf-ppo) share: the command line (flags →
// options, range checks, the device), the SFT policy trained (or reloaded) in <out>/sft, and the
// training and held-out prompts.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom, type DeviceName } from '@webgrad/core';
import type { ProgressStream } from '@webgrad/train';
import { parseFlags, type FlagSpecs } from './args.js';
import { EOS, readPromptJsonl, taskPrompts, taskTokenizer, type CheckableTask } from './checkable_tasks.js';
import type { CharTokenizer } from './char_tokenizer.js';
import { runExample } from './cli.js';
import { selectDevice, type DeviceChoice } from './device.js';
import { trainTaskPolicy, type TaskPolicy } from './task_policy.js';

/** The options of an RL example that this setup reads. */
export interface RlTaskOptions {
  device: DeviceName;
  seed: number;
  out: string;
  /** A JSONL file of { "prompt": "..." } records to train on (default: generated prompts). */
  data?: string;
  sftExamples: number;
  sftNoise: number;
  sftSteps: number;
  evalPrompts: number;
  stream?: ProgressStream;
  tty?: boolean;
  fsync?: boolean;
}

/** The model shape of the SFT policy (and of the models made like it). */
export interface RlTaskModel { nLayer: number; nHead: number; nEmbd: number; blockSize: number }

export interface RlTask {
  say: (s: string) => void;
  tok: CharTokenizer;
  /** The end token (also the padding). */
  eos: number;
  maxNewTokens: number;
  /** The progress options of every stage. */
  quiet: { stream?: ProgressStream; tty?: boolean; fsync?: boolean };
  sft: TaskPolicy;
}

/** The `--flag` of an option key (`promptsPerBatch` → `--prompts-per-batch`). */
export const flagName = (k: string): string => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/**
 * `main` of an RL example: flags over `defaults` and `extra` (the caller's options, e.g. a test's
 * stream), `checkRanges` (throws UsageError), the device, then `run`.
 */
export async function runRlExample<O extends { device: DeviceName }, R>(
  argv: readonly string[],
  cli: { command: string; summary: string; flags: FlagSpecs; defaults: O; extra: Partial<O>; checkRanges: (o: O) => void },
  run: (o: O) => Promise<R>,
): Promise<R | null> {
  const parse = (args: readonly string[]) => {
    const flags = parseFlags(args, cli.flags);
    const opts = { ...cli.defaults, ...cli.extra } as O;
    let device: DeviceChoice = 'cpu';
    if (flags.help) return { opts, device, help: true };
    for (const [k, v] of Object.entries(flags)) {
      if (v === undefined) continue;
      if (k === 'device') device = v as DeviceChoice;
      else (opts as unknown as Record<string, unknown>)[k] = v;
    }
    cli.checkRanges(opts);
    return { opts, device, help: false };
  };
  return runExample(argv, { command: cli.command, summary: cli.summary, flags: cli.flags, parse }, async ({ opts, device }) => {
    opts.device = await selectDevice(device);
    return await run(opts);
  });
}

/** Create `out`, then train (or reload) the SFT policy of `task` in <out>/sft. */
export async function setUpRlTask(task: CheckableTask, o: RlTaskOptions, model: RlTaskModel): Promise<RlTask> {
  const stream = o.stream ?? process.stdout;
  const say = (s: string) => { stream.write(`${s}\n`); };
  const tok = taskTokenizer();
  const eos = tok.encode(EOS)[0]!;
  const maxNewTokens = task.maxCompletion;
  mkdirSync(o.out, { recursive: true });
  const quiet = { stream: o.stream, tty: o.tty, fsync: o.fsync };
  const sft = await trainTaskPolicy({
    task, tokenizer: tok, device: o.device, seed: o.seed, examples: o.sftExamples, noise: o.sftNoise, steps: o.sftSteps, batchSize: 32, lr: 3e-3,
    ...model, dir: join(o.out, 'sft'), say, ...quiet,
  });
  return { say, tok, eos, maxNewTokens, quiet, sft };
}

/** The training prompts (`data`, or `generated` made with seed + 11) and `evalPrompts` held-out ones (seed + 12). */
export function rlTaskPrompts(task: CheckableTask, o: RlTaskOptions, generated: number, t: RlTask): { train: string[]; held: string[] } {
  const train = o.data ? readPromptJsonl(o.data, t.tok) : taskPrompts(task, generated, seededRandom(o.seed + 11));
  const held = taskPrompts(task, o.evalPrompts, seededRandom(o.seed + 12));
  t.say(`prompts: ${train.length} for training (${o.data ?? 'generated'}), ${held.length} held out`);
  return { train, held };
}
