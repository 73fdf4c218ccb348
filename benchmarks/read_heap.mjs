#!/usr/bin/env node
// JS heap growth over many small WebGPU reads: `node benchmarks/read_heap.mjs [reads]` (default
// 1,000,000). Each read copies 4 bytes back from one buffer through WebGPURuntime.read; the heap
// is measured after garbage collection before and after, and every 10% of the way. Not a test:
// webgpu_read_memory.test.ts runs 20,000 reads.
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as esbuild from 'esbuild';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'node_modules', '.cache', 'read_heap', 'runtime.mjs');
await esbuild.build({
  entryPoints: [join(here, '..', 'packages', 'kernels', 'src', 'webgpu', 'index.ts')],
  outfile: out,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['webgpu'],
  logLevel: 'warning',
});
const { WebGPURuntime } = await import(pathToFileURL(out).href);

const n = Number(process.argv[2] ?? 1e6);
const heap = async () => {
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 10));
    gc();
  }
  return process.memoryUsage().heapUsed;
};

const rt = await WebGPURuntime.create();
console.log(`adapter: ${rt.info.description || rt.info.device} (${rt.info.isSoftware ? 'software' : 'hardware'})`);
const b = rt.allocate(16);
rt.write(b, new Float32Array([1, 2, 3, 4]));
for (let i = 0; i < 10_000; i++) await rt.read(b, 4, 4);
const h0 = await heap();
const t0 = performance.now();
const step = Math.max(1, Math.floor(n / 10));
for (let i = 1; i <= n; i++) {
  await rt.read(b, 4, 4);
  if (i % step === 0 || i === n) {
    const h = await heap();
    console.log(`${String(i).padStart(8)} reads: heap ${((h - h0) / 1e6).toFixed(3).padStart(7)} MB vs start, ` +
      `${((h - h0) / i).toFixed(2).padStart(6)} B/read, rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB, ` +
      `${(((performance.now() - t0) / i) * 1000).toFixed(0)} µs/read`);
  }
}
rt.release(b);
rt.destroy();
