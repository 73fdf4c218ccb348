// The pre-trained encoder as files, for fine-tuning: <dir>/encoder.safetensors (the BertModel's
// weights: embeddings, layers, pooler), <dir>/encoder_config.json (its BertConfig, the sequence
// length, the special-token ids and where its text came from) and <dir>/tokenizer.json (+
// tokenizer_config.json), the byte-level BPE it reads text with.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ByteLevelBPETokenizer } from '@webgrad/data';
import { saveModule, type BertConfig, type BertModel } from '@webgrad/nn';
import { specialIds, type SpecialIds } from './tokenizer.js';

export const ENCODER_WEIGHTS = 'encoder.safetensors';
export const ENCODER_CONFIG = 'encoder_config.json';
export const ENCODER_FORMAT = 'webgrad-mlm-encoder/1';

/** A BertConfig without device or dtype: what a file can hold. */
export type EncoderBertConfig = Omit<BertConfig, 'device' | 'dtype'>;

export interface EncoderConfigFile {
  format: typeof ENCODER_FORMAT;
  bert: EncoderBertConfig;
  /** Sequence length the encoder was pre-trained on (its inputs are at most this long). */
  seqLen: number;
  specialIds: SpecialIds;
  /** What the encoder read: the SpamAssassin corpus (with the seed of its train/val/test split) or a text file. */
  data: { source: 'spam-assassin'; splitSeed: number; mails: number } | { source: 'file'; path: string };
  /** Pre-training steps and the last evaluation's masked-LM loss and accuracy. */
  steps: number;
  final: { loss: number; accuracy: number } | null;
}

export interface LoadedEncoderFiles {
  config: EncoderConfigFile;
  tokenizer: ByteLevelBPETokenizer;
  weightsPath: string;
}

/** Whether `dir` holds a complete encoder (weights, config, tokenizer). */
export function hasEncoder(dir: string): boolean {
  return [ENCODER_WEIGHTS, ENCODER_CONFIG, 'tokenizer.json'].every((f) => existsSync(join(dir, f)));
}

export async function saveEncoder(dir: string, bert: BertModel, tokenizer: ByteLevelBPETokenizer, config: EncoderConfigFile): Promise<void> {
  await saveModule(bert, join(dir, ENCODER_WEIGHTS), { metadata: { config: JSON.stringify(config.bert) } });
  await tokenizer.save(dir);
  writeFileSync(join(dir, ENCODER_CONFIG), `${JSON.stringify(config, null, 2)}\n`);
}

/** The config and tokenizer of the encoder in `dir` (load the weights with `loadModule(bert, weightsPath)`). */
export async function loadEncoderFiles(dir: string): Promise<LoadedEncoderFiles> {
  if (!hasEncoder(dir)) throw new Error(`no pre-trained encoder in ${dir} (expected ${ENCODER_WEIGHTS}, ${ENCODER_CONFIG} and tokenizer.json; run \`pnpm example pretrain-mlm --out ${dir}\`)`);
  const config = JSON.parse(readFileSync(join(dir, ENCODER_CONFIG), 'utf8')) as EncoderConfigFile;
  if (config.format !== ENCODER_FORMAT) throw new Error(`${join(dir, ENCODER_CONFIG)}: expected format ${ENCODER_FORMAT}, got ${String(config.format)}`);
  const tokenizer = await ByteLevelBPETokenizer.load(dir);
  const ids = specialIds(tokenizer);
  if (JSON.stringify(ids) !== JSON.stringify(config.specialIds)) throw new Error(`${dir}: the tokenizer's special ids ${JSON.stringify(ids)} differ from the config's ${JSON.stringify(config.specialIds)}`);
  return { config, tokenizer, weightsPath: join(dir, ENCODER_WEIGHTS) };
}
