// A dependency-free SVG bar chart of the headline ratios.
//
// Every bar is an "advantage": > 1 means webgrad is better than the peer it is compared with
// (ours/peer for throughputs, peer/ours for times), on a log₂ axis so 0.5× and 2× are equally far
// from the 1× line. A bar's goal, when it has one, is a tick on the bar's row.

export interface Bar {
  label: string;
  /** > 1: webgrad better. null: no figure (drawn as "n/a"). */
  value: number | null;
  /** The advantage the goal asks for, if any. */
  goal?: number;
  group?: string;
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Renders `bars` (in order; a change of `group` starts a titled section) as an SVG document. */
export function barChartSvg(title: string, bars: readonly Bar[], subtitle = ''): string {
  const rowH = 20, groupH = 24, plotW = 460, valueW = 90, top = subtitle ? 62 : 46, left = 10;
  // Labels are right-aligned against the plot: size their column to the longest (≈6.5 px a character at 12 px).
  const labelW = Math.max(200, Math.ceil(Math.max(0, ...bars.map((b) => b.label.length)) * 6.5) + 20);
  const finite = bars.flatMap((b) => [b.value, b.goal]).filter((v): v is number => typeof v === 'number' && v > 0);
  const lo = Math.min(0.25, ...finite), hi = Math.max(4, ...finite);
  const l2 = (v: number) => Math.log2(v);
  const minE = Math.floor(l2(lo)), maxE = Math.ceil(l2(hi));
  const x0 = left + labelW;
  const xOf = (v: number) => x0 + ((l2(v) - minE) / (maxE - minE)) * plotW;
  const parts: string[] = [];
  let y = top;
  let group: string | undefined;
  const rows: string[] = [];
  for (const b of bars) {
    if (b.group !== undefined && b.group !== group) {
      group = b.group;
      rows.push(`<text x="${left}" y="${y + 16}" font-weight="bold" font-size="13">${escapeXml(group)}</text>`);
      y += groupH;
    }
    const cy = y + rowH / 2;
    rows.push(`<text x="${x0 - 8}" y="${cy + 4}" text-anchor="end" font-size="12">${escapeXml(b.label)}</text>`);
    if (b.value !== null && b.value > 0) {
      const x1 = xOf(1), xv = xOf(b.value);
      const good = b.goal === undefined ? b.value >= 1 : b.value >= b.goal;
      const color = good ? '#2e7d32' : '#c62828';
      rows.push(`<rect x="${Math.min(x1, xv).toFixed(1)}" y="${y + 3}" width="${Math.max(1, Math.abs(xv - x1)).toFixed(1)}" height="${rowH - 6}" fill="${color}" opacity="0.8"/>`);
      rows.push(`<text x="${x0 + plotW + 6}" y="${cy + 4}" font-size="12">${escapeXml(`${b.value >= 100 ? b.value.toFixed(0) : b.value.toPrecision(3)}×`)}</text>`);
    } else {
      rows.push(`<text x="${xOf(1) + 4}" y="${cy + 4}" font-size="12" fill="#777">n/a</text>`);
    }
    if (b.goal !== undefined && b.goal > 0) {
      const xg = xOf(b.goal);
      rows.push(`<line x1="${xg.toFixed(1)}" x2="${xg.toFixed(1)}" y1="${y + 1}" y2="${y + rowH - 1}" stroke="#000" stroke-width="2"/>`);
    }
    y += rowH;
  }
  const height = y + 34;
  const width = left + labelW + plotW + valueW;
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`);
  parts.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  parts.push(`<text x="${left}" y="22" font-size="16" font-weight="bold">${escapeXml(title)}</text>`);
  if (subtitle) parts.push(`<text x="${left}" y="40" font-size="11" fill="#555">${escapeXml(subtitle)}</text>`);
  for (let e = minE; e <= maxE; e++) {
    const v = 2 ** e, x = xOf(v);
    parts.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${top - 4}" y2="${y}" stroke="${e === 0 ? '#000' : '#ddd'}" stroke-width="${e === 0 ? 1.5 : 1}"/>`);
    parts.push(`<text x="${x.toFixed(1)}" y="${y + 16}" text-anchor="middle" font-size="11" fill="#555">${v >= 1 ? v : `1/${1 / v}`}×</text>`);
  }
  parts.push(...rows);
  parts.push(`<text x="${x0}" y="${y + 30}" font-size="11" fill="#555">right of 1×: webgrad better (throughput ratio, or speed-up for times); black tick: goal</text>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
