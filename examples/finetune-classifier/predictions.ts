// Binary-classifier predictions gathered over an evaluation and scored with @webgrad/nn's
// metrics: `add` keeps each batch's P(spam) and labels on the device (inside an evaluation loop's
// tidy), `take` reads them back once, and `binaryMetrics` gives accuracy, F1 and ROC-AUC.
import { keep, tidy, type Tensor } from '@webgrad/core';
import { accuracy, f1Score, rocAuc } from '@webgrad/nn';

export interface BinaryMetrics { accuracy: number; f1: number; rocAuc: number }

export class BinaryPredictions {
  #scores: Tensor[] = [];
  #labels: Tensor[] = [];

  /** logits (B, 2), labels (B) int32. */
  add(logits: Tensor, labels: Tensor): void {
    const p = tidy(() => logits.softmax(-1).select(1, 1).contiguous()); // (B) P(class 1)
    this.#scores.push(keep(p));
    this.#labels.push(keep(labels.clone()));
  }

  /** The scores and labels added since the last take (and forget them). */
  async take(): Promise<{ scores: Float32Array; labels: Int32Array }> {
    try {
      const scores: number[] = [];
      const labels: number[] = [];
      for (const t of this.#scores) scores.push(...(await t.data()));
      for (const t of this.#labels) labels.push(...(await t.data()));
      return { scores: Float32Array.from(scores), labels: Int32Array.from(labels) };
    } finally {
      this.reset();
    }
  }

  reset(): void {
    for (const t of [...this.#scores, ...this.#labels]) t.dispose();
    this.#scores = [];
    this.#labels = [];
  }
}

/** Accuracy and F1 of spam (class 1) at P ≥ 0.5, and ROC-AUC (NaN when one class is missing). */
export function binaryMetrics(labels: ArrayLike<number>, scores: ArrayLike<number>): BinaryMetrics {
  const pred = Int32Array.from({ length: scores.length }, (_, i) => (scores[i]! >= 0.5 ? 1 : 0));
  const both = new Set(Array.from(labels)).size === 2;
  return { accuracy: accuracy(labels, pred), f1: f1Score(labels, pred), rocAuc: both ? rocAuc(labels, scores) : NaN };
}
