// Shared test helpers: the devices every op test runs on, seeded data, and tolerant comparisons.
import { expect } from 'vitest';
import { hasDevice, tensor, type DeviceName, type GradInput, type Tensor } from '@webgrad/core';

/** Devices present in this process. WebGPU is added by `setupDevices()` when an adapter exists. */
export function testDevices(): DeviceName[] {
  return hasDevice('webgpu') ? ['cpu', 'webgpu'] : ['cpu'];
}

/** A deterministic pseudo-random stream for test data (independent of the library's RNG). */
export function rng(seed = 1): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 0x100000000;
  };
}

export function randomArray(n: number, seed = 1, lo = -1, hi = 1): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => lo + (hi - lo) * r());
}

export async function expectClose(t: Tensor, expected: ArrayLike<number> | number, tol = 1e-5): Promise<void> {
  const got = Array.from(await t.data(), Number);
  const exp = typeof expected === 'number' ? [expected] : Array.from(expected);
  expect(got.length).toBe(exp.length);
  for (let i = 0; i < exp.length; i++) {
    const e = exp[i]!, g = got[i]!;
    if (Number.isNaN(e)) { expect(Number.isNaN(g), `element ${i}: expected NaN, got ${g}`).toBe(true); continue; }
    if (!Number.isFinite(e)) { expect(g, `element ${i}`).toBe(e); continue; }
    expect(Math.abs(g - e), `element ${i}: got ${g}, expected ${e}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(e)));
  }
}

/** A float64 (or int32 index) input for a gradient-check sample, drawn from its domain. */
export function drawSample(spec: GradInput, seed: number): Tensor {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const r = rng(seed);
  if (spec.int) return tensor(Int32Array.from({ length: n }, () => Math.floor(r() * spec.int!.high)), { shape: spec.shape });
  const vals = new Float64Array(n).map(() => {
    const u = r();
    switch (spec.domain) {
      case 'positive': return 0.5 + 1.5 * u;
      case 'unit': return -0.9 + 1.8 * u;
      case 'awayFromZero': return (r() < 0.5 ? -1 : 1) * (0.3 + 1.7 * u);
      default: return -2 + 4 * u;
    }
  });
  return tensor(vals, { shape: spec.shape, dtype: 'float64' });
}
