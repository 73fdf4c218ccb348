// Reads leave nothing behind: the JS heap stays flat over many small reads (a reaction left on a
// never-settling promise per read used to keep about 300 bytes each). A million reads are measured
// by benchmarks/read_heap.mjs; this runs 20,000, a few seconds on a software adapter.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { gpuRuntime } from './gpu_helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const rt = await gpuRuntime();

async function settledHeap(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 10));
    gc();
  }
  return process.memoryUsage().heapUsed;
}

describe('webgpu reads', () => {
  it('keep the JS heap flat: well under 300 bytes retained per read', async () => {
    const b = rt.allocate(16);
    rt.write(b, new Float32Array([1, 2, 3, 4]));
    for (let i = 0; i < 2000; i++) await rt.read(b, 0, 16); // warm: pools, pipelines, JIT
    const n = 20_000;
    const before = await settledHeap();
    let sum = 0;
    for (let i = 0; i < n; i++) sum += new Float32Array(await rt.read(b, 4, 4))[0]!;
    const perRead = (await settledHeap() - before) / n;
    expect(sum).toBe(2 * n);
    expect(perRead).toBeLessThan(25);
    rt.release(b);
  });
});
