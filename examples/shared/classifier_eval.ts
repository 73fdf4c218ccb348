// Testing a classifier: predictions over a dataset of [x, y, …] items in eval mode without
// gradients, giving accuracy, mean negative log-likelihood and the confusion matrix (nn's
// metrics); and a counter of correct predictions that rides along the Trainer's evaluation pass.
import { argmax, crossEntropy, keep, noGrad, tidy, type Tensor } from '@webgrad/core';
import { DataLoader, type Dataset } from '@webgrad/data';
import { accuracy, confusionMatrix, type Module } from '@webgrad/nn';
import { NUM_CLASSES } from './mnist_digits.js';

export interface ClassifierScores {
  accuracy: number;
  /** Mean negative log-likelihood of the true labels (cross-entropy, nats). */
  nll: number;
  predicted: Int32Array;
  labels: Int32Array;
}

/** Accuracy and NLL of `model` on `data` (model put in eval mode and left there). */
export async function evaluateClassifier(model: Module, data: Dataset<Tensor[]>, batchSize = 250): Promise<ClassifierScores> {
  model.eval();
  const n = data.length;
  const predicted = new Int32Array(n);
  const labels = new Int32Array(n);
  let nllSum = 0;
  let at = 0;
  for (const [x, y] of new DataLoader(data, { batchSize }) as Iterable<Tensor[]>) {
    const [lossSum, pred] = noGrad(() => tidy(() => {
      const logits = model.forward(x!) as Tensor; // (B, 10)
      return [crossEntropy(logits, y!, { reduction: 'sum' }), argmax(logits, 1)];
    }));
    nllSum += await lossSum!.item();
    predicted.set(await pred!.data() as Int32Array, at);
    labels.set(await y!.data() as Int32Array, at);
    at += y!.shape[0]!;
    lossSum!.dispose();
    pred!.dispose();
  }
  return { accuracy: accuracy(labels, predicted), nll: nllSum / n, predicted, labels };
}

/** Rows: true digit, columns: predicted digit; and each digit's accuracy (its row's diagonal share). */
export function digitConfusion(s: ClassifierScores): { matrix: number[][]; perClass: number[] } {
  const labels = Array.from({ length: NUM_CLASSES }, (_, i) => i);
  const { matrix } = confusionMatrix(s.labels, s.predicted, { labels });
  const perClass = matrix.map((row, i) => row[i]! / Math.max(1, row.reduce((a, b) => a + b, 0)));
  return { matrix, perClass };
}

/**
 * Correct predictions counted on the device batch by batch (no read-back per batch): the
 * Trainer's `evalLoss` adds each batch's logits, its `evalMetrics` then takes the accuracy, so the
 * validation set is run through the model once per evaluation.
 */
export class CorrectCounter {
  #correct: Tensor | null = null;
  #count = 0;

  /** Count the rows of logits (B, C) whose argmax is the label y (B). */
  add(logits: Tensor, y: Tensor): void {
    const prev = this.#correct;
    this.#correct = keep(tidy(() => {
      const hits = argmax(logits, 1).eq(y).sum(); // ()
      return prev ? prev.add(hits) : hits;
    }));
    prev?.dispose();
    this.#count += y.shape[0]!;
  }

  /** The accuracy over everything added since the last take, and a fresh start. */
  async take(): Promise<number> {
    const correct = this.#correct ? await this.#correct.item() : 0;
    const n = this.#count;
    this.#correct?.dispose();
    this.#correct = null;
    this.#count = 0;
    return n > 0 ? correct / n : NaN;
  }
}
