// The pre-trained character-level GPT that continual-pretrain, sft and lora start from: loaded from
// a pretrain-gpt output directory (its latest checkpoint: weights, model config, vocabulary), or —
// when there is none — pre-trained there first by pretrain-gpt's own run function, with a message.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DeviceName } from '@webgrad/core';
import { GPT, type GPTConfig } from '@webgrad/nn';
import { latestCheckpoint, loadCheckpoint } from '@webgrad/optim';
import type { ProgressStream } from '@webgrad/train';
import { DEFAULT_OPTIONS, pretrainGpt, type PretrainOptions } from '../pretrain-gpt/pretrain.js';
import { CharTokenizer } from './char_tokenizer.js';

/** The model settings a pretrain-gpt checkpoint stores (its `checkpointExtra`). */
export type StoredGptConfig = Omit<GPTConfig, 'device'>;

export interface PretrainedGpt {
  model: GPT;
  tokenizer: CharTokenizer;
  config: StoredGptConfig;
  /** The checkpoint directory it came from. */
  checkpoint: string;
  /** Optimizer steps the checkpoint was taken after. */
  step: number;
}

export interface LoadOrPretrainOptions {
  /** A pretrain-gpt output directory (its checkpoints/ is searched) or one checkpoint directory. */
  dir: string;
  device: DeviceName;
  /** Settings of the pre-training run made when `dir` holds no checkpoint (default pretrain-gpt's). */
  pretrain?: Partial<PretrainOptions>;
  say: (s: string) => void;
  stream?: ProgressStream;
  tty?: boolean;
  fsync?: boolean;
}

/** The checkpoint directory `dir` names (itself, or the latest in dir/checkpoints), or null. */
export async function findPretrainedCheckpoint(dir: string): Promise<string | null> {
  if (existsSync(join(dir, 'state.json'))) return dir;
  return (await latestCheckpoint(join(dir, 'checkpoints')))?.path ?? null;
}

/** Load a GPT and its vocabulary from a checkpoint written by pretrain-gpt (or by these examples). */
export async function loadPretrainedGpt(checkpoint: string, device: DeviceName): Promise<PretrainedGpt> {
  const meta = await loadCheckpoint(checkpoint, { restoreRng: false });
  const user = (meta.extra as { user?: { model?: StoredGptConfig; chars?: string } } | undefined)?.user;
  if (!user?.model || typeof user.chars !== 'string') {
    throw new Error(`${checkpoint} holds no GPT config and vocabulary (expected a checkpoint written by pretrain-gpt)`);
  }
  const model = new GPT({ ...user.model, device });
  await loadCheckpoint(checkpoint, { model, restoreRng: false });
  // Ids follow the stored order: sorted for pretrain-gpt, appended characters after an extension.
  const tokenizer = new CharTokenizer([...user.chars], { keepOrder: true });
  return { model, tokenizer, config: user.model, checkpoint: meta.path, step: meta.step };
}

/** The pre-trained GPT in `dir`, pre-training one there first when there is none. */
export async function loadOrPretrainGpt(opts: LoadOrPretrainOptions): Promise<PretrainedGpt & { pretrainedNow: boolean }> {
  let ckpt = await findPretrainedCheckpoint(opts.dir);
  let pretrainedNow = false;
  if (!ckpt) {
    const run: PretrainOptions = {
      ...DEFAULT_OPTIONS, ...opts.pretrain, out: opts.dir, device: opts.device, resume: false, sampleTokens: 0,
      stream: opts.stream, tty: opts.tty, fsync: opts.fsync, handleSigint: false,
    };
    opts.say(`no pretrain-gpt checkpoint in ${resolve(opts.dir)}: pre-training one there first (${run.steps} steps; the same as \`pnpm example pretrain-gpt --out ${opts.dir} --steps ${run.steps}\`)`);
    const r = await pretrainGpt(run);
    if (r.train.interrupted) throw new Error('pre-training was interrupted');
    ckpt = await findPretrainedCheckpoint(opts.dir);
    if (!ckpt) throw new Error(`pre-training wrote no checkpoint in ${opts.dir}`);
    pretrainedNow = true;
  }
  const loaded = await loadPretrainedGpt(ckpt, opts.device);
  const c = loaded.config;
  opts.say(`pretrained: ${loaded.checkpoint} (step ${loaded.step}) — GPT ${c.nLayer} layers, ${c.nHead} heads, ${c.nEmbd} wide, context ${c.blockSize}, vocab ${c.vocabSize}`);
  return { ...loaded, pretrainedNow };
}
