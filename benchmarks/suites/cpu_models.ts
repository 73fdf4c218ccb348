// Small models and their building blocks on the `cpu` device, against PyTorch on the CPU (one thread
// and its default threads, both reported; OpenBLAS held to one thread for the one-thread figure),
// TensorFlow.js's cpu and wasm backends, and jax-js on its WebAssembly device under jit
// (lib/jaxjs.ts; its own random weights — only webgrad and PyTorch share theirs):
// - an MLP 784-256-256-10 training step (batch 128, Adam), and a LeNet-5 step (batch 64, Adam):
//   webgrad and PyTorch start from the same weights and batch (written to a file the peer script
//   reads), and their first losses are compared;
// - a LeNet-5 epoch over 8,000 MNIST-shaped digits (synthetic: uniform pixels, random labels; the
//   speed does not depend on the data) in batches of 64, webgrad and PyTorch;
// - conv2d forward + backward [32, 6, 14, 14] with a 16×6×5×5 filter, and maxPool2d forward +
//   backward [32, 6, 28, 28] with a 2×2 window;
// - a square matmul (256 and 1024) against PyTorch's, which on Debian is libblas — OpenBLAS when
//   it is installed (`apt-get install libopenblas0-pthread`; the JSON records which library).
// Times are the fastest call after a warm-up (by count and by time) on every side: on a shared
// machine the fastest call is the one least disturbed by other processes. webgrad runs with its
// default threads and with one; each ratio sets the faster webgrad figure against the faster PyTorch
// one. tfjs and jax-js run the steps and blocks, not the epoch (tfjs's plain-JS backend takes seconds
// per step); tfjs's convolutions are NHWC. WEBGRAD_BENCH_TFJS=0 / WEBGRAD_BENCH_JAXJS=0 leave them out.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile, conv2d, crossEntropy, getNumThreads, matmul, maxPool2d, narrow, randn, setNumThreads, tensor, tidy, type Tensor } from '@webgrad/core';
import { LeNet5, Linear, ReLU, Sequential, type Module } from '@webgrad/nn';
import { Adam } from '@webgrad/optim';
import type * as TF from '@tensorflow/tfjs-core';
import type { Suite, SuiteContext } from '../lib/context.js';
import { failureCell, makeRatio, num, type Cell, type Entry } from '../lib/report.js';
import { useBackend, type Tf, type TfBackend } from '../lib/tfjs.js';
import { jaxWorkload, loadJax } from '../lib/jaxjs.js';

type CaseName = 'mlp' | 'lenet' | 'lenet-epoch' | 'conv' | 'pool' | 'matmul256' | 'matmul1024';
interface Spec { key: CaseName; title: string; tfjs: boolean; goal?: number }

/** Deterministic floats in [lo, hi) and integers in [0, n). */
function floats(count: number, seed: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(count);
  let a = seed >>> 0;
  for (let i = 0; i < count; i++) { a = (Math.imul(a, 1664525) + 1013904223) >>> 0; out[i] = lo + (hi - lo) * (a / 2 ** 32); }
  return out;
}
function ints(count: number, n: number, seed: number): Int32Array {
  const out = new Int32Array(count);
  let a = seed >>> 0;
  for (let i = 0; i < count; i++) { a = (Math.imul(a, 1664525) + 1013904223) >>> 0; out[i] = (a >>> 8) % n; }
  return out;
}

/**
 * Fastest call of `f` (ms) after a warm-up of `warm` calls and `warmMs` ms, over `ms` ms (at least 5
 * calls; 2 after one warm-up call when a call takes longer than `ms`, as tfjs's plain-JS backend does).
 */
async function fastest(f: () => unknown | Promise<unknown>, o: { warm: number; warmMs: number; ms: number }): Promise<number> {
  const w0 = performance.now();
  await f();
  const slow = performance.now() - w0 > o.ms;
  for (let i = 1; !slow && (i < o.warm || performance.now() - w0 < o.warmMs); i++) await f();
  let best = Infinity;
  const t0 = performance.now();
  for (let i = 0; i < (slow ? 2 : 5) || (performance.now() - t0 < o.ms && i < 200); i++) {
    const c = performance.now();
    await f();
    best = Math.min(best, performance.now() - c);
  }
  return best;
}

// ---- webgrad ------------------------------------------------------------------------------------

