#!/usr/bin/env node
// CPU float32 matmul throughput, side by side in one run: webgrad's fast CPU kernels (WebAssembly
// SIMD, 1 thread and N threads), webgrad's reference kernels, TensorFlow.js's `wasm` and `cpu`
// backends, and numpy (OpenBLAS) when python3 can import it. Prints GFLOP/s (2·M·N·K / time) per
// shape and the ratios that matter.
//
//   node benchmarks/cpu_matmul.mjs [--quick] [--threads N] [--budget SECONDS]
//
// No build step: the kernels package's TypeScript sources are bundled with esbuild into
// benchmarks/node_modules/.cache/ first. Each measurement is the median of repeated runs after one
// warm-up, repeated until `--budget` seconds (default 0.4) or 3 runs, whichever is more. The
// reference kernels are only timed up to 2^27 multiply-adds (they take seconds beyond).
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const quick = args.includes('--quick');
const budget = Number(opt('--budget', quick ? '0.15' : '0.4'));
const nThreads = Number(opt('--threads', String(os.availableParallelism?.() ?? os.cpus().length)));

// ---- load webgrad kernels from source ----------------------------------------------------------
const bundle = join(here, 'node_modules', '.cache', 'webgrad-cpu-matmul', 'kernels.mjs');
await esbuild.build({
  entryPoints: [join(root, 'packages', 'kernels', 'src', 'index.ts')],
  outfile: bundle, bundle: true, platform: 'node', format: 'esm', target: 'node20',
  external: ['webgpu'], logLevel: 'warning',
});
const wg = await import(pathToFileURL(bundle).href);

// ---- shapes ---------------------------------------------------------------------------------------
const BT = 1024; // transformer rows: B·T = 8·128
const shapes = [
  ...[256, 512, 1024, 2048].filter((n) => !quick || n <= 1024).map((n) => ({ name: `${n}³`, M: n, K: n, N: n })),
  ...[128, 384].map((C) => ({ name: `[${BT},${C}]×[${C},${4 * C}]`, M: BT, K: C, N: 4 * C })),
];
const REF_MAX = 2 ** 27;

function fill(n, seed) {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) { s = (s * 1664525 + 1013904223) >>> 0; a[i] = s / 2 ** 32 - 0.5; }
  return a;
}
const view = (buffer, shape) => ({ buffer, dtype: 'float32', shape, strides: [shape[1], 1], offset: 0 });

/** Median seconds of `fn` after one warm-up run. */
function time(fn) {
  fn();
  const times = [];
  const start = performance.now();
  while (times.length < 3 || (performance.now() - start) / 1000 < budget) {
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) / 1000);
    if (times.length >= 50) break;
  }
  times.sort((x, y) => x - y);
  return times[Math.floor(times.length / 2)];
}

// ---- peers ------------------------------------------------------------------------------------------
const require = createRequire(join(here, 'package.json'));
let tf = null;
const tfBackends = [];
const tfNotes = [];
try {
  tf = require('@tensorflow/tfjs-core');
  for (const [name, pkg] of [['wasm', '@tensorflow/tfjs-backend-wasm'], ['cpu', '@tensorflow/tfjs-backend-cpu']]) {
    try {
      require(pkg);
      if ((await tf.setBackend(name)) && tf.getBackend() === name) {
        await tf.ready();
        tfBackends.push(name);
        if (name === 'wasm') tfNotes.push(`tfjs wasm: SIMD ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT')}, threads ${tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT')}`);
      }
    } catch (e) { tfNotes.push(`tfjs ${name} unavailable: ${e.message}`); }
  }
} catch (e) { tfNotes.push(`tfjs unavailable: ${e.message}`); }

function tfGflops(backend, { M, K, N }, a, b) {
  if (!tf || !tfBackends.includes(backend)) return null;
  tf.setBackend(backend);
  const ta = tf.tensor2d(a, [M, K]), tb = tf.tensor2d(b, [K, N]);
  const s = time(() => { const c = tf.matMul(ta, tb); c.dataSync(); c.dispose(); });
  ta.dispose(); tb.dispose();
  return (2 * M * N * K) / s / 1e9;
}

