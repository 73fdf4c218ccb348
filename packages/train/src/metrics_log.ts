// A JSONL metrics log: one JSON object per line, appended as training runs, so a crash keeps
// everything logged so far and other tools can tail it.
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

/** One line of metrics.jsonl: a record `type` ('train', 'eval', …), the optimizer step, and any other fields. */
export type MetricsRecord = {
  /** 'train', 'eval', 'config', 'summary', or a record type of the caller's. */
  type: string;
  /** The optimizer step the record belongs to. */
  step: number;
} & Record<string, unknown>;

/** A JSON Lines metrics log at `path`, appended as training runs, so a crash keeps everything logged so far. */
export class MetricsLog {
  /** @param path The JSONL file (created by `reset`, appended to by `append`). */
  constructor(readonly path: string) {}

  /** Start empty, or (resuming) keep only the records that `keep` accepts. */
  reset(keep?: (r: MetricsRecord) => boolean): MetricsRecord[] {
    const kept = keep ? readMetrics(this.path).filter(keep) : [];
    writeFileSync(this.path, kept.map((r) => `${JSON.stringify(r)}\n`).join(''));
    return kept;
  }

  /** Appends one record as a line (synchronously, so it is on disk before the next step). */
  append(record: MetricsRecord): void {
    appendFileSync(this.path, `${JSON.stringify(record)}\n`);
  }
}

/** Every record of a JSONL file (missing file → none; a torn last line is skipped). */
export function readMetrics(path: string): MetricsRecord[] {
  if (!existsSync(path)) return [];
  const out: MetricsRecord[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try { out.push(JSON.parse(line) as MetricsRecord); } catch { /* a line cut short by a crash */ }
  }
  return out;
}
