// CPU time per call of average pooling on the `cpu` device, in the format of cnn_cpu.ts: per case
// the best round's mean CPU and wall ms per call, and the fastest call. Two kinds of rows: the op
// (avgPool2d forward + sum + backward through autograd), fast kernels and reference alternating so
// load from other processes falls on both; and the fast tier's pool2d + pool2dBackward kernels
// alone on operands in the WebAssembly memory (`kernels` rows).
// Cases: LeNet-style 2×2/2 windows [32, 6, 28, 28]; 3×3 stride 1 with padding [8, 16, 32, 32]
// (overlapping windows); 3×3 stride 2 with padding [16, 32, 15, 15] (odd sizes); the same 2×2/2
// input with H and W transposed (a strided view).
// `node benchmarks/avg_pool_cpu.mjs [--rounds N] [--threads N] [--fast-only]`
import { avgPool2d, randn, setNumThreads, tidy, type Tensor } from '@webgrad/core';
import { compareTiers, timeCalls } from './lib/cpu_tiers.js';
import { allocTensorArray, fastCpuKernels, type Conv2dGeometry, type View } from '@webgrad/kernels';

const args = process.argv.slice(2);
const rounds = Number(args[args.indexOf('--rounds') + 1] ?? 0) || 5;
const fastOnly = args.includes('--fast-only');
if (args.includes('--threads')) setNumThreads(Number(args[args.indexOf('--threads') + 1]));

function poolCase(shape: number[], kernel: number, stride: number, padding: number, transposed = false): () => () => void {
  return () => {
    const x = randn(shape, { requiresGrad: true });
    return () => {
      tidy(() => {
        const v: Tensor = transposed ? x.transpose(2, 3) : x;
        avgPool2d(v, kernel, { stride, padding }).sum().backward();
      });
      x.grad?.dispose();
      x.grad = null;
    };
  };
}

const cases: [string, () => () => void][] = [
  ['avgPool2d fwd+bwd [32,6,28,28] k2 s2', poolCase([32, 6, 28, 28], 2, 2, 0)],
  ['avgPool2d fwd+bwd [8,16,32,32] k3 s1 p1', poolCase([8, 16, 32, 32], 3, 1, 1)],
  ['avgPool2d fwd+bwd [16,32,15,15] k3 s2 p1', poolCase([16, 32, 15, 15], 3, 2, 1)],
  ['avgPool2d fwd+bwd [32,6,28,28]ᵀ k2 s2 (H, W transposed view)', poolCase([32, 6, 28, 28], 2, 2, 0, true)],
];
const kernelCases: [string, () => () => void][] = [
  ['kernels pool2d + pool2dBackward avg [32,6,28,28] k2 s2', kernelCase([32, 6, 28, 28], 2, 2, 0)],
  ['kernels pool2d + pool2dBackward avg [8,16,32,32] k3 s1 p1', kernelCase([8, 16, 32, 32], 3, 1, 1)],
  ['kernels pool2d + pool2dBackward avg [16,32,15,15] k3 s2 p1', kernelCase([16, 32, 15, 15], 3, 2, 1)],
  ['kernels pool2d + pool2dBackward avg [32,6,28,28]ᵀ k2 s2', kernelCase([32, 6, 28, 28], 2, 2, 0, true)],
];

/** The fast tier's avg pool2d and pool2dBackward kernels alone, x (any strides given) and the outputs in the WebAssembly memory. */
function kernelCase(shape: [number, number, number, number], kernel: number, stride: number, padding: number, transposed = false): () => () => void {
  return () => {
    const [N, C, H, W] = shape;
    const out = (n: number) => { const a = allocTensorArray(n) ?? new Float32Array(n); for (let i = 0; i < n; i++) a[i] = Math.sin(i); return a; };
    const g: Conv2dGeometry = { kernel: [kernel, kernel], stride: [stride, stride], padding: [padding, padding], dilation: [1, 1] };
    const Ho = Math.floor((H + 2 * padding - kernel) / stride) + 1, Wo = Math.floor((W + 2 * padding - kernel) / stride) + 1;
    const x: View<Float32Array> = { buffer: out(N * C * H * W), dtype: 'float32', shape, strides: transposed ? [C * H * W, H * W, 1, H] : [C * H * W, H * W, W, 1], offset: 0 };
    const y: View<Float32Array> = { buffer: out(N * C * Ho * Wo), dtype: 'float32', shape: [N, C, Ho, Wo], strides: [C * Ho * Wo, Ho * Wo, Wo, 1], offset: 0 };
    const dx: View<Float32Array> = { ...x, buffer: out(N * C * H * W), strides: [C * H * W, H * W, W, 1] };
    return () => {
      fastCpuKernels.pool2d('avg', x, g, y, null);
      fastCpuKernels.pool2dBackward('avg', y, null, g, dx);
    };
  };
}

compareTiers(cases, { rounds, fastOnly, digits: 3 });
for (const [name, make] of kernelCases) {
  const run = make();
  for (let i = 0; i < 3; i++) run();
  let best = { cpu: Infinity, wall: Infinity, fastest: Infinity };
  for (let r = 0; r < rounds; r++) {
    const m = timeCalls(run, 20);
    best = { cpu: Math.min(best.cpu, m.cpu), wall: Math.min(best.wall, m.wall), fastest: Math.min(best.fastest, m.fastest) };
  }
  console.log(`${name} | fast | ${best.cpu.toFixed(3)} | ${best.wall.toFixed(3)} | ${best.fastest.toFixed(3)}`);
}
