// The messages between the page (page.ts: the controls, plot and samples) and the Web Worker that
// trains (train_worker.ts). Training runs in a worker so the page stays responsive, and because the
// cpu device's WebAssembly threads need a thread that may block (a page's main thread may not).

/** 'auto': WebGPU on a hardware adapter, else the cpu device (as the Node examples' --device auto). */
export type DeviceChoice = 'auto' | 'webgpu' | 'cpu';

/** What the page lets the user set; applied on reset. */
export interface RunSettings {
  device: DeviceChoice;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  blockSize: number;
  batchSize: number;
  lr: number;
  /** Generate a sample every this many steps. */
  sampleEvery: number;
  /** Characters per sample. */
  sampleLength: number;
  seed: number;
}

/** Small enough to train at a few steps per second on a software WebGPU adapter or one CPU thread. */
export const DEFAULT_SETTINGS: RunSettings = {
  device: 'auto', nLayer: 2, nHead: 4, nEmbd: 64, blockSize: 64, batchSize: 16, lr: 3e-3,
  sampleEvery: 50, sampleLength: 160, seed: 1337,
};

export type ToWorker =
  /** Build a new model on `text` (stops a running one first). */
  | { type: 'reset'; text: string; settings: RunSettings }
  | { type: 'start' }
  | { type: 'pause' }
  /** Reply with the weights as a safetensors file ('weights'). */
  | { type: 'weights' };

export interface DeviceReport {
  device: 'webgpu' | 'cpu';
  /** The adapter's vendor, architecture and description (webgpu). */
  adapter?: string;
  software?: boolean;
  /** Why the cpu device runs although WebGPU was asked for or 'auto' (no navigator.gpu, no adapter). */
  fallbackReason?: string;
  /** 'auto' found only this software adapter (SwiftShader, lavapipe): slower than the cpu device, so
   *  the cpu device runs; choosing 'webgpu' uses the adapter anyway. */
  softwareAdapter?: string;
  /** Threads of the cpu device's kernels. */
  threads: number;
  crossOriginIsolated: boolean;
}

export type FromWorker =
  | ({ type: 'device' } & DeviceReport)
  | { type: 'ready'; vocabSize: number; parameters: number; tokens: number }
  | { type: 'step'; step: number; loss: number; tokensPerSecond: number; stepsPerSecond: number }
  | { type: 'sample'; step: number; text: string }
  | { type: 'state'; running: boolean }
  | { type: 'weights'; bytes: ArrayBuffer; step: number }
  | { type: 'error'; message: string };
