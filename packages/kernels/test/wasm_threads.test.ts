// The thread pool's fork–join (wasm/threads.ts) under many short forks: a worker that has not
// started when the caller has emptied the queue is withdrawn, and one that starts late must take
// the fork it was assigned or none. Forks of different exports (argument counts 9, 3 and 11) follow
// each other with no pause, on more threads than the machine may have cores (so workers are often
// late), and every result must equal the one-thread result.
import { describe, expect, it } from 'vitest';
import { allocTensorArray, fastCpuKernels, releaseTensorArray, setNumThreads, wasmRuntime } from '../src/cpu_fast/index.js';
import { forceThreading, seeded, view } from './wasm_helpers.js';

forceThreading();

describe('thread pool fork–join', () => {
  it('thousands of short forks of different exports give the one-thread results', () => {
    const heap = (data: Float32Array) => { const a = allocTensorArray(data.length)!; a.set(data); return a; };
    const n = 67, M = 9, K = 13, N = 11;
    const a = heap(seeded(n, 1)), b = heap(seeded(n, 2)), sum = heap(new Float32Array(n)), ex = heap(new Float32Array(n));
    const A = heap(seeded(M * K, 3)), B = heap(seeded(K * N, 4)), C = heap(new Float32Array(M * N));
    const run = () => {
      fastCpuKernels.binary('add', view(a, [n]), view(b, [n]), view(sum, [n]));
      fastCpuKernels.unary('exp', view(sum, [n]), view(ex, [n]));
      fastCpuKernels.matmul(view(A, [M, K]), view(B, [K, N]), view(C, [M, N]));
      return [Float32Array.from(sum), Float32Array.from(ex), Float32Array.from(C)];
    };
    setNumThreads(1);
    const want = run();
    for (const threads of [2, 5]) {
      setNumThreads(threads);
      for (let i = 0; i < 1500; i++) {
        const got = run();
        for (let k = 0; k < got.length; k++) {
          if (!got[k]!.every((v, j) => Object.is(v, want[k]![j]))) throw new Error(`fork ${i}, output ${k}, ${threads} threads: differs from one thread`);
        }
      }
    }
    expect(wasmRuntime().numThreads).toBe(5);
    for (const x of [a, b, sum, ex, A, B, C]) releaseTensorArray(x);
  });
});
