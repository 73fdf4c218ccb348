// Metrics summed on the device between reads: each batch adds its per-pair sums (0-d tensors) and
// its pair count; `means` gives the running means as tensors (no device sync), `read` returns them
// as host numbers and starts over. One read per logging interval (or per evaluation) instead of one
// per batch, and the running sums live outside the Trainer's per-step memory scope (`keep`), so
// nothing leaks and nothing is freed early.
import { keep, type Tensor } from '@webgrad/core';

export class MetricSums {
  readonly #sums = new Map<string, Tensor>();
  #pairs = 0;

  /** Add a batch: `sums` maps metric names to 0-d sums over its `pairs` pairs (detached). */
  add(sums: Record<string, Tensor>, pairs: number): void {
    for (const [k, v] of Object.entries(sums)) {
      const prev = this.#sums.get(k);
      this.#sums.set(k, keep(prev ? prev.add(v) : v.mul(1)));
      prev?.dispose();
    }
    this.#pairs += pairs;
  }

  /** Each metric's mean per pair so far, as new 0-d tensors (in the caller's memory scope). */
  means(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [k, t] of this.#sums) out[k] = t.div(Math.max(1, this.#pairs));
    return out;
  }

  /** Pairs added since the last read. */
  get pairs(): number { return this.#pairs; }

  /** Each metric's mean per pair (names prefixed by `prefix`), then start over. {} when empty. */
  async read(prefix = ''): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    const n = this.#pairs;
    for (const [k, t] of this.#sums) {
      out[prefix + k] = n > 0 ? (await t.item()) / n : NaN;
      t.dispose();
    }
    this.#sums.clear();
    this.#pairs = 0;
    return out;
  }

  /** Free the running sums. */
  dispose(): void {
    for (const t of this.#sums.values()) t.dispose();
    this.#sums.clear();
    this.#pairs = 0;
  }
}
