// The program the browser test runs, in a page, in a Web Worker and — as the reference — in Node:
// a tiny GPT trained for a few steps on one device, one matmul big enough to be split over the cpu
// device's threads (15.7M multiply-adds), and every unary function on a fixed set of awkward
// arguments. Everything comes from the seeded generator, so every run computes the same.
import { cat, getNumThreads, keep, manualSeed, randint, randn, tensor, tidy, type DeviceName, type Tensor } from '@webgrad/core';
import { GPT } from '@webgrad/nn';
import { AdamW, clipGradNorm } from '@webgrad/optim';

export interface SmokeResult {
  device: DeviceName;
  /** Training loss of each step. */
  losses: number[];
  /** Sum and first element of a [192, 256]·[256, 320] product. */
  matmul: [number, number];
  /** Threads of the fast cpu kernels where this ran. */
  threads: number;
  /** Each unary function on PROBE_INPUTS (values WGSL's built-ins only bound loosely); non-finite
   *  results as strings ('Infinity', 'NaN'), which survive JSON. */
  unary: Record<string, (number | string)[]>;
}

/** Arguments near 0 and 1, mid-sized and large: where adapters' built-in functions differ most. */
export const PROBE_INPUTS = Float32Array.from([
  -800.3, -31.7, -13.2, -5.5, -2.6, -1.5707, -0.3, -0.01, -1.5e-4, 0, 2e-5, 1.5e-4, 0.003, 0.2, 0.34, 0.99985, 1.0002, 1.4, 3.1,
  7.9, 25.1, 77.7, 1234.5,
]);
const PROBE_OPS = ['exp', 'expm1', 'log', 'log1p', 'sqrt', 'sin', 'cos', 'tanh', 'sigmoid', 'gelu', 'silu', 'softplus', 'erf'] as const;
const POSITIVE_ONLY = new Set(['log', 'log1p', 'sqrt']);

export async function smokeRun(device: DeviceName, steps = 6): Promise<SmokeResult> {
  manualSeed(42);
  const V = 23, T = 16;
  const model = new GPT({ vocabSize: V, blockSize: T, nLayer: 2, nHead: 2, nEmbd: 32, dropout: 0, bias: true, device });
  const opt = new AdamW(model.configureOptimizerGroups(0.1), { lr: 3e-3, betas: [0.9, 0.99] });
  const x = randint(0, V, [4, T], { device });
  const y = randint(0, V, [4, T], { device });
  const losses: number[] = [];
  try {
    for (let s = 0; s < steps; s++) {
      const loss = tidy(() => {
        const l = model.forward(x, y).loss!;
        l.backward();
        clipGradNorm(opt.params(), 1).dispose();
        opt.step();
        opt.zeroGrad();
        return keep(l);
      });
      losses.push(await loss.item());
      loss.dispose();
    }
    const c = tidy(() => {
      const p = randn([192, 256], { device }).matmul(randn([256, 320], { device }));
      return keep(cat([p.sum().reshape([1]), p.reshape([-1]).slice(0, 0, 1)]));
    });
    const vals = await c.data();
    c.dispose();
    const unary: Record<string, (number | string)[]> = {};
    for (const op of PROBE_OPS) {
      const xs = POSITIVE_ONLY.has(op) ? PROBE_INPUTS.map(Math.abs) : PROBE_INPUTS;
      const t = tensor(xs, { device });
      const r = (t as unknown as Record<string, () => Tensor>)[op]!.call(t);
      unary[op] = Array.from(await r.data(), (v) => (Number.isFinite(v) ? v : String(v)));
      t.dispose();
      r.dispose();
    }
    return { device, losses, matmul: [vals[0]!, vals[1]!], threads: getNumThreads(), unary };
  } finally {
    for (const t of [x, y]) t.dispose();
    opt.dispose();
    model.dispose();
  }
}
