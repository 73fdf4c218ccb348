// Counter-based random numbers: Threefry-2x32-20, bit-identical to the CPU reference.
//
// What: element i (row-major over out) gets the Threefry-2x32-20 words of counter offset + i
// under the key derived from the seed, exactly as documented in cpu/random.ts, then
//   uniform: (w0 >> 8) · 2^-24 — exact in f32, so GPU and CPU agree bit for bit;
//   normal:  Box–Muller on u1 = ((w0 >> 8) + 1) · 2^-24, u2 = (w1 >> 8) · 2^-24, computed in f32
//            with WGSL_MATH's cos_ (the built-in one's accuracy varies between adapters: up to 8e-4
//            off on SwiftShader) — the CPU computes in float64 and rounds, so they agree to f32
//            tolerance, not bits.
// Layout: out may be strided (generic offsets from strided_codegen.ts); its dtype float32, float16 or
// bfloat16 (the f32 value rounded to nearest-even on store, half_wgsl.ts: uniform samples then equal
// the CPU's bit for bit), or int32/bool through the usual store conversion.
// Threads: one per element, 128 per workgroup; the 64-bit counter is (lo, hi) with the carry of
// offset_lo + i propagated into hi. Threefry needs only u32 add/rotate/xor, which WGSL has.

import type { RandomOptions, View } from '../types.js';
import { gpuStorageDType } from './dtype.js';
import { halfElement, wgslHalfHelpers, wgslStoreFn } from './half_wgsl.js';
import { WGSL_MATH } from './elementwise_ops.js';
import { UniformStruct } from './kernel_args.js';
import { readWrite, shader, uniform, type ShaderSource } from './bindings.js';
import type { WebGPURuntime } from './runtime.js';
import { coalesce, numel } from '../geometry.js';
import { pushStrided, wgslOffsets } from './strided_codegen.js';
import { dispatch1D, WGSL_LINEAR_WORKGROUP } from './workgroups.js';

const WG = 128;
const PARITY = 0x1bd11bda;
const ROT = [13, 15, 26, 6, 17, 29, 16, 24];

/** WGSL of threefry2x32(k0, k1, c0, c1) with 20 rounds, unrolled. */
export function wgslThreefry(): string {
  const lines: string[] = [];
  for (let r = 0; r < 20; r++) {
    const R = ROT[r % 8]!;
    lines.push(`  x0 = x0 + x1; x1 = (x1 << ${R}u) | (x1 >> ${32 - R}u); x1 = x1 ^ x0;`);
    if (r % 4 === 3) {
      const s = (r + 1) / 4;
      lines.push(`  x0 = x0 + ks[${s % 3}]; x1 = x1 + ks[${(s + 1) % 3}] + ${s}u;`);
    }
  }
  return /* wgsl */ `
fn threefry2x32(k0: u32, k1: u32, c0: u32, c1: u32) -> vec2<u32> {
  let ks = array<u32, 3>(k0, k1, ${PARITY}u ^ k0 ^ k1);
  var x0 = c0 + ks[0];
  var x1 = c1 + ks[1];
${lines.join('\n')}
  return vec2<u32>(x0, x1);
}
`;
}

type OutStorage = 'f32' | 'i32' | 'u32' | 'f16' | 'bf16';
const OUT_STORAGE: Readonly<Record<string, OutStorage>> = { float32: 'f32', int32: 'i32', bool: 'u32', float16: 'f16', bfloat16: 'bf16' };
const isHalf = (s: OutStorage): s is 'f16' | 'bf16' => s === 'f16' || s === 'bf16';

function wgslRandom(normal: boolean, outType: OutStorage, rank: number, u: UniformStruct): ShaderSource {
  const store = isHalf(outType) ? 'sto(o_out, v);' : `out[o_out] = ${outType === 'f32' ? 'v' : outType === 'i32' ? 'f2i(v)' : 'select(1u, 0u, v == 0.0)'};`;
  const value = normal ? /* wgsl */ `
  // Box–Muller. ln(u1) for u1 = 1 - t close to 1 by its series, which keeps relative precision.
  let t = f32(16777215u - (w.x >> 8u)) * 5.9604644775390625e-8;
  let u1 = f32((w.x >> 8u) + 1u) * 5.9604644775390625e-8;
  var ln_u1: f32;
  if (t < 0.0625) { ln_u1 = -t * (1.0 + t * (0.5 + t * (0.33333333 + t * (0.25 + t * (0.2 + t * (0.16666667 + t * 0.14285714)))))); }
  else { ln_u1 = log(u1); }
  let u2 = f32(w.y >> 8u) * 5.9604644775390625e-8;
  let v = sqrt(-2.0 * ln_u1) * cos_(6.283185307179586 * u2);`
    : `
  let v = f32(w.x >> 8u) * 5.9604644775390625e-8;`;
  return shader([readWrite('out', isHalf(outType) ? halfElement(outType, true) : outType), uniform(u)], `
${WGSL_MATH}${isHalf(outType) ? wgslHalfHelpers([outType]) + wgslStoreFn('sto', 'out', outType) : ''}
${WGSL_LINEAR_WORKGROUP}
${wgslThreefry()}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = linear_workgroup(wid, nwg) * ${WG}u + lid;
  if (i >= u.n) { return; }
  let c0 = u.ctr_lo + i;
  let c1 = u.ctr_hi + select(0u, 1u, c0 < i);
  let w = threefry2x32(u.k0, u.k1, c0, c1);
${value}
${wgslOffsets(rank, ['out'], 'i')}
  ${store}
}
`);
}

const TWO_POW_32 = 4294967296;

export function random(rt: WebGPURuntime, out: View<GPUBuffer>, opts: RandomOptions): void {
  const outType = OUT_STORAGE[gpuStorageDType('random', out.dtype)]!;
  const n = numel(out.shape);
  if (n === 0) return;
  const c = coalesce(out.shape, [out.strides]);
  const u = new UniformStruct();
  u.u32('n', n);
  u.u32('k0', opts.seed >>> 0);
  u.u32('k1', (Math.floor(opts.seed / TWO_POW_32) ^ PARITY) >>> 0);
  u.u32('ctr_lo', opts.offset >>> 0);
  u.u32('ctr_hi', Math.floor(opts.offset / TWO_POW_32) >>> 0);
  pushStrided(u, c.shape, [{ name: 'out', strides: c.strides[0]!, offset: out.offset }]);
  const normal = opts.distribution === 'normal';
  const rank = c.shape.length;
  const pipe = rt.pipeline(`random.${normal ? 'normal' : 'uniform'}.${outType}.r${rank}`, () => wgslRandom(normal, outType, rank, u));
  rt.dispatch(pipe, [out.buffer], u.bytes(), dispatch1D(n, WG), 'random');
}
