// Test helpers for the layer and model tests: reading the PyTorch fixtures in ../fixtures, mapping
// PyTorch's snake_case state-dict names to the library's camelCase ones, comparing outputs, and a
// float64 central-difference gradient check of a scalar function of several tensors.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gradients, hasDevice, noGrad, tensor, tidy, type DeviceName, type Tensor } from '@webgrad/core';
import { expect, it } from 'vitest';

/** Devices every layer test runs on. Add 'webgpu' here once the WebGPU backend is registered. */
export const DEVICES: DeviceName[] = hasDevice('webgpu') ? ['cpu', 'webgpu'] : ['cpu'];

export interface JT { shape: number[]; data: number[] }

export function loadFixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(fileURLToPath(new URL(`../fixtures/${name}.json`, import.meta.url)), 'utf8')) as T;
}

export function toTensor(j: JT, opts: { dtype?: 'float32' | 'float64'; device?: DeviceName } = {}): Tensor {
  return tensor(j.data, { shape: j.shape, dtype: opts.dtype ?? 'float32', device: opts.device });
}

/** PyTorch name → library name: each snake_case segment to camelCase (`self_attn.in_proj_weight` →
 *  `selfAttn.inProjWeight`, `weight_ih_l0_reverse` → `weightIhL0Reverse`). */
export function camelName(name: string): string {
  return name.split('.').map((seg) => seg.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())).join('.');
}

/** A fixture state dict as library tensors under camelCase names (optionally renamed further). */
export function stateFrom(state: Record<string, JT>, opts: { dtype?: 'float32' | 'float64'; device?: DeviceName; rename?: (n: string) => string } = {}): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(state)) out[(opts.rename ?? ((n) => n))(camelName(k))] = toTensor(v, opts);
  return out;
}

export function disposeAll(sd: Record<string, Tensor>): void {
  for (const t of Object.values(sd)) t.dispose();
}

/** Expect `t` to match fixture `j` elementwise within atol + rtol·|expected|. */
export async function expectClose(t: Tensor, j: JT, atol = 1e-5, rtol = 1e-4): Promise<void> {
  expect([...t.shape]).toEqual(j.shape);
  const got = await t.data();
  let worst = 0, at = -1;
  for (let i = 0; i < j.data.length; i++) {
    const err = Math.abs(got[i]! - j.data[i]!) - (atol + rtol * Math.abs(j.data[i]!));
    if (!(err <= worst)) { worst = err; at = i; }
  }
  if (at >= 0) expect.fail(`element ${at}: got ${got[at]}, expected ${j.data[at]} (shape [${j.shape}])`);
}

export async function expectTensorsClose(a: Tensor, b: Tensor, atol = 1e-5, rtol = 1e-4): Promise<void> {
  await expectClose(a, { shape: [...b.shape], data: Array.from(await b.data()) }, atol, rtol);
}

/**
 * Compare d f / d x for each x in `xs` (float64 leaves requiring grad) by autograd against central
 * differences, on at most `maxPerTensor` evenly spaced elements of each.
 */
export function gradcheck(f: () => Tensor, xs: Tensor[], opts: { eps?: number; atol?: number; rtol?: number; maxPerTensor?: number } = {}): void {
  const eps = opts.eps ?? 1e-6, atol = opts.atol ?? 1e-6, rtol = opts.rtol ?? 1e-4, maxN = opts.maxPerTensor ?? 24;
  for (const x of xs) if (x.dtype !== 'float64') throw new Error(`gradcheck: ${x.name ?? 'input'} must be float64`);
  const analytic = tidy(() => {
    const y = f();
    return gradients(y, xs, { allowUnused: true }).map((g, i) => (g ? g.dataSync() : new Float64Array(xs[i]!.size)));
  });
  const evalF = (): number => noGrad(() => tidy(() => f().dataSync()[0]!));
  xs.forEach((x, xi) => {
    const n = x.size;
    const step = Math.max(1, Math.floor(n / maxN));
    for (let i = 0; i < n; i += step) {
      const flat = noGrad(() => x.reshape([-1]).narrow(0, i, 1));
      const v0 = flat.dataSync()[0]!;
      noGrad(() => flat.fill_(v0 + eps));
      const fp = evalF();
      noGrad(() => flat.fill_(v0 - eps));
      const fm = evalF();
      noGrad(() => flat.fill_(v0));
      flat.dispose();
      const num = (fp - fm) / (2 * eps);
      const an = analytic[xi]![i]!;
      if (!(Math.abs(num - an) <= atol + rtol * Math.abs(num))) {
        expect.fail(`gradcheck: tensor ${xi}${x.name ? ` (${x.name})` : ''} element ${i}: autograd ${an}, finite difference ${num}`);
      }
    }
  });
}

/** A fixed pseudo-random float64 tensor (for weighting outputs into a scalar loss). */
export function fixedRandom(shape: readonly number[], seed = 1, device: DeviceName = 'cpu'): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const arr = new Float64Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    arr[i] = (s / 4294967296) * 2 - 1;
  }
  return tensor(arr, { shape, dtype: 'float64', device });
}

/**
 * `it` for checks that need float64, a CPU-only dtype: on 'cpu' it is vitest's `it`; on other
 * devices it registers nothing (the fixture comparisons cover those layers there).
 */
export function onCpu(device: DeviceName): typeof it {
  if (device === 'cpu') return it;
  const none = (() => {}) as unknown as typeof it;
  Object.assign(none, { each: () => () => {} });
  return none;
}
