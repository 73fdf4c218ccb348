// The MNIST tab: LeNet-5 trained by mnist_worker.ts, with its loss plot, held-out accuracy and the
// first held-out digits with the model's answers (wrong ones in red). The worker starts the first
// time the tab is opened.
import { drawLossPlot, type LossPoint } from './plot.js';
import { DEFAULT_MNIST_SETTINGS, type DeviceReport, type FromWorker, type MnistReset, type MnistSettings, type ToWorker } from './protocol.js';
import { $, fillForm, notice, readForm, saveFile, showDevice } from './ui.js';

export interface MnistState {
  ready: boolean;
  running: boolean;
  device: DeviceReport | null;
  losses: LossPoint[];
  evals: { step: number; accuracy: number; evaluated: number; labels: number[]; predicted: number[] }[];
  errors: string[];
}

let opened = false;

export function openMnistTab(): void {
  if (opened) return;
  opened = true;
  const run: MnistState = { ready: false, running: false, device: null, losses: [], evals: [], errors: [] };
  (window as unknown as { webgradMnist: MnistState }).webgradMnist = run;
  const form = $<HTMLFormElement>('mnist-settings');
  const buttons = { start: $<HTMLButtonElement>('mnist-start'), pause: $<HTMLButtonElement>('mnist-pause'), reset: $<HTMLButtonElement>('mnist-reset'), download: $<HTMLButtonElement>('mnist-download') };
  const plot = document.getElementById('mnist-plot') as unknown as SVGSVGElement;
  const worker = new Worker(new URL('./mnist_worker.js', import.meta.url), { type: 'module' });
  const send = (m: ToWorker<MnistReset>) => { worker.postMessage(m); };
  fillForm(form, DEFAULT_MNIST_SETTINGS);

  let drawPending = false;
  const redraw = () => {
    if (drawPending) return;
    drawPending = true;
    requestAnimationFrame(() => { drawPending = false; drawLossPlot(plot, run.losses, 'loss (cross-entropy, nats)'); });
  };
  const setRunning = (running: boolean) => {
    run.running = running;
    buttons.start.disabled = running || !run.ready;
    buttons.pause.disabled = !running;
  };

  /** Each shown digit as a 28×28 canvas (scaled up by CSS), captioned with the model's answer. */
  function showDigits(step: number, shown: { pixels: Uint8Array; labels: number[]; predicted: number[] }): void {
    const figures = shown.labels.map((label, i) => {
      const canvas = document.createElement('canvas');
      canvas.width = canvas.height = 28;
      const img = new ImageData(28, 28);
      for (let p = 0; p < 784; p++) {
        const v = 255 - shown.pixels[i * 784 + p]!; // dark ink on white
        img.data.set([v, v, v, 255], p * 4);
      }
      canvas.getContext('2d')!.putImageData(img, 0, 0);
      const fig = document.createElement('figure');
      const wrong = shown.predicted[i] !== label;
      if (wrong) fig.classList.add('wrong');
      const caption = document.createElement('figcaption');
      caption.textContent = wrong ? `${shown.predicted[i]} (is ${label})` : String(label);
      fig.append(canvas, caption);
      return fig;
    });
    $('mnist-digits').replaceChildren(...figures);
    $('mnist-eval-step').textContent = `(step ${step})`;
  }

  worker.onmessage = (ev: MessageEvent<FromWorker>) => {
    const m = ev.data;
    switch (m.type) {
      case 'device': run.device = m; showDevice('mnist', m); break;
      case 'ready':
        run.ready = true;
        $('mnist-params').textContent = m.parameters.toLocaleString('en-US');
        buttons.download.disabled = false;
        setRunning(false);
        break;
      case 'step':
        run.losses.push({ step: m.step, loss: m.loss });
        $('mnist-step').textContent = m.step.toLocaleString('en-US');
        $('mnist-loss').textContent = m.loss.toFixed(3);
        $('mnist-ips').textContent = Math.round(m.itemsPerSecond).toLocaleString('en-US');
        redraw();
        break;
      case 'eval':
        run.evals.push({ step: m.step, accuracy: m.accuracy, evaluated: m.evaluated, labels: m.shown.labels, predicted: m.shown.predicted });
        $('mnist-acc').textContent = `${(100 * m.accuracy).toFixed(1)}%`;
        $('mnist-acc-n').textContent = `(${m.evaluated.toLocaleString('en-US')} held out)`;
        showDigits(m.step, m.shown);
        break;
      case 'state': setRunning(m.running); break;
      case 'weights': saveFile(m.bytes, `lenet5-mnist-step${m.step}.safetensors`); break;
      case 'error':
        run.errors.push(m.message);
        notice('mnist', m.message, 'error');
        console.error(`training: ${m.message}`);
        break;
      case 'sample': break;
    }
  };
  worker.onerror = (e) => {
    run.errors.push(e.message);
    notice('mnist', `the training worker failed: ${e.message}`, 'error');
  };

  function reset(): void {
    let settings: MnistSettings;
    try {
      settings = readForm(form, DEFAULT_MNIST_SETTINGS);
    } catch (e) {
      notice('mnist', (e as Error).message, 'error');
      return;
    }
    Object.assign(run, { ready: false, losses: [], evals: [] });
    setRunning(false);
    buttons.download.disabled = true;
    for (const id of ['mnist-loss', 'mnist-ips', 'mnist-acc']) $(id).textContent = '–';
    $('mnist-step').textContent = '0';
    notice('mnist', '');
    redraw();
    send({ type: 'reset', settings });
  }

  buttons.start.addEventListener('click', () => send({ type: 'start' }));
  buttons.pause.addEventListener('click', () => send({ type: 'pause' }));
  buttons.reset.addEventListener('click', reset);
  buttons.download.addEventListener('click', () => send({ type: 'weights' }));
  reset();
}
