// Accuracy of a masked LM on the positions it predicts, accumulated over batches on the device
// and read back once: `add` inside an evaluation loop (its counts survive the loop's tidy),
// `compute` after it.
import { keep, tidy, type Tensor } from '@webgrad/core';

export class MaskedTokenAccuracy {
  #correct: Tensor[] = [];
  #count = 0;

  /** logits (N, V) at the chosen positions, targets (N) int32. */
  add(logits: Tensor, targets: Tensor): void {
    const correct = tidy(() => logits.argmax(-1).eq(targets).float().sum());
    this.#correct.push(keep(correct));
    this.#count += targets.shape[0]!;
  }

  /** Correct / predicted positions since the last compute (NaN if none); resets the counts. */
  async compute(): Promise<number> {
    let correct = 0;
    const count = this.#count;
    try {
      for (const t of this.#correct) correct += await t.item();
    } finally {
      this.reset();
    }
    return count > 0 ? correct / count : NaN;
  }

  reset(): void {
    for (const t of this.#correct) t.dispose();
    this.#correct = [];
    this.#count = 0;
  }
}
