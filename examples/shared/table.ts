// Plain-text tables for the examples' summaries: a header row, a rule, and right-aligned numbers.

/** Columns padded to their widest cell; cells that look numeric are right-aligned. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const numeric = (s: string) => /^[-+]?[\d.,]+(%| s| ms)?$/.test(s);
  const line = (cells: readonly string[]) => cells
    .map((cell, c) => (numeric(cell) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
    .join('  ')
    .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** A fraction as a percentage with two decimals: 0.98125 → "98.13%". */
export const percent = (v: number): string => `${(100 * v).toFixed(2)}%`;
