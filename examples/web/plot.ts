// The loss curve: an SVG line plot with axes, ticks, grid and labels, redrawn from the list of
// (step, loss) points. The raw losses are drawn thin and light, an exponential moving average
// of them thick on top (one batch's loss is noisy; the average shows the trend).

export interface LossPoint { step: number; loss: number }

const SVG = 'http://www.w3.org/2000/svg';
const W = 640, H = 300;
const M = { left: 56, right: 18, top: 30, bottom: 44 };
/** Colours of the raw and the smoothed curve (the test looks for the smoothed one's pixels). */
export const RAW_COLOR = '#f2b07b';
export const SMOOTH_COLOR = '#c2410c';
const MAX_POINTS = 800;

/** Round tick values (1, 2 or 5 × 10^k apart, about `count` of them) from at or below `lo` to at or above `hi`. */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  const span = hi - lo || Math.abs(hi) || 1;
  const raw = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const first = Math.floor(lo / step + 1e-9), last = Math.ceil(hi / step - 1e-9);
  const ticks: number[] = [];
  for (let i = first; i <= Math.max(last, first + 1); i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

/** Exponential moving average with bias correction (as TensorBoard's smoothing). */
export function smooth(values: readonly number[], weight = 0.9): number[] {
  let acc = 0;
  return values.map((v, i) => { acc = weight * acc + (1 - weight) * v; return acc / (1 - weight ** (i + 1)); });
}

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

const fmtTick = (v: number) => (Math.abs(v) >= 1000 ? `${v / 1000}k` : String(v));

export function drawLossPlot(svg: SVGSVGElement, points: readonly LossPoint[], yLabel: string): void {
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.replaceChildren();
  const pw = W - M.left - M.right, ph = H - M.top - M.bottom;
  const losses = points.map((p) => p.loss);
  const smoothed = smooth(losses);
  const xMax = Math.max(10, points.length ? points[points.length - 1]!.step : 0);
  // The y range covers the smoothed curve and the raw points after the first five (the first,
  // highest ones would flatten the rest; the smoothed curve still starts at the first loss).
  const lo = points.length ? Math.min(...losses) : 0;
  const hi = points.length ? Math.max(...smoothed, ...losses.slice(Math.min(5, losses.length - 1))) : 5;
  const yTicks = niceTicks(Math.max(0, lo - 0.05 * (hi - lo)), hi, 5);
  const yLo = yTicks[0]!, yHi = yTicks[yTicks.length - 1]!;
  const xTicks = niceTicks(0, xMax, 6).filter((t) => t <= xMax); // the x axis ends at the last step
  const sx = (s: number) => M.left + (s / xMax) * pw;
  const sy = (v: number) => M.top + (1 - (Math.min(Math.max(v, yLo), yHi) - yLo) / (yHi - yLo || 1)) * ph;

  const grid = el('g', { class: 'grid', stroke: '#e5e7eb', 'stroke-width': 1 });
  const labels = el('g', { class: 'ticks', fill: '#4b5563', 'font-size': 11, 'font-family': 'system-ui, sans-serif' });
  for (const t of yTicks) {
    grid.append(el('line', { x1: M.left, x2: W - M.right, y1: sy(t), y2: sy(t) }));
    labels.append(el('text', { x: M.left - 8, y: sy(t) + 4, 'text-anchor': 'end' }, t.toFixed(yHi - yLo < 1 ? 2 : 1)));
  }
  for (const t of xTicks) {
    grid.append(el('line', { x1: sx(t), x2: sx(t), y1: M.top, y2: H - M.bottom }));
    labels.append(el('text', { x: sx(t), y: H - M.bottom + 16, 'text-anchor': 'middle' }, fmtTick(t)));
  }
  const axes = el('path', { d: `M${M.left},${M.top}V${H - M.bottom}H${W - M.right}`, fill: 'none', stroke: '#374151', 'stroke-width': 1.2 });
  const axisLabels = el('g', { fill: '#111827', 'font-size': 12, 'font-family': 'system-ui, sans-serif' });
  axisLabels.append(el('text', { x: M.left + pw / 2, y: H - 8, 'text-anchor': 'middle' }, 'step'));
  axisLabels.append(el('text', { x: 14, y: M.top + ph / 2, 'text-anchor': 'middle', transform: `rotate(-90 14 ${M.top + ph / 2})` }, yLabel));
  svg.append(grid, axes, labels, axisLabels);

  if (!points.length) {
    svg.append(el('text', { x: M.left + pw / 2, y: M.top + ph / 2, 'text-anchor': 'middle', fill: '#9ca3af', 'font-size': 14, 'font-family': 'system-ui, sans-serif' }, 'press Start to train'));
    return;
  }
  // Long runs are thinned to at most MAX_POINTS vertices per curve (the last point always kept).
  const every = Math.ceil(points.length / MAX_POINTS);
  const path = (ys: readonly number[]) => points
    .map((p, i) => (i % every === 0 || i === points.length - 1 ? `${sx(p.step).toFixed(1)},${sy(ys[i]!).toFixed(1)}` : ''))
    .filter(Boolean).join(' ');
  const clip = el('clipPath', { id: 'plot-area' });
  clip.append(el('rect', { x: M.left, y: M.top, width: pw, height: ph }));
  svg.append(clip);
  svg.append(el('polyline', { points: path(losses), fill: 'none', stroke: RAW_COLOR, 'stroke-width': 1, 'clip-path': 'url(#plot-area)' }));
  svg.append(el('polyline', { points: path(smoothed), fill: 'none', stroke: SMOOTH_COLOR, 'stroke-width': 2.2, 'stroke-linejoin': 'round', 'clip-path': 'url(#plot-area)' }));
  const legend = el('g', { 'font-size': 11, 'font-family': 'system-ui, sans-serif', fill: '#374151' });
  const lx = W - M.right - 160, ly = M.top - 14; // above the plot area
  legend.append(el('line', { x1: lx, x2: lx + 18, y1: ly, y2: ly, stroke: RAW_COLOR, 'stroke-width': 2 }), el('text', { x: lx + 22, y: ly + 4 }, 'batch loss'));
  legend.append(el('line', { x1: lx + 88, x2: lx + 106, y1: ly, y2: ly, stroke: SMOOTH_COLOR, 'stroke-width': 2.5 }), el('text', { x: lx + 110, y: ly + 4 }, 'smoothed'));
  svg.append(legend);
}
