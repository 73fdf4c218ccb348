// The page: the text box, model settings and controls, the device indicator, the loss plot and the
// samples. Training happens in train_worker.ts; this file only sends it commands and shows what it
// reports. The run's state is also kept on `window.webgradRun` for scripts that drive the page.
import { DEFAULT_TEXT } from './default_text.js';
import { drawLossPlot, type LossPoint } from './plot.js';
import { DEFAULT_SETTINGS, type DeviceReport, type FromWorker, type RunSettings, type ToWorker } from './protocol.js';

export interface RunState {
  ready: boolean;
  running: boolean;
  device: DeviceReport | null;
  losses: LossPoint[];
  samples: { step: number; text: string }[];
  errors: string[];
  downloads: number;
}

const run: RunState = { ready: false, running: false, device: null, losses: [], samples: [], errors: [], downloads: 0 };
(window as unknown as { webgradRun: RunState }).webgradRun = run;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const text = $<HTMLTextAreaElement>('text');
const form = $<HTMLFormElement>('settings');
const buttons = { start: $<HTMLButtonElement>('start'), pause: $<HTMLButtonElement>('pause'), reset: $<HTMLButtonElement>('reset'), download: $<HTMLButtonElement>('download') };
const plot = document.getElementById('plot') as unknown as SVGSVGElement;

const worker = new Worker(new URL('./train_worker.js', import.meta.url), { type: 'module' });
const send = (m: ToWorker) => { worker.postMessage(m); };

// Settings: the form's inputs are named after RunSettings' fields.
for (const [k, v] of Object.entries(DEFAULT_SETTINGS)) {
  const input = form.elements.namedItem(k) as HTMLInputElement | HTMLSelectElement | null;
  if (input) input.value = String(v);
}
function readSettings(): RunSettings {
  const s = { ...DEFAULT_SETTINGS } as unknown as Record<string, number | string>;
  for (const k of Object.keys(DEFAULT_SETTINGS)) {
    const input = form.elements.namedItem(k) as HTMLInputElement | HTMLSelectElement | null;
    if (!input) continue;
    if (input instanceof HTMLSelectElement) { s[k] = input.value; continue; }
    const v = Number(input.value);
    if (input.value.trim() === '' || !Number.isFinite(v) || v < Number(input.min) || v > Number(input.max)) {
      throw new RangeError(`${input.closest('label')?.firstChild?.textContent?.trim() ?? k} must be a number from ${input.min} to ${input.max}, got '${input.value}'`);
    }
    s[k] = input.step === 'any' ? v : Math.round(v);
  }
  return s as unknown as RunSettings;
}

// Text: the built-in sonnets until the user pastes or drops something else.
text.value = DEFAULT_TEXT;
const showTextStats = () => { $('text-stats').textContent = `${[...text.value].length.toLocaleString('en-US')} characters, ${new Set(text.value).size} distinct.`; };
showTextStats();
text.addEventListener('input', showTextStats);
text.addEventListener('dragover', (e) => { e.preventDefault(); text.classList.add('drop'); });
text.addEventListener('dragleave', () => text.classList.remove('drop'));
text.addEventListener('drop', (e) => {
  e.preventDefault();
  text.classList.remove('drop');
  const file = e.dataTransfer?.files[0];
  if (file) void file.text().then((t) => { text.value = t; showTextStats(); });
});

function notice(message: string, kind: 'info' | 'error' = 'info'): void {
  const n = $('notice');
  n.hidden = message === '';
  n.textContent = message;
  n.classList.toggle('error', kind === 'error');
}

