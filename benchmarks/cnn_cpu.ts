// CPU time per call of the CNN building blocks and small training steps on the `cpu` device, for the
// fast kernels and the reference kernels side by side (alternating, so load from other processes
// falls on both): conv2d forward + backward [32, 6, 14, 14] with a 16×6×5×5 filter, maxPool2d
// forward + backward [32, 6, 28, 28], an MLP 784-256-256-10 step (batch 128, Adam) and a LeNet-5
// step (batch 64, Adam). Per case: the best round's mean CPU and wall ms per call, and the fastest
// single call (the figure least disturbed by other processes on a shared machine).
// `node benchmarks/cnn_cpu.mjs [--rounds N] [--threads N] [--fast-only] [--profile]`
// (--profile: the fast kernels' wall time per call of each kernel, dtype and shape); compare with
// `/usr/bin/python3 benchmarks/peers/torch_cnn.py` (the same shapes in PyTorch).
import { conv2d, cpuBackend, crossEntropy, maxPool2d, randn, setCpuKernels, setNumThreads, tensor, tidy, type Tensor } from '@webgrad/core';
import { compareTiers } from './lib/cpu_tiers.js';
import { LeNet5, Linear, ReLU, Sequential } from '@webgrad/nn';
import { Adam } from '@webgrad/optim';

const args = process.argv.slice(2);
const rounds = Number(args[args.indexOf('--rounds') + 1] ?? 0) || 5;
const fastOnly = args.includes('--fast-only') || args.includes('--profile');
if (args.includes('--threads')) setNumThreads(Number(args[args.indexOf('--threads') + 1]));

function rand(n: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1);
}

function convCase(): () => void {
  const x = randn([32, 6, 14, 14], { requiresGrad: true }), w = randn([16, 6, 5, 5], { requiresGrad: true }), b = randn([16], { requiresGrad: true });
  return () => { tidy(() => conv2d(x, w, b).sum().backward()); x.grad?.dispose(); w.grad?.dispose(); b.grad?.dispose(); x.grad = w.grad = b.grad = null; };
}

function poolCase(): () => void {
  const x = randn([32, 6, 28, 28], { requiresGrad: true });
  return () => { tidy(() => maxPool2d(x, 2).sum().backward()); x.grad?.dispose(); x.grad = null; };
}

function trainCase(model: { forward(x: Tensor): Tensor; parameters(): Tensor[] }, x: Tensor, y: Tensor): () => void {
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  return () => {
    tidy(() => crossEntropy(model.forward(x), y).backward());
    opt.step();
    opt.zeroGrad();
  };
}

const cases: [string, () => () => void][] = [
  ['conv2d fwd+bwd [32,6,14,14] k5 → 16', convCase],
  ['maxPool2d fwd+bwd [32,6,28,28] k2', poolCase],
  ['MLP 784-256-256-10 step, batch 128, Adam', () => trainCase(new Sequential(new Linear(784, 256), new ReLU(), new Linear(256, 256), new ReLU(), new Linear(256, 10)),
    tensor(rand(128 * 784, 1), { shape: [128, 784] }), tensor(rand(128, 2).map((v) => Math.floor((v + 1) * 5)), { shape: [128], dtype: 'int32' }))],
  ['LeNet-5 step, batch 64, Adam', () => trainCase(new LeNet5(), tensor(rand(64 * 784, 3), { shape: [64, 1, 28, 28] }),
    tensor(rand(64, 4).map((v) => Math.floor((v + 1) * 5)), { shape: [64], dtype: 'int32' }))],
];

compareTiers(cases, { rounds, fastOnly, digits: 2 });

/** Wall ms per case call spent in each kernel (name, dtypes, first operand's shape), over 10 calls. */
function profile(name: string, f: () => void): void {
  const kernels = cpuBackend.kernels as unknown as Record<string, (...a: unknown[]) => unknown>;
  const saved = { ...kernels }, acc = new Map<string, number>();
  type Vw = { dtype: string; shape: number[] };
  const isView = (v: unknown): v is Vw => typeof v === 'object' && v !== null && 'dtype' in v && 'shape' in v;
  for (const [k, g] of Object.entries(saved)) {
    if (typeof g !== 'function') continue;
    kernels[k] = (...a: unknown[]) => {
      const t0 = performance.now(), r = g(...a);
      const views = a.filter(isView);
      const key = `${k} ${views.map((v) => v.dtype).join('→')} [${views[0]?.shape ?? ''}]`;
      acc.set(key, (acc.get(key) ?? 0) + performance.now() - t0);
      return r;
    };
  }
  try { for (let i = 0; i < 10; i++) f(); } finally { Object.assign(kernels, saved); }
  console.log(`\n${name}: kernel ms per call (top 12)`);
  for (const [k, ms] of [...acc].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`  ${(ms / 10).toFixed(3).padStart(8)}  ${k}`);
}
if (args.includes('--profile')) {
  setCpuKernels('fast');
  for (const [name, make] of cases) { const f = make(); for (let i = 0; i < 3; i++) f(); profile(name, f); }
}