interface Workload {
  run: () => void;
  /** The same step under compile(step) (the model steps): traced on its first calls, replayed after. */
  runCompiled?: () => void;
  loss0?: number;
  file?: Float32Array[];
  dispose: () => void;
}

function modelWorkload(key: 'mlp' | 'lenet' | 'lenet-epoch'): Workload {
  const model: Module & { forward(x: Tensor): Tensor } = key === 'mlp'
    ? new Sequential(new Linear(784, 256), new ReLU(), new Linear(256, 256), new ReLU(), new Linear(256, 10))
    : new LeNet5();
  const shape = key === 'mlp' ? [784] : [1, 28, 28];
  const batch = key === 'mlp' ? 128 : 64, count = key === 'lenet-epoch' ? 8000 : batch;
  const per = shape.reduce((a, b) => a * b, 1);
  const xs = floats(count * per, 11, key === 'mlp' ? -1 : 0, 1), ys = ints(count, 10, 12);
  const X = tensor(xs, { shape: [count, ...shape] }), Y = tensor(ys, { shape: [count], dtype: 'int32' });
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const loss0 = tidy(() => crossEntropy(model.forward(narrow(X, 0, 0, batch)), narrow(Y, 0, 0, batch)).dataSync()[0]!);
  const step = (x: Tensor, y: Tensor) => {
    tidy(() => crossEntropy(model.forward(x), y).backward());
    opt.step();
    opt.zeroGrad();
  };
  const run = key === 'lenet-epoch'
    ? () => { for (let i = 0; i < count; i += batch) tidy(() => step(narrow(X, 0, i, batch), narrow(Y, 0, i, batch))); }
    : () => step(X, Y);
  const file = [...model.parameters().map((p) => Float32Array.from(p.dataSync() as ArrayLike<number>)), xs, new Float32Array(ys.buffer)];
  const compiled = compile(function trainStep(x: Tensor, y: Tensor) {
    return tidy(() => {
      opt.zeroGrad();
      const l = crossEntropy(model.forward(x), y);
      l.backward();
      opt.step();
      return l;
    });
  });
  const runCompiled = key === 'lenet-epoch' ? undefined : () => compiled(X, Y).dispose();
  return { run, runCompiled, loss0, file, dispose: () => { X.dispose(); Y.dispose(); opt.dispose(); model.dispose(); } };
}

function blockWorkload(key: CaseName): Workload {
  if (key === 'conv') {
    const x = randn([32, 6, 14, 14], { requiresGrad: true }), w = randn([16, 6, 5, 5], { requiresGrad: true }), b = randn([16], { requiresGrad: true });
    const clear = () => { for (const t of [x, w, b]) { t.grad?.dispose(); t.grad = null; } };
    return { run: () => { tidy(() => conv2d(x, w, b).sum().backward()); clear(); }, dispose: () => { clear(); x.dispose(); w.dispose(); b.dispose(); } };
  }
  if (key === 'pool') {
    const x = randn([32, 6, 28, 28], { requiresGrad: true });
    const clear = () => { x.grad?.dispose(); x.grad = null; };
    return { run: () => { tidy(() => maxPool2d(x, 2).sum().backward()); clear(); }, dispose: () => { clear(); x.dispose(); } };
  }
  const n = key === 'matmul256' ? 256 : 1024;
  const a = randn([n, n]), b = randn([n, n]);
  return { run: () => matmul(a, b).dispose(), dispose: () => { a.dispose(); b.dispose(); } };
}

// ---- TensorFlow.js ------------------------------------------------------------------------------

