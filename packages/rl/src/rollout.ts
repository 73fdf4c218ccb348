// Rollouts: sampling completions from a policy GPT and scoring the sampled tokens.
//
// Layout. A rollout batch holds B rows, each prompt ‖ completion, right-padded with `padToken` to
// a common length T: `sequences` (B, T) int32. Per-token quantities (log-probs, values, KL,
// rewards, advantages) are aligned with the *predicted* tokens sequences[:, 1:], so they are
// (B, T − 1); `mask` (B, T − 1) is 1 exactly on completion tokens (the prompt and the padding are
// excluded; a stop token that ended a completion is included, as TRL counts the EOS token).
// Right padding is what makes this exact without an attention mask: causal attention means the
// trailing pads never change the real tokens' logits, and every token keeps its true position.
//
// Rows that come from the same prompt are adjacent (prompt i's `numGenerations` samples are rows
// i·G … i·G + G − 1), the grouping GRPO and RLOO read.
import {
  DTypeError, ShapeError, ValueError, checkBool, checkEnum, checkFunction, checkOptions, checkRange, checkSize, checkTensor, fmtShape, fmtValue,
  tensor, tidy, type Tensor,
} from '@webgrad/core';
import { sequenceLogProbs, type GPT, type SamplingOptions } from '@webgrad/nn';
import { GENERATION_KEYS, checkGPT, checkGeneration, checkPrompts } from './args.js';
import { entropyFromLogits } from './masked.js';

/** A user reward: the score of one completion (token ids) of one prompt (token ids). */
export type RewardFn = (prompt: readonly number[], completion: readonly number[]) => number | Promise<number>;

/** Sampled (or given) completions of a batch of prompts: the token tensors the losses read and host copies of the tokens. Owns its tensors: call `dispose()`. */
export interface Rollout {
  /** (B, T) int32: prompt ‖ completion ‖ padding. */
  sequences: Tensor;
  /** (B, T − 1) float32: 1 on completion tokens (aligned with sequences[:, 1:]). */
  mask: Tensor;
  /** Host copies: each row's prompt and completion tokens (completion ends with its stop token, if any). */
  prompts: number[][];
  /** Each row's completion tokens. */
  completions: number[][];
  /** Index of the prompt (in the list given to generateRollouts) each row was sampled from. */
  promptIndex: number[];
  /** Free `sequences` and `mask`. */
  dispose(): void;
}

/** Options of `generateRollouts`: nn's sampling options (temperature, topK, topP, greedy) and the length, count and ends of the completions. */
export interface GenerateRolloutsOptions extends SamplingOptions {
  /** Most tokens sampled per completion. */
  maxNewTokens: number;
  /** Completions sampled per prompt (default 1). */
  numGenerations?: number;
  /** A completion ends after emitting one of these. */
  stopTokens?: readonly number[];
  /** Fills rows after their end (default 0). Never counted: the mask excludes it. */
  padToken?: number;
  /** Reproducible sampling; the global generator's state is left as it was. */
  seed?: number;
}

/** Build a rollout from given prompts and completions (token ids), e.g. an offline dataset. */
export function makeRollout(prompts: number[][], completions: number[][], opts: { padToken?: number; promptIndex?: number[]; device?: Tensor['device'] } = {}): Rollout {
  const op = 'makeRollout';
  checkPrompts(op, prompts);
  if (!Array.isArray(completions) || completions.some((c) => !Array.isArray(c))) throw new ValueError(`${op}: completions must be an array of token-id arrays, got ${fmtValue(completions)}`);
  completions.forEach((c, i) => c.forEach((t, j) => checkSize(op, `completions[${i}][${j}]`, t)));
  checkOptions(op, opts, ['padToken', 'promptIndex', 'device']);
  if (opts.padToken !== undefined) checkSize(op, 'padToken', opts.padToken);
  if (opts.device !== undefined) checkEnum(op, 'device', opts.device, ['cpu', 'webgpu']);
  if (opts.promptIndex !== undefined && !(Array.isArray(opts.promptIndex) && opts.promptIndex.length === prompts.length && opts.promptIndex.every((i) => Number.isInteger(i) && i >= 0))) {
    throw new ValueError(`${op}: promptIndex must hold one non-negative integer per prompt, got ${fmtValue(opts.promptIndex)}`);
  }
  if (prompts.length !== completions.length || prompts.length === 0) {
    throw new ValueError(`makeRollout: expected as many prompts as completions (≥ 1), got ${prompts.length} and ${completions.length}`);
  }
  const pad = opts.padToken ?? 0;
  const B = prompts.length;
  for (const p of prompts) if (p.length === 0) throw new ValueError('makeRollout: every prompt needs at least one token');
  const T = Math.max(...prompts.map((p, i) => p.length + completions[i]!.length));
  if (T < 2) throw new ValueError('makeRollout: sequences need at least two tokens');
  const ids = new Int32Array(B * T).fill(pad);
  const mask = new Float32Array(B * (T - 1));
  for (let b = 0; b < B; b++) {
    const p = prompts[b]!;
    const c = completions[b]!;
    ids.set(p, b * T);
    ids.set(c, b * T + p.length);
    for (let j = 0; j < c.length; j++) mask[b * (T - 1) + p.length - 1 + j] = 1;
  }
  const sequences = tensor(ids, { shape: [B, T], dtype: 'int32', device: opts.device });
  const maskT = tensor(mask, { shape: [B, T - 1], dtype: 'float32', device: opts.device });
  return {
    sequences, mask: maskT,
    prompts: prompts.map((p) => [...p]), completions: completions.map((c) => [...c]),
    promptIndex: opts.promptIndex ?? prompts.map((_, i) => i),
    dispose() { sequences.dispose(); maskT.dispose(); },
  };
}

