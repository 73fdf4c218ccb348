#!/usr/bin/env node
// The cpu device's quantized matmul, per scheme on one thread: WebAssembly decoding
// (cpu_fast/quant_matmul_program.ts; QUANT_MATMUL_WASM on, the "wasm" columns) against TypeScript
// decoding (off, "loops"), and the float32 sgemm of the same product for scale. With fewer than 8
// rows of x (default 1: token-by-token generation) that is the few-row kernel against the TypeScript
// loops; with 8 or more, tiles decoded in WebAssembly or TypeScript, both multiplied by the sgemm.
// Prints microseconds per call and the effective GMAC/s (rows·in·out / time).
//
//   node benchmarks/quant_gemv.mjs [--rows M] [--rounds R]
//
// No build step: the kernels' TypeScript sources are bundled with esbuild first. Each shape is timed
// in R rounds (default 7); a round runs every variant once, in rotating order, for about 50 ms
// each; the median per variant is printed.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? Number(args[i + 1]) : dflt; };
const M = opt('--rows', 1), ROUNDS = opt('--rounds', 7);

const bundle = join(here, 'node_modules', '.cache', 'webgrad-quant-gemv', 'kernels.mjs');
const src = join(root, 'packages', 'kernels', 'src');
await esbuild.build({
  stdin: {
    contents: `export { quantizeWeight } from './cpu/quant_format.ts';
export { QUANT_MATMUL_WASM, quantMatmul, quantMatmulPaths } from './cpu_fast/quant_matmul.ts';
export { fastCpuKernels, setNumThreads, allocTensorArray } from './cpu_fast/index.ts';`,
    resolveDir: src, loader: 'ts',
  },
  outfile: bundle, bundle: true, platform: 'node', format: 'esm', target: 'node20', external: ['webgpu'], logLevel: 'warning',
});
const wg = await import(pathToFileURL(bundle).href);
wg.setNumThreads(1);

const view = (buffer, shape) => {
  const strides = shape.length === 2 ? [shape[1], 1] : [1];
  return { buffer, dtype: buffer instanceof Int32Array ? 'int32' : 'float32', shape, strides, offset: 0 };
};
const rand = (n, seed) => { let s = seed; return Float32Array.from({ length: n }, () => { s = (s * 1664525 + 1013904223) >>> 0; return (s / 2 ** 32 - 0.5) * 0.2; }); };
const heap = (a) => { const h = wg.allocTensorArray(a.length); if (!h) return a; h.set(a); return h; };
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };

/** Microseconds per call of fn, over about `ms` milliseconds. */
function time(fn, ms = 50) {
  fn();
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) { fn(); n++; t = performance.now(); }
  return ((t - t0) * 1000) / n;
}

const SHAPES = [[96, 288], [384, 1152], [768, 768], [1024, 4096], [4096, 1024]];
const SCHEMES = [['int8', { scheme: 'int8' }], ['int4 g64', { scheme: 'int4', groupSize: 64 }], ['nf4 g64 dq', { scheme: 'nf4' }]];
console.log(`quantized matmul, ${M} row(s) of x, 1 thread, median of ${ROUNDS} interleaved rounds (µs per call; GMAC/s)`);
console.log(['in × out', 'f32 sgemm', ...SCHEMES.flatMap(([n]) => [`${n} wasm`, `${n} loops`]), ...SCHEMES.map(([n]) => `${n} speed-up`)].join(' | '));
for (const [K, N] of SHAPES) {
  const w = rand(N * K, 1), x = heap(rand(M * K, 2)), out = heap(new Float32Array(M * N));
  const wt = heap(w);
  const variants = [['f32', () => wg.fastCpuKernels.matmul(view(x, [M, K]), { ...view(wt, [K, N]), shape: [K, N], strides: [1, K] }, view(out, [M, N]))]];
  for (const [name, cfg] of SCHEMES) {
    const q = wg.quantizeWeight(w, N, K, cfg);
    const qv = {
      scheme: q.scheme, rows: N, cols: K, groupSize: q.groupSize, absmaxOffset: q.absmaxOffset,
      qdata: view(q.qdata, [q.qdata.length]), scales: view(q.scales, [q.scales.length]),
      zeros: q.zeros && view(q.zeros, [q.zeros.length]), absmaxQ: q.absmaxQ && view(q.absmaxQ, [q.absmaxQ.length]),
    };
    for (const wasm of [true, false]) {
      variants.push([`${name} ${wasm ? 'wasm' : 'loops'}`, () => { wg.QUANT_MATMUL_WASM[q.scheme] = wasm; wg.quantMatmul(view(x, [M, K]), qv, null, view(out, [M, N])); }]);
    }
  }
  const us = variants.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (let j = 0; j < variants.length; j++) { const i = (j + r) % variants.length; us[i].push(time(variants[i][1])); }
  }
  const med = us.map(median);
  const cell = (u) => `${u.toFixed(1)} (${((M * K * N) / u / 1000).toFixed(2)})`;
  const speedups = SCHEMES.map((_, s) => `${(med[2 + 2 * s] / med[1 + 2 * s]).toFixed(2)}×`);
  console.log([`${K} × ${N}`, ...med.map(cell), ...speedups].join(' | '));
}
