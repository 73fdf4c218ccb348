// The Web Worker that trains: picks the device (WebGPU through navigator.gpu, else the cpu device
// with as many WebAssembly threads as the page's cross-origin isolation allows), builds a character
// GPT on the page's text, runs AdamW steps while the page says so, and reports every step's loss,
// a text sample every `sampleEvery` steps and, on request, the weights as safetensors.
//
// Every piece of work on the model (a step, a sample, an export, a reset) runs through `exclusive`,
// one after another, so an export taken while training is one step's weights, not a mix of two.
import { getNumThreads, initWebGPU, keep, manualSeed, startCpuThreads, tensor, tidy, type DeviceName } from '@webgrad/core';
import { GPT, toSafetensorsBytes } from '@webgrad/nn';
import { AdamW, clipGradNorm } from '@webgrad/optim';
import { getBatch } from '../shared/batches.js';
import { CharTokenizer } from '../shared/char_tokenizer.js';
import type { DeviceChoice, DeviceReport, FromWorker, RunSettings, ToWorker } from './protocol.js';

const post = (m: FromWorker, transfer: Transferable[] = []) => { (self as unknown as Worker).postMessage(m, transfer); };

interface Run {
  settings: RunSettings;
  device: DeviceName;
  tok: CharTokenizer;
  data: Int32Array;
  model: GPT;
  opt: AdamW;
  step: number;
}

let run: Run | null = null;
let running = false;
let loop: Promise<void> | null = null;
let lock: Promise<unknown> = Promise.resolve();
let webgpu: Promise<DeviceReport> | null = null;
let cpuReady: Promise<void> | null = null;

function exclusive<T>(f: () => Promise<T>): Promise<T> {
  const next = lock.then(f);
  lock = next.catch(() => {});
  return next;
}

/** A macrotask break (not clamped like a nested setTimeout), so messages from the page get in between steps. */
function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => { const ch = new MessageChannel(); ch.port1.onmessage = () => resolve(); ch.port2.postMessage(null); });
}

function cpuReport(extra: Partial<DeviceReport> = {}): DeviceReport {
  return { device: 'cpu', threads: getNumThreads(), crossOriginIsolated: globalThis.crossOriginIsolated === true, ...extra };
}

/** The first sentence of an error (the library's messages go on with installation hints for Node). */
const firstSentence = (e: unknown) => (e instanceof Error ? e.message : String(e)).split(/\.(\s|$)/)[0]!;

async function selectDevice(choice: DeviceChoice): Promise<DeviceReport> {
  cpuReady ??= startCpuThreads();
  await cpuReady; // batches are drawn on the cpu device whichever device trains
  if (choice === 'cpu') return cpuReport();
  webgpu ??= (async () => {
    if (!navigator.gpu) throw new Error('this browser has no navigator.gpu');
    const info = await initWebGPU({ setDefault: false });
    const adapter = [info.vendor, info.architecture, info.description].join(' ').replace(/\s+/g, ' ').trim() || 'unnamed adapter';
    return { device: 'webgpu', adapter, software: info.isSoftware, threads: getNumThreads(), crossOriginIsolated: globalThis.crossOriginIsolated === true };
  })();
  let report: DeviceReport;
  try {
    report = await webgpu;
  } catch (e) {
    webgpu = null;
    return cpuReport({ fallbackReason: firstSentence(e) });
  }
  return choice === 'auto' && report.software ? cpuReport({ softwareAdapter: report.adapter! }) : report;
}

function dispose(): void {
  if (!run) return;
  run.opt.dispose();
  run.model.dispose();
  run = null;
}

async function reset(text: string, settings: RunSettings): Promise<void> {
  dispose();
  const report = await selectDevice(settings.device);
  post({ type: 'device', ...report });
  const tok = CharTokenizer.fromText(text);
  const data = tok.encode(text);
  if (data.length < settings.blockSize + 2) {
    throw new RangeError(`the text has ${data.length} characters; a context of ${settings.blockSize} needs at least ${settings.blockSize + 2}`);
  }
  if (settings.nEmbd % settings.nHead !== 0) {
    throw new RangeError(`the embedding width (${settings.nEmbd}) must be a multiple of the number of heads (${settings.nHead})`);
  }
  manualSeed(settings.seed);
  const { nLayer, nHead, nEmbd, blockSize } = settings;
  const model = new GPT({ vocabSize: tok.vocabSize, blockSize, nLayer, nHead, nEmbd, dropout: 0, bias: true, device: report.device });
  const opt = new AdamW(model.configureOptimizerGroups(0.1), { lr: settings.lr, betas: [0.9, 0.99] });
  run = { settings, device: report.device, tok, data, model, opt, step: 0 };
  post({ type: 'ready', vocabSize: tok.vocabSize, parameters: model.numParameters(), tokens: data.length });
}

