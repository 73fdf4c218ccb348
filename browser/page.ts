// The browser test's page: the smoke run on the cpu device (main thread: one thread, since a page's
// main thread may not block), on WebGPU through navigator.gpu, and on the cpu device with two
// threads inside a Web Worker; then it posts everything to the test's server.
import { initWebGPU, webgpuRuntime } from '@webgrad/core';
import { smokeRun } from './smoke.js';

const report: Record<string, unknown> = { crossOriginIsolated: globalThis.crossOriginIsolated, userAgent: navigator.userAgent };
const attempt = async (name: string, f: () => Promise<unknown>) => {
  try { report[name] = await f(); } catch (e) { report[`${name}Error`] = String((e as Error).stack ?? e); }
};
await attempt('cpu', () => smokeRun('cpu'));
await attempt('webgpu', async () => {
  await initWebGPU();
  report.adapter = webgpuRuntime()?.info;
  return smokeRun('webgpu');
});
await attempt('worker', () => new Promise((resolve, reject) => {
  const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  w.onmessage = (ev: MessageEvent) => { w.terminate(); (ev.data.error ? reject(new Error(ev.data.error)) : resolve(ev.data)); };
  w.onerror = (ev) => reject(new Error(`worker failed: ${ev.message}`));
}));
await fetch('/result', { method: 'POST', body: JSON.stringify(report) });
