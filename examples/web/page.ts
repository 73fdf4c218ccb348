// The page: two tabs, each driving its own training worker. The character GPT tab (this file):
// the text box, model settings and controls, the loss plot and the samples; the MNIST tab is
// mnist_tab.ts, started when first opened. The workers train; the page only sends commands and
// shows what they report. The runs' state is also kept on `window.webgradRun` and
// `window.webgradMnist` for scripts that drive the page.
import { DEFAULT_TEXT } from './default_text.js';
import { openMnistTab } from './mnist_tab.js';
import { drawLossPlot, type LossPoint } from './plot.js';
import { DEFAULT_SETTINGS, type DeviceReport, type FromWorker, type RunSettings, type ToWorker } from './protocol.js';
import { $, fillForm, notice, readForm, saveFile, setActiveTab, showDevice, type TabName } from './ui.js';

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

const text = $<HTMLTextAreaElement>('text');
const form = $<HTMLFormElement>('settings');
const buttons = { start: $<HTMLButtonElement>('start'), pause: $<HTMLButtonElement>('pause'), reset: $<HTMLButtonElement>('reset'), download: $<HTMLButtonElement>('download') };
const plot = document.getElementById('plot') as unknown as SVGSVGElement;

const worker = new Worker(new URL('./train_worker.js', import.meta.url), { type: 'module' });
const send = (m: ToWorker) => { worker.postMessage(m); };

fillForm(form, DEFAULT_SETTINGS);

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

// Redraws wait for the next frame, so a burst of fast steps costs one redraw.
let drawPending = false;
function redraw(): void {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => { drawPending = false; drawLossPlot(plot, run.losses, 'loss (nats per character)'); });
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

worker.onmessage = (ev: MessageEvent<FromWorker>) => {
  const m = ev.data;
  switch (m.type) {
    case 'device': run.device = m; showDevice('gpt', m); break;
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
      $('stat-tps').textContent = Math.round(m.itemsPerSecond).toLocaleString('en-US');
      $('stat-sps').textContent = fmt(m.stepsPerSecond, 1);
      redraw();
      break;
    case 'sample': showSample(m.step, m.text); break;
    case 'state': setRunning(m.running); break;
    case 'weights': saveFile(m.bytes, `char-gpt-step${m.step}.safetensors`); run.downloads++; break;
    case 'error':
      run.errors.push(m.message);
      notice('gpt', m.message, 'error');
      console.error(`training: ${m.message}`);
      break;
    case 'eval': break;
  }
};
worker.onerror = (e) => {
  run.errors.push(e.message);
  notice('gpt', `the training worker failed: ${e.message}`, 'error');
};

function reset(): void {
  let settings: RunSettings;
  try {
    settings = readForm(form, DEFAULT_SETTINGS);
  } catch (e) {
    notice('gpt', (e as Error).message, 'error');
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
  notice('gpt', '');
  redraw();
  send({ type: 'reset', text: text.value, settings });
}

buttons.start.addEventListener('click', () => send({ type: 'start' }));
buttons.pause.addEventListener('click', () => send({ type: 'pause' }));
buttons.reset.addEventListener('click', reset);
buttons.download.addEventListener('click', () => send({ type: 'weights' }));
reset();

// Tabs: the MNIST tab's worker starts when the tab is first opened.
const tabs = Array.from(document.querySelectorAll<HTMLButtonElement>('[role="tab"]'));
for (const tab of tabs) {
  tab.addEventListener('click', () => {
    const name = tab.dataset.tab as TabName;
    for (const t of tabs) t.setAttribute('aria-selected', String(t === tab));
    $('tab-gpt').hidden = name !== 'gpt';
    $('tab-mnist').hidden = name !== 'mnist';
    if (name === 'mnist') openMnistTab();
    setActiveTab(name);
  });
}
