// Sequences and batches for masked-LM pre-training. Documents' token ids are packed back to back
// (each followed by [SEP]) into sequences of exactly `seqLen` ids that start with [CLS] — no
// padding, every position trained, as RoBERTa's FULL-SENTENCES packing. A batch is masked on the
// host (mlm_masking.ts) and becomes { inputs (B, T), positions (N), targets (N) } on the device.
// Evaluation batches are masked once with fixed seeds, so every evaluation scores the same positions.
import { tensor, type DeviceName, type Tensor } from '@webgrad/core';
import { maskTokens } from './mlm_masking.js';
import type { SpecialIds } from './tokenizer.js';

/** [CLS] + seqLen − 1 ids of the stream doc₀ [SEP] doc₁ [SEP] …; the last partial sequence is dropped. */
export function packSequences(docs: Iterable<ArrayLike<number>>, seqLen: number, ids: Pick<SpecialIds, 'cls' | 'sep'>): Int32Array[] {
  if (!Number.isInteger(seqLen) || seqLen < 2) throw new RangeError(`packSequences: seqLen must be an integer >= 2, got ${seqLen}`);
  const out: Int32Array[] = [];
  let cur = new Int32Array(seqLen);
  let n = 0;
  const push = (id: number) => {
    if (n === 0) cur[n++] = ids.cls;
    cur[n++] = id;
    if (n === seqLen) { out.push(cur); cur = new Int32Array(seqLen); n = 0; }
  };
  for (const doc of docs) {
    for (let i = 0; i < doc.length; i++) push(doc[i]!);
    push(ids.sep);
  }
  return out;
}

/** The ids the masking never chooses. */
export const unmaskable = (ids: SpecialIds): number[] => [ids.pad, ids.cls, ids.sep, ids.mask];

export interface MaskSettings { prob: number; vocabSize: number; ids: SpecialIds }

/** A masked batch on the device. */
export interface MlmBatch {
  /** (B, T) int32: ids with the chosen positions corrupted. */
  inputs: Tensor;
  /** (N) int32: flat indices b·T + t of the chosen positions. */
  positions: Tensor;
  /** (N) int32: the original ids there. */
  targets: Tensor;
}

/** Sequences of one length → one masked batch (masking drawn from `seed`) on `device`. */
export function maskedBatch(seqs: readonly Int32Array[], mask: MaskSettings, seed: number, device: DeviceName): MlmBatch {
  const T = seqs[0]!.length;
  const flat = new Int32Array(seqs.length * T);
  seqs.forEach((s, i) => flat.set(s, i * T));
  const m = maskTokens(flat, { prob: mask.prob, maskId: mask.ids.mask, vocabSize: mask.vocabSize, specialIds: unmaskable(mask.ids), seed });
  return {
    inputs: tensor(m.inputs, { shape: [seqs.length, T], dtype: 'int32', device }), // (B, T)
    positions: tensor(m.positions, { shape: [m.positions.length], dtype: 'int32', device }),
    targets: tensor(m.targets, { shape: [m.targets.length], dtype: 'int32', device }),
  };
}

/** Fixed evaluation batches: `seqs` in batches of `batchSize`, batch i masked with seed `seed + i`. */
export function maskedEvalBatches(seqs: readonly Int32Array[], batchSize: number, mask: MaskSettings, seed: number, device: DeviceName): MlmBatch[] {
  const out: MlmBatch[] = [];
  for (let b = 0; b * batchSize < seqs.length; b++) out.push(maskedBatch(seqs.slice(b * batchSize, (b + 1) * batchSize), mask, seed + b, device));
  return out;
}

export function disposeBatch(b: MlmBatch): void {
  b.inputs.dispose();
  b.positions.dispose();
  b.targets.dispose();
}
