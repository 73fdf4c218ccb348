// What every suite receives: the mode, the shared GPU, TensorFlow.js, and where to put results.
import type { GPUSetup } from './gpu.js';
import type { Tf } from './tfjs.js';
import type { Entry } from './report.js';

export interface SuiteContext {
  /** `--quick`: fewer shapes and samples (about a minute on a GPU machine). */
  quick: boolean;
  gpu: GPUSetup | null;
  /** Why there is no GPU, when there is none. */
  gpuError?: string;
  tf: Tf | null;
  /** Results of this suite, in the order they are shown. */
  entries: Entry[];
  /** Anything else a suite wants in the JSON (memory snapshots, configs). */
  extra: Record<string, unknown>;
  log(msg: string): void;
}

export interface Suite {
  name: string;
  title: string;
  run(ctx: SuiteContext): Promise<void>;
}
