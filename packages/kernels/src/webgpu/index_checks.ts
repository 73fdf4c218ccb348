// Out-of-range indices found by kernels, and which buffers they make invalid.
//
// A kernel that reads indices (gather, indexSelect, scatterAdd, indexAdd, crossEntropy) cannot
// throw: it records the first bad index in the runtime's error buffer. The runtime copies that
// buffer into a per-submit log right after each such dispatch and clears it, so each checked
// dispatch gets its own result, an `IndexCheck`: pending until its submit has completed and the
// log has been read back, then passed or failed.
//
// Which reads a failed check concerns: the buffers its dispatch wrote, and every buffer written
// later from one of those (each dispatch and copy carries the checks of the buffers it binds over
// to the buffers it writes). A read throws only when its own buffer carries a failed check, so
// an unrelated read never does. An invalid buffer stays invalid until it is released: a later
// in-place write does not clear it, as it may cover only part of the buffer. Passed checks are
// dropped from every buffer, so with no bad index nothing stays tracked once submits complete.

/** Whose error a check reports: the op, and what its indices index (the error message says both). */
export interface IndexCheckName {
  op: string;
  what: string;
}

export interface IndexCheck {
  state: 'pending' | 'passed' | 'failed';
  /** Set when the dispatch ran inside `reportIndexErrorsAs` (a public op built from the kernel). */
  readonly name: IndexCheckName | null;
  /** Set when failed: the op, the bad index and the size of the indexed dimension. */
  op: string;
  what: string;
  index: number;
  size: number;
  /** Settles (never rejects) once the state is known; null until the check's batch is submitted. */
  done: Promise<void> | null;
  /** Buffers that carry this check. */
  readonly buffers: Set<GPUBuffer>;
}

export class IndexChecks {
  private readonly carried = new Map<GPUBuffer, IndexCheck[]>();

  /** Whether any buffer carries a check (when not, dispatches have nothing to pass on). */
  get active(): boolean {
    return this.carried.size > 0;
  }

  /** A pending check for one dispatch. */
  begin(name: IndexCheckName | null): IndexCheck {
    return { state: 'pending', name, op: '', what: '', index: 0, size: 0, done: null, buffers: new Set() };
  }

  /**
   * `written` now holds data computed from `read` (and by the dispatch of `check`, if given):
   * each written buffer takes on the checks the read buffers carry.
   */
  propagate(read: readonly GPUBuffer[], written: readonly GPUBuffer[], check?: IndexCheck): void {
    let from: IndexCheck[] | undefined;
    for (const b of read) {
      const cs = this.carried.get(b);
      if (cs) for (const c of cs) if (!(from ??= []).includes(c)) from.push(c);
    }
    if (check) (from ??= []).push(check);
    if (!from) return;
    for (const w of written) {
      let cs = this.carried.get(w);
      if (!cs) this.carried.set(w, (cs = []));
      for (const c of from) {
        if (cs.includes(c)) continue;
        cs.push(c);
        c.buffers.add(w);
      }
    }
  }

  /** The checks `buffer` carries now (a copy), or null. */
  of(buffer: GPUBuffer): IndexCheck[] | null {
    const cs = this.carried.get(buffer);
    return cs ? cs.slice() : null;
  }

  pass(check: IndexCheck): void {
    check.state = 'passed';
    for (const b of check.buffers) {
      const cs = this.carried.get(b);
      if (!cs) continue;
      const i = cs.indexOf(check);
      if (i >= 0) cs.splice(i, 1);
      if (cs.length === 0) this.carried.delete(b);
    }
    check.buffers.clear();
  }

  /** The kernel of `op` (unless the check has a name of its own) found `index` outside [0, size). */
  fail(check: IndexCheck, op: string, index: number, size: number): void {
    check.state = 'failed';
    check.op = check.name?.op ?? op;
    check.what = check.name?.what ?? 'a dimension';
    check.index = index;
    check.size = size;
  }

  /** `buffer` was released: its contents (and their faults) are gone. */
  forget(buffer: GPUBuffer): void {
    const cs = this.carried.get(buffer);
    if (!cs) return;
    for (const c of cs) c.buffers.delete(buffer);
    this.carried.delete(buffer);
  }
}
