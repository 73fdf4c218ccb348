// What the preference examples (dpo, reward-model) share before training: the device, the
// instruction-tuned GPT from sft's output (fine-tuned there first if missing), the preference pairs
// that fit its context (generated sort pairs or a user's JSONL, prompts in sft's template or as
// they are), their checks of those options, and the held-out metrics before and after a run.
import { join } from 'node:path';
import { ValueError, checkBool, checkEnum, checkInt, checkRange, checkSize, type DeviceName } from '@webgrad/core';
import type { PreferenceRecord } from '@webgrad/data';
import type { ProgressStream, TrainResult } from '@webgrad/train';
import type { SftOptions } from '../sft/sft.js';
import { END, formatPrompt } from '../sft/prompt.js';
import { selectDevice, type DeviceChoice } from './device.js';
import type { PretrainedGpt } from './pretrained_gpt.js';
import { loadOrSftGpt } from './sft_gpt.js';
import { loadPreferencePairs } from './sort_preferences.js';

/** The options of a preference example that this setup reads. */
export interface PreferenceTaskOptions {
  device: DeviceChoice | DeviceName;
  /** The sft output directory (or a checkpoint directory) to start from. */
  sft: string;
  /** Settings of the sft run made when `sft` holds no checkpoint (tests: a tiny one). */
  sftOptions?: Partial<SftOptions>;
  /** A JSONL file of { prompt, chosen, rejected } records (default: generated sort pairs). */
  data?: string;
  /** Held-out records (default: 10% of `data`, or generated held-out pairs). */
  evalData?: string;
  /** How the prompts of `data` are given to the model: in sft's prompt template ('sft': the prompt is
   *  the instruction) or as they are ('none'). */
  promptTemplate: 'sft' | 'none';
  /** Generated training and held-out pairs. */
  trainPairs: number;
  evalPairs: number;
  epochs: number;
  batchSize: number;
  lr: number;
  warmup: number;
  /** Held-out prompts to sample answers to, and answers per prompt. */
  samplePrompts: number;
  samplesPerPrompt: number;
  temperature: number;
  seed: number;
  out: string;
  resume: boolean;
  stream?: ProgressStream;
  tty?: boolean;
  fsync?: boolean;
}

/** The sft model, the pairs and the text they are written in (for growing the vocabulary). */
export interface PreferenceTask {
  device: DeviceName;
  stream: ProgressStream;
  say: (s: string) => void;
  sft: PretrainedGpt;
  pairs: { train: PreferenceRecord[]; eval: PreferenceRecord[]; source: string; generated: boolean };
  /** Every character of the pairs and the end token. */
  text: string;
}

/** Check the options the preference examples share (errors name `op`). */
export function checkPreferenceTaskOptions(op: string, o: PreferenceTaskOptions): void {
  checkEnum(op, 'device', o.device, ['auto', 'cpu', 'webgpu']);
  checkEnum(op, 'promptTemplate', o.promptTemplate, ['sft', 'none']);
  for (const k of ['trainPairs', 'evalPairs', 'epochs', 'batchSize', 'samplesPerPrompt'] as const) checkSize(op, k, o[k], 1);
  checkSize(op, 'samplePrompts', o.samplePrompts);
  checkSize(op, 'warmup', o.warmup);
  checkRange(op, 'lr', o.lr, 0, Infinity, { lo: true });
  checkRange(op, 'temperature', o.temperature, 0, Infinity, { lo: true });
  checkBool(op, 'resume', o.resume);
  checkInt(op, 'seed', o.seed);
  if (typeof o.sft !== 'string' || o.sft === '') throw new ValueError(`${op}: sft must be a directory, got ${String(o.sft)}`);
  if (typeof o.out !== 'string' || o.out === '') throw new ValueError(`${op}: out must be a directory, got ${String(o.out)}`);
}

/** Select the device, load (or make) the sft model and load the pairs that fit its context. */
export async function setUpPreferenceTask(o: PreferenceTaskOptions): Promise<PreferenceTask> {
  const stream = o.stream ?? process.stdout;
  const say = (s: string) => { stream.write(`${s}\n`); };
  const device: DeviceName = o.device === 'auto' || o.device === 'cpu' || o.device === 'webgpu' ? await selectDevice(o.device, say) : o.device;
  const sft = await loadOrSftGpt({ dir: o.sft, device, say, sft: o.sftOptions, stream, tty: o.tty, fsync: o.fsync });
  const blockSize = sft.config.blockSize;
  // Prompt + the longer answer + the end token must fit the context (characters are tokens).
  const fits = (r: PreferenceRecord) => [...r.prompt].length + Math.max([...r.chosen].length, [...r.rejected].length) + 1 <= blockSize;
  const formatUserPrompt = o.promptTemplate === 'sft' ? (p: string) => formatPrompt({ instruction: p, input: '' }) : undefined;
  const pairs = await loadPreferencePairs({ ...o, dir: join(o.out, 'data'), formatPrompt: formatUserPrompt }, fits, say);
  say(`data: ${pairs.train.length} training / ${pairs.eval.length} held-out pairs from ${pairs.source}; a pair: ${JSON.stringify(pairs.train[0])}`);
  const text = [...pairs.train, ...pairs.eval].map((r) => r.prompt + r.chosen + r.rejected + END).join('');
  return { device, stream, say, sft, pairs, text };
}

/** The held-out loss and metrics of a run's first and last evaluations. */
export function evalBeforeAfter(train: TrainResult): { before: Record<string, number>; after: Record<string, number> } {
  const first = train.evals[0]!;
  const last = train.evals[train.evals.length - 1]!;
  return { before: { eval_loss: first.losses.eval!, ...first.metrics }, after: { eval_loss: last.losses.eval!, ...last.metrics } };
}
