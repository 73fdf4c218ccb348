// The GPT step's matmuls with and without their epilogues on WebGPU (`node benchmarks/matmul_epilogue.mjs
// [--rounds 7] [--reps 20]`): for each shape, `matmul` alone, `matmul` followed by the
// `fusedElementwise` of its epilogue (two launches), and `matmulEpilogue` (one launch); the
// weight-gradient shapes also with the bias gradient as row sums beside the product, against
// `matmul` + `reduce`. Kernel calls only; each round issues `reps` calls and ends with a 4-byte
// readback. Prints µs per call, median and fastest round.
import { createWebGPUKernels, matmulEpilogue, WebGPURuntime, type FusedProgram, type View } from '@webgrad/kernels';
import { benchKernelCalls, filledView } from './lib/gpu.js';
import { intFlag } from './lib/args.js';

const ROUNDS = intFlag('rounds', 7);
const REPS = intFlag('reps', 20);

const rt = await WebGPURuntime.create();
const k = createWebGPUKernels(rt);
const view = (shape: number[], strides?: number[], size?: number) => filledView(rt, shape, { strides, size });
const bench = (what: string, fn: () => void): Promise<void> => benchKernelCalls(rt, what, fn, { reps: REPS, rounds: ROUNDS, width: 44 });

const biasGelu: FusedProgram = { inputs: 2, steps: [{ kind: 'binary', op: 'add', args: [0, 1] }, { kind: 'unary', op: 'gelu', args: [2] }], outputs: [3] };
const biasResidual: FusedProgram = { inputs: 3, steps: [{ kind: 'binary', op: 'add', args: [0, 1] }, { kind: 'binary', op: 'add', args: [2, 3] }], outputs: [4] };
const identity: FusedProgram = { inputs: 1, steps: [], outputs: [0] };

// Forward Linear: x [12, 64, K] · Wᵀ (W [N, K], broadcast over the batch) + bias [N] (then gelu or a residual).
for (const [N, K, p] of [[384, 128, biasResidual], [512, 128, biasGelu], [128, 512, biasResidual]] as [number, number, FusedProgram][]) {
  console.log(`forward [12, 64, ${K}] · [${N}, ${K}]ᵀ, ${p === biasGelu ? 'bias + gelu' : 'bias + residual'}`);
  const x = view([12, 64, K]);
  const w = view([12, K, N], [0, 1, K], N * K);
  const bias = view([12, 64, N], [0, 0, 1], N);
  const inputs = p === biasGelu ? [bias] : [bias, view([12, 64, N])];
  const product = view([12, 64, N]), out = view([12, 64, N]);
  await bench('matmul', () => k.matmul(x, w, product));
  await bench('matmul + fusedElementwise', () => { k.matmul(x, w, product); k.fusedElementwise(p, [product, ...inputs], [out]); });
  await bench('matmulEpilogue', () => matmulEpilogue(rt, x, w, p, inputs, [out]));
}

// Weight gradient dW [N, K] = dYᵀ [N, 768] · X [768, K], and the bias gradient Σ_rows dY.
for (const [N, K] of [[128, 128], [512, 128], [128, 512]]) {
  console.log(`weight gradient [${N}, 768] · [768, ${K}] (+ bias gradient [${N}])`);
  const dy = view([768, N]);
  const dyT: View<GPUBuffer> = { ...dy, shape: [N, 768], strides: [1, N] };
  const x = view([768, K]);
  const dw = view([N, K]), db = view([N]);
  await bench('matmul', () => k.matmul(dyT, x, dw));
  await bench('matmul + reduce', () => { k.reduce('sum', dy, [0], { ...db, shape: [1, N], strides: [N, 1] }); k.matmul(dyT, x, dw); });
  await bench('matmulEpilogue with row sums', () => matmulEpilogue(rt, dyT, x, identity, [], [dw], db));
}
rt.destroy();
process.exit(0);