/** Sample `numGenerations` completions of each prompt from `policy` (nn's `GPT.generate`, eval
 *  mode, no gradients). Prompts of different lengths are generated in separate batches (the model
 *  has no attention mask, so prompts are never padded). */
export async function generateRollouts(policy: GPT, prompts: readonly (readonly number[])[], opts: GenerateRolloutsOptions): Promise<Rollout> {
  const op = 'generateRollouts';
  checkGPT(op, 'policy', policy);
  checkPrompts(op, prompts);
  if (opts === undefined) throw new ValueError(`${op}: options with maxNewTokens are required`);
  checkOptions(op, opts, GENERATION_KEYS);
  checkGeneration(op, opts);
  const G = opts.numGenerations ?? 1;
  const { blockSize } = policy.config;
  const stop = new Set(opts.stopTokens ?? []);
  const device = policy.wte.weight.device;
  const rowPrompts: number[][] = [];
  const promptIndex: number[] = [];
  prompts.forEach((p, i) => {
    if (p.length === 0) throw new ValueError(`generateRollouts: prompt ${i} is empty`);
    if (p.length + opts.maxNewTokens > blockSize) {
      throw new ValueError(`generateRollouts: prompt ${i} (${p.length} tokens) + maxNewTokens ${opts.maxNewTokens} exceeds the policy's blockSize ${blockSize}`);
    }
    for (let g = 0; g < G; g++) { rowPrompts.push([...p]); promptIndex.push(i); }
  });
  const completions: number[][] = new Array(rowPrompts.length);
  const byLength = new Map<number, number[]>();
  rowPrompts.forEach((p, r) => { const l = byLength.get(p.length) ?? []; l.push(r); byLength.set(p.length, l); });
  let batch = 0;
  for (const [len, rows] of byLength) {
    const idx = tensor(Int32Array.from(rows.flatMap((r) => rowPrompts[r]!)), { shape: [rows.length, len], dtype: 'int32', device });
    let out: Tensor;
    try {
      out = await policy.generate(idx, {
        maxNewTokens: opts.maxNewTokens, stopTokens: opts.stopTokens, padToken: opts.padToken,
        temperature: opts.temperature, topK: opts.topK, topP: opts.topP, greedy: opts.greedy,
        seed: opts.seed === undefined ? undefined : opts.seed + batch,
      });
    } finally {
      idx.dispose();
    }
    const flat = await out.data();
    const n = out.shape[1]!;
    out.dispose();
    rows.forEach((r, k) => {
      const gen = Array.from(flat.subarray(k * n + len, (k + 1) * n));
      const end = gen.findIndex((t) => stop.has(t));
      completions[r] = end >= 0 ? gen.slice(0, end + 1) : gen;
    });
    batch++;
  }
  return makeRollout(rowPrompts, completions, { padToken: opts.padToken, promptIndex, device });
}

/** Options of `tokenLogProbs` / `tokenLogProbsAndEntropy`. */
export interface TokenLogProbsOptions {
  /** Divide logits by this before the softmax, matching the sampling temperature (default 1). */
  temperature?: number;
}

