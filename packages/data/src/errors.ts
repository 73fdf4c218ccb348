// Errors raised by the data package: a record, file or batch that cannot be read or assembled.
import { WebgradError } from '@webgrad/core';

/**
 * Data that cannot be used as asked: a malformed record, a batch whose items cannot be stacked,
 * a token outside a tokenizer's vocabulary, a file in the wrong format. Bad arguments (a NaN batch
 * size, an unknown option) raise core's `ValueError` instead.
 */
export class DataError extends WebgradError {}

/**
 * A line of a JSONL file that is not valid JSON or not a valid record. `source` is the file (or the
 * name given to `parseJsonl`), `line` the 1-based line number, `reason` what is wrong with it.
 */
export class JsonlError extends DataError {
  /**
   * @param source The file, or the name given to `parseJsonl`.
   * @param line The 1-based line number.
   * @param reason What is wrong with the line.
   */
  constructor(readonly source: string, readonly line: number, readonly reason: string) {
    super(`${source}:${line}: ${reason}`);
  }
}