function tfWorkload(tf: Tf, key: CaseName): { run: () => void; dispose: () => void } {
  const keep: TF.Tensor[] = [];
  const v = (t: TF.Tensor) => { const x = tf.variable(t); keep.push(x); return x; };
  const c = <T extends TF.Tensor>(t: T) => { keep.push(t); return t; };
  if (key === 'mlp' || key === 'lenet') {
    const opt = tf.train.adam(1e-3);
    let loss: () => TF.Scalar;
    if (key === 'mlp') {
      const dims = [784, 256, 256, 10];
      const ws = dims.slice(1).map((d, i) => [v(tf.randomUniform([dims[i]!, d], -0.05, 0.05)), v(tf.zeros([d]))] as const);
      const x = c(tf.tensor2d(floats(128 * 784, 11), [128, 784])), y = c(tf.oneHot(tf.tensor1d(ints(128, 10, 12), 'int32'), 10));
      loss = () => {
        let h: TF.Tensor = x;
        ws.forEach(([w, b], i) => { h = tf.add(tf.matMul(h, w), b); if (i < ws.length - 1) h = tf.relu(h); });
        return tf.losses.softmaxCrossEntropy(y, h) as TF.Scalar;
      };
    } else {
      const k1 = v(tf.randomUniform([5, 5, 1, 6], -0.2, 0.2)), b1 = v(tf.zeros([6]));
      const k2 = v(tf.randomUniform([5, 5, 6, 16], -0.08, 0.08)), b2 = v(tf.zeros([16]));
      const fcs = [[400, 120], [120, 84], [84, 10]].map(([i, o]) => [v(tf.randomUniform([i!, o!], -0.1, 0.1)), v(tf.zeros([o!]))] as const);
      const x = c(tf.tensor4d(floats(64 * 784, 11, 0, 1), [64, 28, 28, 1])), y = c(tf.oneHot(tf.tensor1d(ints(64, 10, 12), 'int32'), 10));
      loss = () => {
        let h: TF.Tensor = tf.maxPool(tf.relu(tf.add(tf.conv2d(x, k1 as TF.Tensor4D, 1, 'same'), b1)) as TF.Tensor4D, 2, 2, 'valid');
        h = tf.maxPool(tf.relu(tf.add(tf.conv2d(h as TF.Tensor4D, k2 as TF.Tensor4D, 1, 'valid'), b2)) as TF.Tensor4D, 2, 2, 'valid');
        h = tf.reshape(h, [64, 400]);
        fcs.forEach(([w, b], i) => { h = tf.add(tf.matMul(h, w), b); if (i < fcs.length - 1) h = tf.relu(h); });
        return tf.losses.softmaxCrossEntropy(y, h) as TF.Scalar;
      };
    }
    return {
      run: () => { const { value, grads } = tf.variableGrads(loss); opt.applyGradients(grads as Parameters<typeof opt.applyGradients>[0]); tf.dispose([value, ...Object.values(grads)]); },
      dispose: () => { tf.dispose(keep); opt.dispose(); },
    };
  }
  if (key === 'conv') {
    const x = c(tf.randomNormal([32, 14, 14, 6])), w = c(tf.randomNormal([5, 5, 6, 16])), b = c(tf.randomNormal([16]));
    const g = tf.grads((xx: TF.Tensor, ww: TF.Tensor, bb: TF.Tensor) => tf.sum(tf.add(tf.conv2d(xx as TF.Tensor4D, ww as TF.Tensor4D, 1, 'valid'), bb)));
    return { run: () => tf.dispose(g([x, w, b])), dispose: () => tf.dispose(keep) };
  }
  if (key === 'pool') {
    const x = c(tf.randomNormal([32, 28, 28, 6]));
    const g = tf.grad((xx: TF.Tensor) => tf.sum(tf.maxPool(xx as TF.Tensor4D, 2, 2, 'valid')));
    return { run: () => tf.dispose(g(x)), dispose: () => tf.dispose(keep) };
  }
  const n = key === 'matmul256' ? 256 : 1024;
  const a = c(tf.randomNormal([n, n])), b = c(tf.randomNormal([n, n]));
  return { run: () => tf.dispose(tf.matMul(a, b)), dispose: () => tf.dispose(keep) };
}

async function runTf(ctx: SuiteContext, key: CaseName, backend: TfBackend, o: { warm: number; warmMs: number; ms: number }): Promise<Cell> {
  const tf = ctx.tf;
  if (!tf) return 'n/a (tfjs not loaded)';
  if (!(await useBackend(tf, backend))) return `n/a (tfjs ${backend} unavailable)`;
  let w: ReturnType<typeof tfWorkload> | null = null;
  try {
    w = tfWorkload(tf, key);
    const ww = w;
    // Each call ends with a readback of a scalar, so the backend has finished its work.
    return await fastest(async () => { ww.run(); await tf.scalar(0).data(); }, o);
  } catch (e) {
    return failureCell(e);
  } finally {
    w?.dispose();
  }
}

// ---- PyTorch ------------------------------------------------------------------------------------

const PYTHON = process.env.WEBGRAD_PYTHON ?? '/usr/bin/python3';

function torchJson(args: string[], env: Record<string, string>): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, args, { timeout: 600_000, maxBuffer: 1 << 20, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      if (err) { reject(new Error(`${err.message.split('\n')[0]} ${String(stderr).trim().split('\n').pop() ?? ''}`)); return; }
      try { resolve(JSON.parse(String(stdout).trim().split('\n').pop() ?? '') as Record<string, number>); } catch (e) { reject(e); }
    });
  });
}

