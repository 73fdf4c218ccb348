// The browser test's Web Worker: the cpu smoke run with two kernel threads (a worker may block in
// Atomics.wait, and the page is cross-origin isolated, so SharedArrayBuffer is available).
import { setNumThreads, startCpuThreads } from '@webgrad/core';
import { smokeRun } from './smoke.js';

try {
  setNumThreads(2);
  await startCpuThreads();
  postMessage(await smokeRun('cpu'));
} catch (e) {
  postMessage({ error: String((e as Error).stack ?? e) });
}
