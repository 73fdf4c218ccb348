// The GPT step's layerNorm backward with its residual gradient's add on WebGPU (`node
// benchmarks/layer_norm_add.mjs [--rounds 7] [--reps 20]`): for x [768, 128] (and a longer row),
// `layerNormBackward` followed by the `add` kernel (what eager runs), and `layerNormBackwardAdd`
// (what a compiled step runs) writing dx too, without dx, and without dx over x's buffer (as the
// compiled GPT step does). Kernel calls only; each round issues `reps` calls and ends with a 4-byte
// readback. Prints µs per call, median and fastest round.
import { createWebGPUKernels, layerNormBackwardAdd, WebGPURuntime } from '@webgrad/kernels';
import { benchKernelCalls, filledView } from './lib/gpu.js';
import { intFlag } from './lib/args.js';

const ROUNDS = intFlag('rounds', 7);
const REPS = intFlag('reps', 20);

const rt = await WebGPURuntime.create();
const k = createWebGPUKernels(rt);
const view = (shape: number[], fill?: (i: number) => number) => filledView(rt, shape, { fill });
const bench = (what: string, fn: () => void): Promise<void> => benchKernelCalls(rt, what, fn, { reps: REPS, rounds: ROUNDS, width: 48 });

for (const [R, D] of [[768, 128], [256, 1024]]) {
  console.log(`layerNorm backward [${R}, ${D}] with dweight, dbias, and the residual add`);
  const x = view([R, D]), w = view([D], (i) => 1 + 0.01 * i), mean = view([R], () => 0.1), rstd = view([R], () => 1.5);
  const dy = view([R, D], (i) => Math.cos(i * 0.11)), r = view([R, D], (i) => Math.cos(i * 0.07));
  const dx = view([R, D]), out = view([R, D]), dw = view([D]), db = view([D]);
  await bench('layerNormBackward + add', () => { k.layerNormBackward(x, w, mean, rstd, dy, dx, dw, db); k.binary('add', dx, r, out); });
  await bench('layerNormBackwardAdd, dx written', () => layerNormBackwardAdd(rt, x, w, mean, rstd, dy, r, out, dx, dw, db));
  await bench('layerNormBackwardAdd, no dx', () => layerNormBackwardAdd(rt, x, w, mean, rstd, dy, r, out, null, dw, db));
  // out over x changes x each call: values drift, the work does not.
  await bench('layerNormBackwardAdd, no dx, out over x', () => layerNormBackwardAdd(rt, x, w, mean, rstd, dy, r, x, null, dw, db));
}
rt.destroy();
process.exit(0);
