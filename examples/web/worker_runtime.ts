// What the two training workers (train_worker.ts: the character GPT; mnist_worker.ts: LeNet-5)
// share: choosing the device, the start/pause loop with its throughput figures, and the handling
// of the page's commands.
//
// Every piece of work on a model (a step, a sample or evaluation, an export, a reset) runs through
// `exclusive`, one after another, so an export taken while training holds one step's weights, not
// a mix of two; between steps the loop yields to the event loop so the page's commands get in.
import { getNumThreads, initWebGPU, startCpuThreads } from '@webgrad/core';
import type { DeviceChoice, DeviceReport, FromWorker, ToWorker } from './protocol.js';

export const post = (m: FromWorker, transfer: Transferable[] = []) => { (self as unknown as Worker).postMessage(m, transfer); };

let lock: Promise<unknown> = Promise.resolve();
function exclusive<T>(f: () => Promise<T>): Promise<T> {
  const next = lock.then(f);
  lock = next.catch(() => {});
  return next;
}

/** A macrotask break (not clamped like a nested setTimeout), so messages from the page get in between steps. */
function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => { const ch = new MessageChannel(); ch.port1.onmessage = () => resolve(); ch.port2.postMessage(null); });
}

let webgpu: Promise<DeviceReport> | null = null;
let cpuReady: Promise<void> | null = null;

function cpuReport(extra: Partial<DeviceReport> = {}): DeviceReport {
  return { device: 'cpu', threads: getNumThreads(), crossOriginIsolated: globalThis.crossOriginIsolated === true, ...extra };
}

/** The first sentence of an error (the library's messages go on with installation hints for Node). */
const firstSentence = (e: unknown) => (e instanceof Error ? e.message : String(e)).split(/\.(\s|$)/)[0]!;

/** 'webgpu' when an adapter comes back (for 'auto': a hardware one), else 'cpu' with the reason. */
export async function selectDevice(choice: DeviceChoice): Promise<DeviceReport> {
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

/** A model the page trains: built on reset, stepped by the loop, exported on request. */
export interface TrainingJob<Reset> {
  /** Dispose of the current model (if any) and build one for `m`; returns the parameter count. */
  reset(m: Reset): Promise<number>;
  /** Whether there is a model to train. */
  ready(): boolean;
  /** One optimizer step: its number, its loss and how many items (tokens, images) it consumed. */
  step(): Promise<{ step: number; loss: number; items: number }>;
  /** Work after step `step` (samples, evaluations), run exclusively like the steps. */
  afterStep(step: number): Promise<void>;
  /** The weights as a safetensors file, and the step they are from. */
  weights(): Promise<{ bytes: Uint8Array; step: number }>;
}

/** Answers the page's commands for `job`. */
export function serveJob<Reset extends { type: 'reset' }>(job: TrainingJob<Reset>): void {
  let running = false;
  let loop: Promise<void> | null = null;

  async function trainLoop(): Promise<void> {
    // Throughput over the last steps, so one slow step (a pipeline compile) does not dominate.
    const recent: { ms: number; items: number }[] = [];
    while (running && job.ready()) {
      const t0 = performance.now();
      const { step, loss, items } = await exclusive(() => job.step());
      recent.push({ ms: performance.now() - t0, items });
      if (recent.length > 20) recent.shift();
      const seconds = recent.reduce((a, r) => a + r.ms, 0) / 1000;
      post({ type: 'step', step, loss, stepsPerSecond: recent.length / seconds, itemsPerSecond: recent.reduce((a, r) => a + r.items, 0) / seconds });
      if (!Number.isFinite(loss)) throw new Error(`the loss became ${loss} at step ${step}; lower the learning rate and reset`);
      await exclusive(() => job.afterStep(step));
      await yieldToEvents();
    }
  }

  function start(): void {
    if (running || !job.ready()) return;
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

  async function handle(m: ToWorker<Reset>): Promise<void> {
    switch (m.type) {
      case 'start': await lock; start(); return; // after a pending reset
      case 'pause': await stop(); return;
      case 'reset': {
        await stop();
        const parameters = await exclusive(() => job.reset(m as Reset));
        post({ type: 'ready', parameters });
        return;
      }
      case 'weights': {
        const { bytes, step } = await exclusive(() => job.weights());
        const copy = bytes.slice().buffer; // a standalone buffer to transfer
        post({ type: 'weights', bytes: copy, step }, [copy]);
        return;
      }
    }
  }

  self.onmessage = (ev: MessageEvent<ToWorker<Reset>>) => {
    handle(ev.data).catch((e) => { post({ type: 'error', message: (e as Error).message }); });
  };
}