/** Which BLAS Debian's libblas.so.3 resolves to (what PyTorch's GEMMs run on here). */
function blasName(): string {
  for (const p of ['/usr/lib/x86_64-linux-gnu/libblas.so.3', '/usr/lib/aarch64-linux-gnu/libblas.so.3']) {
    if (!existsSync(p)) continue;
    const real = realpathSync(p);
    return real.includes('openblas') ? `OpenBLAS (${real})` : real.includes('blis') ? `BLIS (${real})` : `reference BLAS (${real})`;
  }
  return 'unknown';
}

// ---- the suite ----------------------------------------------------------------------------------

const SPECS: Spec[] = [
  { key: 'mlp', title: 'MLP 784-256-256-10 step, batch 128, Adam', tfjs: true, goal: 1.5 },
  { key: 'lenet', title: 'LeNet-5 step, batch 64, Adam', tfjs: true, goal: 1.5 },
  { key: 'lenet-epoch', title: 'LeNet-5 epoch, 8,000 synthetic digits, batch 64, Adam', tfjs: false, goal: 1.5 },
  { key: 'conv', title: 'conv2d fwd+bwd [32,6,14,14] k5 → 16', tfjs: true },
  { key: 'pool', title: 'maxPool2d fwd+bwd [32,6,28,28] k2', tfjs: true },
  { key: 'matmul256', title: 'matmul 256×256×256', tfjs: true },
  { key: 'matmul1024', title: 'matmul 1024×1024×1024', tfjs: true },
];