async function trainStep(r: Run): Promise<{ loss: number; ms: number }> {
  const t0 = performance.now();
  const { batchSize, blockSize } = r.settings;
  const loss = tidy(() => {
    const { x, y } = getBatch(r.data, batchSize, blockSize, r.device);
    const l = r.model.forward(x, y).loss!;
    l.backward();
    clipGradNorm(r.opt.params(), 1).dispose();
    r.opt.step();
    r.opt.zeroGrad();
    return keep(l);
  });
  const value = await loss.item();
  loss.dispose();
  r.step++;
  return { loss: value, ms: performance.now() - t0 };
}

/** `length` characters continuing a newline (or the text's first character). */
async function sample(r: Run): Promise<string> {
  const start = r.tok.chars.includes('\n') ? '\n' : r.tok.chars[0]!;
  const idx = tensor(r.tok.encode(start), { shape: [1, 1], dtype: 'int32', device: r.device });
  try {
    const out = await r.model.generate(idx, { maxNewTokens: r.settings.sampleLength, temperature: 0.8, topK: 20 });
    const ids = await out.data();
    out.dispose();
    return r.tok.decode(ids.subarray(1));
  } finally {
    idx.dispose();
  }
}

async function trainLoop(): Promise<void> {
  // Throughput over the last steps, so one slow step (a pipeline compile, a sample) does not dominate.
  const recent: number[] = [];
  while (running && run) {
    const r = run;
    const { loss, ms } = await exclusive(() => trainStep(r));
    recent.push(ms);
    if (recent.length > 20) recent.shift();
    const meanMs = recent.reduce((a, b) => a + b, 0) / recent.length;
    post({ type: 'step', step: r.step, loss, stepsPerSecond: 1000 / meanMs, tokensPerSecond: (1000 / meanMs) * r.settings.batchSize * r.settings.blockSize });
    if (!Number.isFinite(loss)) throw new Error(`the loss became ${loss} at step ${r.step}; lower the learning rate and reset`);
    if (r.step % r.settings.sampleEvery === 0) post({ type: 'sample', step: r.step, text: await exclusive(() => sample(r)) });
    await yieldToEvents();
  }
}

function start(): void {
  if (running || !run) return;
  running = true;
  post({ type: 'state', running: true });
  loop = trainLoop()
    .catch((e) => { post({ type: 'error', message: (e as Error).message }); })
    .finally(() => { running = false; loop = null; post({ type: 'state', running: false }); });
}

async function stop(): Promise<void> {
  running = false;
  await loop;
}

async function handle(m: ToWorker): Promise<void> {
  switch (m.type) {
    case 'start': await lock; start(); return; // after a pending reset
    case 'pause': await stop(); return;
    case 'reset':
      await stop();
      await exclusive(() => reset(m.text, m.settings));
      return;
    case 'weights': {
      const bytes = await exclusive(async () => {
        if (!run) throw new Error('there is no model yet');
        const { settings, tok, step } = run;
        const { nLayer, nHead, nEmbd, blockSize } = settings;
        const config = { vocabSize: tok.vocabSize, blockSize, nLayer, nHead, nEmbd, bias: true };
        return { step, file: await toSafetensorsBytes(run.model, { metadata: { model: 'GPT', config: JSON.stringify(config), chars: JSON.stringify(tok.chars), step: String(step) } }) };
      });
      const copy = bytes.file.slice().buffer; // a standalone buffer to transfer
      post({ type: 'weights', bytes: copy, step: bytes.step }, [copy]);
      return;
    }
  }
}

self.onmessage = (ev: MessageEvent<ToWorker>) => {
  handle(ev.data).catch((e) => { post({ type: 'error', message: (e as Error).message }); });
};
