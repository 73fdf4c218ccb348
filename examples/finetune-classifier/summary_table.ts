// The comparison table printed at the end of a run: one row per model (and number of labelled
// mails) with its test accuracy, F1, ROC-AUC and wall time, as a Markdown table (readable in a
// terminal, pasteable in a report).

export interface SummaryRow { model: string; labels?: number; accuracy: number; f1: number; rocAuc: number; wallSeconds: number }

const num = (x: number, digits = 4) => (Number.isFinite(x) ? x.toFixed(digits) : '–');

export function formatTable(rows: readonly SummaryRow[]): string {
  const cells = [
    ['model', 'labelled mails', 'accuracy', 'F1', 'ROC-AUC', 'wall time'],
    ...rows.map((r) => [
      r.model, r.labels === undefined ? '–' : String(r.labels), num(r.accuracy), num(r.f1), num(r.rocAuc),
      Number.isFinite(r.wallSeconds) ? `${r.wallSeconds.toFixed(1)} s` : '–',
    ]),
  ];
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((row) => row[c]!.length)));
  const line = (row: string[]) => `| ${row.map((x, c) => (c === 0 ? x.padEnd(widths[c]!) : x.padStart(widths[c]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, c) => (c === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(cells[0]!), rule, ...cells.slice(1).map(line)].join('\n');
}
