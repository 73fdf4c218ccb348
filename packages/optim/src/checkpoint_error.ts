// CheckpointError: how every checkpoint failure is reported. It names the file at fault and, for a
// bad value in state.json, the field (a path such as `optimizer.paramGroups[0].hyper.eps`).
import { WebgradError } from '@webgrad/core';

/**
 * not_found: no checkpoint or a missing file; truncated / corrupt: a file's bytes or checksum are
 * wrong; invalid: state.json holds a value of the wrong type or range; mismatch: the checkpoint
 * does not fit the objects it is loaded into; io: the file system failed.
 */
export type CheckpointErrorCode = 'not_found' | 'truncated' | 'corrupt' | 'invalid' | 'mismatch' | 'io';

/** A checkpoint that cannot be written or read; `file` names the offending file, `field` the value in it. */
export class CheckpointError extends WebgradError {
  /** The bad value's path in state.json (`optimizer.paramGroups[0].hyper.eps`), when a value is at fault. */
  readonly field: string | undefined;

  /**
   * @param code What kind of failure (see CheckpointErrorCode).
   * @param file The file at fault.
   * @param detail What is wrong, for the message.
   * @param opts The underlying error and the field at fault.
   */
  constructor(readonly code: CheckpointErrorCode, readonly file: string, detail: string, opts?: { cause?: unknown; field?: string }) {
    super(`checkpoint file "${file}"${opts?.field !== undefined ? `, field ${opts.field}` : ''}: ${detail}`);
    this.field = opts?.field;
    if (opts?.cause !== undefined) (this as { cause?: unknown }).cause = opts.cause;
  }
}