export const cpuModelsSuite: Suite = {
  name: 'cpu_models',
  title: 'small models and CNN blocks on the cpu device vs PyTorch (CPU) and tfjs',
  async run(ctx) {
    const o = ctx.quick ? { warm: 3, warmMs: 500, ms: 1000 } : { warm: 5, warmMs: 1500, ms: 3000 };
    const dir = mkdtempSync(join(tmpdir(), 'webgrad-cpu-models-'));
    const script = join(process.env.WEBGRAD_BENCH_DIR ?? join(process.cwd(), 'benchmarks'), 'peers', 'torch_cnn.py');
    const blas = blasName();
    ctx.extra.blas = blas;
    ctx.extra.webgradThreads = getNumThreads();
    const specs = ctx.quick ? SPECS.filter((s) => s.key !== 'lenet-epoch' && s.key !== 'matmul256') : SPECS;
    try {
      for (const spec of specs) {
        ctx.log(`  ${spec.key}: webgrad cpu`);
        const w = spec.key === 'mlp' || spec.key === 'lenet' || spec.key === 'lenet-epoch' ? modelWorkload(spec.key) : blockWorkload(spec.key);
        // Default threads, then one thread (what a loaded machine leaves a process; PyTorch's 1-thread row).
        const ours: Record<string, Cell> = {};
        const threads = getNumThreads();
        for (const t of threads > 1 ? [threads, 1] : [1]) {
          setNumThreads(t);
          try { ours[`webgrad cpu, ${t} thread${t > 1 ? 's' : ''}`] = await fastest(w.run, spec.key === 'lenet-epoch' ? { warm: 1, warmMs: 0, ms: 0 } : o); } catch (e) { ours[`webgrad cpu, ${t} thread${t > 1 ? 's' : ''}`] = failureCell(e); }
        }
        // The same step compiled, at the same thread counts (after the eager rows: the model has trained a little).
        const compiledCells: Record<string, Cell> = {};
        if (w.runCompiled) {
          for (const t of threads > 1 ? [threads, 1] : [1]) {
            setNumThreads(t);
            const label = `webgrad cpu compiled, ${t} thread${t > 1 ? 's' : ''}`;
            try { compiledCells[label] = await fastest(w.runCompiled, o); } catch (e) { compiledCells[label] = failureCell(e); }
          }
        }
        setNumThreads(threads);
        const oursBest = Object.values(ours).map(num).filter((v): v is number => v !== null).sort((a, b) => a - b)[0];
        const data = join(dir, `${spec.key}.bin`);
        if (w.file) {
          const total = w.file.reduce((s, a) => s + a.length, 0), buf = new Float32Array(total);
          let off = 0;
          for (const a of w.file) { buf.set(a, off); off += a.length; }
          writeFileSync(data, buf);
        }
        w.dispose();
        const torch: Record<string, Cell> = {};
        let torchLoss: number | undefined;
        for (const threads of [1, 0]) {
          ctx.log(`  ${spec.key}: pytorch cpu, ${threads ? 'one thread' : 'default threads'}`);
          try {
            const secs = spec.key === 'lenet-epoch' ? 0 : o.ms / 1000;
            const r = await torchJson([script, '--case', spec.key, '--threads', String(threads), '--seconds', String(secs), ...(w.file ? ['--data', data] : [])],
              threads === 1 ? { OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' } : {});
            torch[threads ? 'pytorch, 1 thread' : `pytorch, default (${r.threads} thread${r.threads === 1 ? '' : 's'} + BLAS's)`] = r.ms!;
            torchLoss = r.loss0;
          } catch (e) {
            torch[threads ? 'pytorch, 1 thread' : 'pytorch, default'] = failureCell(e);
          }
        }
        const tfCells: Record<string, Cell> = {};
        if (spec.tfjs && process.env.WEBGRAD_BENCH_TFJS !== '0') {
          for (const backend of ['wasm', 'cpu'] as TfBackend[]) {
            ctx.log(`  ${spec.key}: tfjs ${backend}`);
            tfCells[`tfjs ${backend}`] = await runTf(ctx, spec.key, backend, o);
          }
        }
        if (spec.tfjs && process.env.WEBGRAD_BENCH_JAXJS !== '0') {
          ctx.log(`  ${spec.key}: jax-js wasm`);
          const jax = await loadJax();
          if (typeof jax === 'string') tfCells['jax-js wasm'] = jax;
          else {
            try { tfCells['jax-js wasm'] = await fastest(jaxWorkload(jax, spec.key), o); } catch (e) { tfCells['jax-js wasm'] = failureCell(e); }
          }
        }
        const torchBest = Object.values(torch).map(num).filter((v): v is number => v !== null).sort((a, b) => a - b)[0];
        const notes: string[] = [];
        if (w.loss0 !== undefined) {
          const same = torchLoss !== undefined && Math.abs(w.loss0 - torchLoss) <= 1e-5 * Math.max(1, Math.abs(torchLoss));
          notes.push(`first loss: webgrad ${w.loss0.toFixed(6)}, pytorch ${torchLoss?.toFixed(6) ?? 'n/a'} (${same ? 'identical to 1e-5' : 'DIFFERENT'}; same weights and batch)`);
          ctx.extra[`${spec.key} loss0`] = { webgrad: w.loss0, pytorch: torchLoss };
        }
        if (spec.key.startsWith('matmul')) {
          const n = spec.key === 'matmul256' ? 256 : 1024, flops = 2 * n ** 3;
          const gf = (c: Cell | undefined) => (num(c) ? `${(flops / num(c)! / 1e6).toFixed(1)}` : 'n/a');
          notes.push(`GFLOP/s: ${Object.entries({ ...ours, ...torch }).map(([k, c]) => `${k} ${gf(c)}`).join(', ')}; PyTorch's BLAS: ${blas}`);
        }
        const entry: Entry = {
          suite: 'cpu_models', name: spec.title, unit: 'ms', better: 'lower',
          ours, peers: { ...torch, ...tfCells }, notes,
          ratio: spec.key.startsWith('matmul')
            ? makeRatio('speed ÷ PyTorch/OpenBLAS (faster settings of each)', oursBest, torchBest, 'lower', { op: '>=', value: 0.6 }, true)
            : makeRatio('time ÷ PyTorch (faster settings of each)', oursBest, torchBest, 'lower', spec.goal ? { op: '<=', value: spec.goal } : undefined),
        };
        ctx.entries.push(entry);
        const compiledBest = Object.values(compiledCells).map(num).filter((v): v is number => v !== null).sort((a, b) => a - b)[0];
        if (w.runCompiled) {
          ctx.entries.push({
            suite: 'cpu_models', name: `${spec.title}, compiled`, unit: 'ms', better: 'lower',
            ours: { ...compiledCells, ...ours }, peers: { ...torch }, notes: ['compile(step): zeroGrad, forward, backward and Adam traced once, replayed'],
            ratio: makeRatio('compiled time ÷ PyTorch (faster settings of each)', compiledBest, torchBest, 'lower', spec.key === 'mlp' ? { op: '<=', value: 1.0 } : undefined),
          });
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