function numpyGflops() {
  const py = `
import json, time, sys
import numpy as np
try:
    import numpy._core._multiarray_umath as mu
except Exception:
    mu = None
budget = ${budget}
res = {}
for name, M, K, N in ${JSON.stringify(shapes.map((s) => [s.name, s.M, s.K, s.N]))}:
    a = np.random.rand(M, K).astype(np.float32); b = np.random.rand(K, N).astype(np.float32)
    a @ b
    ts = []; t_start = time.perf_counter()
    while len(ts) < 3 or time.perf_counter() - t_start < budget:
        t0 = time.perf_counter(); a @ b; ts.append(time.perf_counter() - t0)
        if len(ts) >= 50: break
    ts.sort(); res[name] = 2 * M * N * K / ts[len(ts) // 2] / 1e9
cfg = ''
try:
    info = np.show_config(mode='dicts')
    cfg = info['Build Dependencies']['blas']['name'] + ' ' + info['Build Dependencies']['blas'].get('version', '')
except Exception:
    pass
print(json.dumps({'numpy': np.__version__, 'blas': cfg, 'gflops': res}))
`;
  for (const exe of ['python3', '/usr/bin/python3']) { // the first numpy found; pip wheels bundle OpenBLAS, Debian's may use reference BLAS
    try {
      return JSON.parse(execFileSync(exe, ['-c', py], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').pop());
    } catch { /* try the next interpreter */ }
  }
  return null;
}

// ---- run ----------------------------------------------------------------------------------------------
const rows = [];
for (const sh of shapes) {
  const { M, K, N } = sh;
  const a = fill(M * K, 1), b = fill(K * N, 2);
  const va = view(a, [M, K]), vb = view(b, [K, N]), vo = view(new Float32Array(M * N), [M, N]);
  const gf = (s) => (2 * M * N * K) / s / 1e9;
  wg.setNumThreads(1);
  const fast1 = gf(time(() => wg.fastCpuKernels.matmul(va, vb, vo)));
  wg.setNumThreads(nThreads);
  const fastN = gf(time(() => wg.fastCpuKernels.matmul(va, vb, vo)));
  const ref = M * N * K <= REF_MAX ? gf(time(() => wg.cpuKernels.matmul(va, vb, vo))) : null;
  const tfw = tfGflops('wasm', sh, a, b);
  const tfc = tfGflops('cpu', sh, a, b);
  rows.push({ name: sh.name, fast1, fastN, ref, tfw, tfc });
  process.stderr.write(`  measured ${sh.name}\n`);
}
const np = numpyGflops();

const fmt = (x, d = 1) => (x === null || x === undefined ? '—' : x.toFixed(d));
const ratio = (x, y) => (x && y ? `${(x / y).toFixed(2)}×` : '—');
const header = ['shape', 'fast 1T', `fast ${nThreads}T`, 'reference', 'tfjs-wasm', 'tfjs-cpu', 'numpy', `fast ${nThreads}T / tfjs-wasm`, `fast ${nThreads}T / numpy`];
const table = rows.map((r) => {
  const npv = np?.gflops?.[r.name] ?? null;
  return [r.name, fmt(r.fast1), fmt(r.fastN), fmt(r.ref, 2), fmt(r.tfw), fmt(r.tfc, 2), fmt(npv), ratio(r.fastN, r.tfw), ratio(r.fastN, npv)];
});
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
const line = (cells) => `| ${cells.map((c, i) => c.padStart(widths[i])).join(' | ')} |`;
console.log(`\nfloat32 matmul, GFLOP/s (median), ${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism?.() ?? os.cpus().length}, node ${process.version}`);
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const row of table) console.log(line(row));
for (const n of tfNotes) console.log(n);
console.log(np ? `numpy ${np.numpy} (${np.blas || 'BLAS unknown'})` : 'numpy: not importable');
console.log(`transformer rows B·T = ${BT}; reference timed only up to 2^27 multiply-adds`);
process.exit(0);