function showDevice(d: DeviceReport): void {
  const badge = $('device');
  badge.classList.toggle('cpu', d.device === 'cpu');
  const threads = `${d.threads} thread${d.threads === 1 ? '' : 's'}`;
  badge.textContent = d.device === 'webgpu'
    ? `WebGPU · ${d.adapter}${d.software ? ' (software)' : ''}`
    : `cpu · WebAssembly, ${threads}`;
  badge.title = badge.textContent;
  const parts: string[] = [];
  if (d.fallbackReason) parts.push(`WebGPU is not available in this browser (${d.fallbackReason}), so the model trains on the cpu device (WebAssembly, ${threads}).`);
  if (d.softwareAdapter) {
    parts.push(`The only WebGPU adapter here, ${d.softwareAdapter}, is a software renderer and slower than the cpu device, so the model trains on the cpu device (WebAssembly, ${threads}). Choose device "webgpu" and Reset to use the adapter anyway.`);
  }
  if (d.device === 'cpu' && !d.crossOriginIsolated) {
    parts.push('This page is not cross-origin isolated (the server sent no COOP/COEP headers), so the cpu device runs on one thread.');
  }
  notice(parts.join(' '));
}

// Redraws wait for the next frame, so a burst of fast steps costs one redraw.
let drawPending = false;
function redraw(): void {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => { drawPending = false; drawLossPlot(plot, run.losses); });
}

const fmt = (v: number, digits: number) => v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
function setRunning(running: boolean): void {
  run.running = running;
  buttons.start.disabled = running || !run.ready;
  buttons.pause.disabled = !running;
}

function showSample(step: number, sample: string): void {
  const last = run.samples[run.samples.length - 1];
  if (last) {
    const pre = document.createElement('pre');
    pre.textContent = `step ${last.step}\n${last.text}`;
    $('history').prepend(pre);
  }
  run.samples.push({ step, text: sample });
  $('sample').textContent = sample;
  $('sample-step').textContent = `(step ${step})`;
}

function download(bytes: ArrayBuffer, step: number): void {
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = `char-gpt-step${step}.safetensors`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  run.downloads++;
}

worker.onmessage = (ev: MessageEvent<FromWorker>) => {
  const m = ev.data;
  switch (m.type) {
    case 'device': run.device = m; showDevice(m); break;
    case 'ready':
      run.ready = true;
      $('stat-params').textContent = m.parameters.toLocaleString('en-US');
      buttons.download.disabled = false;
      setRunning(false);
      break;
    case 'step':
      run.losses.push({ step: m.step, loss: m.loss });
      $('stat-step').textContent = m.step.toLocaleString('en-US');
      $('stat-loss').textContent = fmt(m.loss, 3);
      $('stat-tps').textContent = Math.round(m.tokensPerSecond).toLocaleString('en-US');
      $('stat-sps').textContent = fmt(m.stepsPerSecond, 1);
      redraw();
      break;
    case 'sample': showSample(m.step, m.text); break;
    case 'state': setRunning(m.running); break;
    case 'weights': download(m.bytes, m.step); break;
    case 'error':
      run.errors.push(m.message);
      notice(m.message, 'error');
      console.error(`training: ${m.message}`);
      break;
  }
};
worker.onerror = (e) => {
  run.errors.push(e.message);
  notice(`the training worker failed: ${e.message}`, 'error');
};

function reset(): void {
  let settings: RunSettings;
  try {
    settings = readSettings();
  } catch (e) {
    notice((e as Error).message, 'error');
    return;
  }
  run.ready = false;
  run.losses = [];
  run.samples = [];
  setRunning(false);
  buttons.download.disabled = true;
  for (const id of ['stat-loss', 'stat-tps', 'stat-sps']) $(id).textContent = '–';
  $('stat-step').textContent = '0';
  $('sample').textContent = 'Samples appear here while the model trains.';
  $('sample-step').textContent = '';
  $('history').replaceChildren();
  notice('');
  redraw();
  send({ type: 'reset', text: text.value, settings });
}

buttons.start.addEventListener('click', () => send({ type: 'start' }));
buttons.pause.addEventListener('click', () => send({ type: 'pause' }));
buttons.reset.addEventListener('click', reset);
buttons.download.addEventListener('click', () => send({ type: 'weights' }));
reset();
