// Autoregressive generation shared by the decoder-only language models (GPT, Llama): prefill a KV
// cache with the prompt, then feed one token per step and pick the next one from the last
// position's logits (greedy or sampled, see sampling.ts). When the context outgrows the model's
// window the cache is dropped and the last `contextSize` tokens are recomputed every step.
import {
  Tensor, DTypeError, ShapeError, ValueError, checkBool, checkInt, checkOptions, checkSize, checkTensor, fmtShape, fmtValue,
  getRngState, manualSeed, noGrad, rand, setRngState, tensor, type DeviceName,
} from '@webgrad/core';
import type { KVCache } from '../layers/transformer_block.js';
import { SAMPLING_KEYS, checkSamplingOptions, sampleToken, type SamplingOptions } from './sampling.js';

export interface GenerateOptions extends SamplingOptions {
  /** Tokens to add to each row (fewer when every row stopped). */
  maxNewTokens: number;
  /** Stop a row once it emits one of these ids; stop early when every row has. */
  stopTokens?: readonly number[];
  /** Fills a row after it stopped (default: the stop token it emitted). */
  padToken?: number;
  /** Seed for sampling; the global generator's state is restored afterwards. */
  seed?: number;
  /** Use the KV cache (default true); false recomputes the whole context every step. */
  useCache?: boolean;
}

/** What generateTokens needs of a model: a causal forward with an optional KV cache. */
export interface CausalLanguageModel {
  readonly training: boolean;
  train(mode?: boolean): unknown;
  eval(): unknown;
  createKVCache(): KVCache;
  forward(idx: Tensor, targets: null, opts: { kvCache: KVCache | null; lastOnly: boolean }): { logits: Tensor };
}

/** idx: an int32 (B, T) tensor of token ids. */
export function checkTokenIds(op: string, idx: Tensor): void {
  checkTensor(op, 'idx', idx);
  if (idx.dtype !== 'int32') throw new DTypeError(`${op}: idx must be int32 token ids, got ${idx.dtype}`);
  if (idx.ndim !== 2) throw new ShapeError(`${op}: idx must be (B, T), got ${fmtShape(idx.shape)}`);
}

const GENERATE_KEYS = ['maxNewTokens', 'stopTokens', 'padToken', 'seed', 'useCache', ...SAMPLING_KEYS] as const;

/** Check GenerateOptions under the public name `op`. */
export function checkGenerateOptions(op: string, opts: GenerateOptions): void {
  checkOptions(op, opts, GENERATE_KEYS);
  checkSize(op, 'maxNewTokens', opts.maxNewTokens);
  if (opts.stopTokens !== undefined) {
    if (!Array.isArray(opts.stopTokens)) throw new ValueError(`${op}: stopTokens must be an array of token ids, got ${fmtValue(opts.stopTokens)}`);
    opts.stopTokens.forEach((t, i) => checkSize(op, `stopTokens[${i}]`, t));
  }
  if (opts.padToken !== undefined) checkSize(op, 'padToken', opts.padToken);
  if (opts.seed !== undefined) checkInt(op, 'seed', opts.seed);
  if (opts.useCache !== undefined) checkBool(op, 'useCache', opts.useCache);
  checkSamplingOptions(op, opts);
}

/**
 * Extend each row of idx (B, T) by up to maxNewTokens tokens; returns (B, T + n) on idx's device.
 * `contextSize` is the longest sequence the model takes, `vocabSize` the width of its logits and
 * `device` where its weights live. Runs in eval mode without gradients and restores the mode.
 */
export async function generateTokens(
  op: string, model: CausalLanguageModel, idx: Tensor, opts: GenerateOptions,
  dims: { contextSize: number; vocabSize: number; device: DeviceName },
): Promise<Tensor> {
  checkTokenIds(op, idx);
  checkGenerateOptions(op, opts);
  const [B, T0] = idx.shape as [number, number];
  if (T0 === 0) throw new ValueError(`${op}: the prompt must hold at least one token`);
  const { contextSize, vocabSize: V, device } = dims;
  const rows: number[][] = [];
  const flat = await idx.data();
  for (let b = 0; b < B; b++) rows.push(Array.from(flat.subarray(b * T0, (b + 1) * T0)));
  const stop = new Set(opts.stopTokens ?? []);
  const finished: (number | null)[] = new Array(B).fill(null);
  const saved = opts.seed !== undefined ? getRngState() : null;
  if (opts.seed !== undefined) manualSeed(opts.seed);
  const wasTraining = model.training;
  model.eval();
  const cache = opts.useCache === false ? null : model.createKVCache();
  const greedy = opts.greedy || opts.temperature === 0;
  const sampling: SamplingOptions = { temperature: opts.temperature, topK: opts.topK, topP: opts.topP, greedy };
  try {
    for (let step = 0; step < opts.maxNewTokens; step++) {
      const len = rows[0]!.length;
      // The cache is usable while the whole context fits; past that, every step recomputes the
      // last contextSize tokens (positions cannot slide).
      const useCache = cache !== null && len <= contextSize;
      let feed: number[][];
      if (useCache && cache.length > 0 && cache.length === len - 1) {
        feed = rows.map((r) => [r[len - 1]!]); // one new token per row
      } else {
        cache?.reset();
        feed = rows.map((r) => r.slice(Math.max(0, len - contextSize))); // prefill / recompute
      }
      const Tf = feed[0]!.length;
      const input = tensor(Int32Array.from(feed.flat()), { shape: [B, Tf], dtype: 'int32', device });
      const logits = noGrad(() => model.forward(input, null, { kvCache: useCache ? cache : null, lastOnly: true }).logits); // (B, 1, V)
      input.dispose();
      const values = await logits.data(); // B·V floats
      logits.dispose();
      let uniforms: ArrayLike<number> | null = null;
      if (!greedy) {
        const u = rand([B], { dtype: 'float64', device: 'cpu' });
        uniforms = u.dataSync();
        u.dispose();
      }
      for (let b = 0; b < B; b++) {
        if (finished[b] !== null) { rows[b]!.push(opts.padToken ?? finished[b]!); continue; }
        const next = sampleToken(values.subarray(b * V, (b + 1) * V), sampling, uniforms ? uniforms[b]! : 0);
        rows[b]!.push(next);
        if (stop.has(next)) finished[b] = next;
      }
      if (stop.size > 0 && finished.every((f) => f !== null)) break;
    }
  } finally {
    cache?.dispose();
    model.train(wasTraining);
    if (saved) setRngState(saved);
  }
  const n = rows[0]!.length;
  return tensor(Int32Array.from(rows.flat()), { shape: [B, n], dtype: 'int32', device: idx.device });
}