/** Log-probabilities (B, T − 1) of sequences[:, 1:] under `model`, zero where mask is 0.
 *  Differentiable; call under noGrad for the old/reference policy. */
export function tokenLogProbs(model: GPT, sequences: Tensor, mask: Tensor | null = null, opts: TokenLogProbsOptions = {}): Tensor {
  const temperature = checkLogProbOptions('tokenLogProbs', opts, ['temperature']);
  return logProbsAndEntropy('tokenLogProbs', model, sequences, mask, temperature, false).logProbs;
}

/** Log-probs as `tokenLogProbs`, plus the policy's entropy at each position (B, T − 1),
 *  differentiable, zero where mask is 0 (computed only when `entropy` is not false). */
export function tokenLogProbsAndEntropy(model: GPT, sequences: Tensor, mask: Tensor | null = null, opts: TokenLogProbsOptions & { entropy?: boolean } = {}): {
  /** (B, T − 1), as `tokenLogProbs`. */
  logProbs: Tensor;
  /** (B, T − 1) entropy of the policy at each position; null with `entropy: false`. */
  entropy: Tensor | null;
} {
  const temperature = checkLogProbOptions('tokenLogProbsAndEntropy', opts, ['temperature', 'entropy']);
  return logProbsAndEntropy('tokenLogProbsAndEntropy', model, sequences, mask, temperature, opts.entropy !== false);
}

/** TokenLogProbsOptions (and `entropy`) of `op`; returns the temperature. */
function checkLogProbOptions(op: string, opts: TokenLogProbsOptions & { entropy?: boolean }, keys: readonly string[]): number {
  checkOptions(op, opts, keys);
  if (opts.entropy !== undefined) checkBool(op, 'entropy', opts.entropy);
  return checkRange(op, 'temperature', opts.temperature === undefined ? 1 : opts.temperature, 0, Infinity, { lo: true });
}

function logProbsAndEntropy(op: string, model: GPT, sequences: Tensor, mask: Tensor | null, temperature: number, withEntropy: boolean): { logProbs: Tensor; entropy: Tensor | null } {
  checkGPT(op, 'model', model);
  if (checkTensor(op, 'sequences', sequences).dtype !== 'int32') throw new DTypeError(`${op}: sequences must be int32 token ids, got ${sequences.dtype}`);
  if (sequences.ndim !== 2 || sequences.shape[1]! < 2) {
    throw new ShapeError(`${op}: sequences must be int32 (B, T) with T ≥ 2, got ${sequences.dtype} ${fmtShape(sequences.shape)}`);
  }
  const [B, T] = sequences.shape as [number, number];
  if (mask !== null) checkTensor(op, 'mask', mask);
  if (mask && (mask.ndim !== 2 || mask.shape[0] !== B || mask.shape[1] !== T - 1)) {
    throw new ShapeError(`${op}: mask must be (B, T − 1) = [${B}, ${T - 1}], got ${fmtShape(mask.shape)}`);
  }
  return tidy(() => {
    let logits = model.forward(sequences).logits.narrow(1, 0, T - 1); // (B, T−1, V)
    if (temperature !== 1) logits = logits.div(temperature);
    const labels = sequences.narrow(1, 1, T - 1); // (B, T−1)
    const logProbs = sequenceLogProbs(logits, labels, mask, { reduction: 'none' }); // (B, T−1)
    let entropy: Tensor | null = null;
    if (withEntropy) {
      entropy = entropyFromLogits(logits); // (B, T−1)
      if (mask) entropy = entropy.mul(mask.to(entropy.dtype));
    }
    return { logProbs, entropy };
  });
}

/** Score every row of a rollout with a user reward function; returns host numbers (B). */
export async function scoreRollout(rollout: Rollout, rewardFn: RewardFn): Promise<number[]> {
  if (typeof rollout !== 'object' || rollout === null || !Array.isArray(rollout.prompts) || !Array.isArray(rollout.completions)) {
    throw new ValueError(`scoreRollout: rollout must be a Rollout (from makeRollout or generateRollouts), got ${fmtValue(rollout)}`);
  }
  checkFunction('scoreRollout', 'rewardFn', rewardFn);
  const out: number[] = [];
  for (let b = 0; b < rollout.prompts.length; b++) {
    const r = await rewardFn(rollout.prompts[b]!, rollout.completions[b]!);
    if (typeof r !== 'number' || Number.isNaN(r)) throw new ValueError(`scoreRollout: the reward function returned ${String(r)} for row ${b}; expected a number`);
    out.push(r);
  }
  return out;
}
