// The instruction-tuned character GPT that reward-model and dpo start from: loaded from an sft
// output directory (its latest checkpoint: weights, model config, vocabulary), or — when there is
// none — fine-tuned there first by the sft example's own run function, with a message.
import { resolve } from 'node:path';
import type { DeviceName } from '@webgrad/core';
import type { ProgressStream } from '@webgrad/train';
import { DEFAULT_OPTIONS, sftGpt, type SftOptions } from '../sft/sft.js';
import { findPretrainedCheckpoint, loadPretrainedGpt, type PretrainedGpt } from './pretrained_gpt.js';

export interface LoadOrSftOptions {
  /** An sft output directory (its checkpoints/ is searched) or one checkpoint directory. */
  dir: string;
  device: DeviceName;
  /** Settings of the sft run made when `dir` holds no checkpoint (default sft's). */
  sft?: Partial<SftOptions>;
  say: (s: string) => void;
  stream?: ProgressStream;
  tty?: boolean;
  fsync?: boolean;
}

/** The fine-tuned GPT in `dir`, running the sft example there first when there is none. */
export async function loadOrSftGpt(opts: LoadOrSftOptions): Promise<PretrainedGpt & { trainedNow: boolean }> {
  let ckpt = await findPretrainedCheckpoint(opts.dir);
  let trainedNow = false;
  if (!ckpt) {
    const run: SftOptions = {
      ...DEFAULT_OPTIONS, ...opts.sft, out: opts.dir, device: opts.device, stream: opts.stream, tty: opts.tty, fsync: opts.fsync, handleSigint: false,
    };
    opts.say(`no sft checkpoint in ${resolve(opts.dir)}: instruction-tuning one there first (the same as \`pnpm example sft --out ${opts.dir} --pretrained ${run.pretrained}\`)`);
    const r = await sftGpt(run);
    if (r.train.interrupted) throw new Error('instruction tuning was interrupted');
    ckpt = await findPretrainedCheckpoint(opts.dir);
    if (!ckpt) throw new Error(`instruction tuning wrote no checkpoint in ${opts.dir}`);
    trainedNow = true;
  }
  const loaded = await loadPretrainedGpt(ckpt, opts.device);
  const c = loaded.config;
  opts.say(`sft model: ${loaded.checkpoint} (step ${loaded.step}) — GPT ${c.nLayer} layers, ${c.nHead} heads, ${c.nEmbd} wide, context ${c.blockSize}, vocab ${c.vocabSize}`);
  return { ...loaded, trainedNow };
}
