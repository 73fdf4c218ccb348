// A record of every batch a run draws, so another implementation can replay the run exactly:
// the window offsets of each training step in order, and those of each evaluation (grouped per
// evaluation, per split) with the number of training steps taken before it. Together with the
// initial weights it pins down a run completely — benchmarks/peers/nanogpt_reference.py --replay
// trains the same model from the same weights on the same batches in PyTorch and compares losses.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export const BATCH_TRACE_FORMAT = 'webgrad-batch-trace/1';

export interface TraceEvaluation {
  /** Training steps taken before this evaluation. */
  after: number;
  /** Per split: the offsets of each batch, in draw order. */
  batches: Record<string, number[][]>;
}

export interface BatchTraceFile {
  format: typeof BATCH_TRACE_FORMAT;
  /** Everything a replay needs besides the batches: data, tokenizer, model and optimizer settings. */
  run: Record<string, unknown>;
  steps: number[][];
  evaluations: TraceEvaluation[];
}

export class BatchTrace {
  readonly steps: number[][] = [];
  readonly evaluations: TraceEvaluation[] = [];
  #lastSplit: string | null = null;

  /** A training batch (the next optimizer step). */
  step(offsets: ArrayLike<number>): void {
    this.steps.push(Array.from(offsets));
    this.#lastSplit = null;
  }

  /**
   * An evaluation batch of `split`. An evaluation visits its splits in a fixed order, so a draw
   * from a split that was not the last one drawn, or that comes back to an earlier split, starts a
   * new evaluation.
   */
  evaluation(split: string, offsets: ArrayLike<number>): void {
    let cur = this.evaluations[this.evaluations.length - 1];
    const continues = cur !== undefined && this.#lastSplit !== null && cur.after === this.steps.length
      && (split === this.#lastSplit || !(split in cur.batches));
    if (!continues) {
      cur = { after: this.steps.length, batches: {} };
      this.evaluations.push(cur);
    }
    (cur!.batches[split] ??= []).push(Array.from(offsets));
    this.#lastSplit = split;
  }

  toJSON(run: Record<string, unknown>): BatchTraceFile {
    return { format: BATCH_TRACE_FORMAT, run, steps: this.steps, evaluations: this.evaluations };
  }

  /** Write the trace as JSON to `path` atomically (temporary file, then rename). */
  save(path: string, run: Record<string, unknown>): void {
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(this.toJSON(run)));
    renameSync(tmp, path);
  }
}
