// The settings of the page's two tabs and the messages between the page (page.ts, mnist_tab.ts)
// and the Web Workers that train (train_worker.ts, mnist_worker.ts). Training runs in a worker so
// the page stays responsive, and because the cpu device's WebAssembly threads need a thread that
// may block (a page's main thread may not).

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

/** Small by default (108k parameters with the built-in text): several steps per second on the cpu
 *  device's WebAssembly kernels (5.7 with two threads, measured on a busy 2-core machine). */
export const DEFAULT_SETTINGS: RunSettings = {
  device: 'auto', nLayer: 2, nHead: 4, nEmbd: 64, blockSize: 64, batchSize: 16, lr: 3e-3,
  sampleEvery: 50, sampleLength: 160, seed: 1337,
};

/** The MNIST tab's settings (LeNet-5 is fixed). */
export interface MnistSettings {
  device: DeviceChoice;
  batchSize: number;
  lr: number;
  /** Measure the held-out accuracy every this many steps, on the first `evalSize` held-out digits. */
  evalEvery: number;
  evalSize: number;
  seed: number;
}

export const DEFAULT_MNIST_SETTINGS: MnistSettings = { device: 'auto', batchSize: 32, lr: 1e-3, evalEvery: 50, evalSize: 1000, seed: 1 };

export interface MnistReset { type: 'reset'; settings: MnistSettings }

/** What the page sends a training worker; `Reset` is the worker's own reset message. */
export type ToWorker<Reset = GptReset> =
  /** Build a new model (stops a running one first). */
  | Reset
  | { type: 'start' }
  | { type: 'pause' }
  /** Reply with the weights as a safetensors file ('weights'). */
  | { type: 'weights' };

export interface GptReset { type: 'reset'; text: string; settings: RunSettings }

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
  | { type: 'ready'; parameters: number }
  /** `itemsPerSecond`: tokens (GPT) or images (MNIST) per second over the last steps. */
  | { type: 'step'; step: number; loss: number; itemsPerSecond: number; stepsPerSecond: number }
  | { type: 'sample'; step: number; text: string }
  /** Accuracy on `evaluated` held-out digits, and the first of them (u8 grey levels, 28×28 each) with
   *  their labels and the model's predictions. */
  | { type: 'eval'; step: number; accuracy: number; evaluated: number; shown: { pixels: Uint8Array; labels: number[]; predicted: number[] } }
  | { type: 'state'; running: boolean }
  | { type: 'weights'; bytes: ArrayBuffer; step: number }
  | { type: 'error'; message: string };
