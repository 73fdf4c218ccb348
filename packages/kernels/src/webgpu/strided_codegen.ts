// Strided-view indexing for WGSL kernels, shared by the elementwise, random, reduce and indexing
// families.
//
// A view's element (i0, ..., i_{r-1}) lives at `offset + Σ i_d·stride_d` (elements, not bytes).
// Launchers first `coalesce` dims (geometry.ts) (drop size-1 dims, merge neighbours that are contiguous in
// every view), which lowers the rank the shader must handle and turns most views into one
// contiguous run. The shape, each view's strides and offset travel as scalar uniforms
// (`sh<d>`, `st_<view><d>`, `off_<view>`), and `wgslOffsets` emits the unrolled loop that turns a
// row-major linear index into one buffer offset per view. The rank is a compile-time constant of
// the pipeline key, so no loop or array indexing happens at run time.

import type { UniformStruct } from './kernel_args.js';

export const MAX_RANK = 8;

/** Is a coalesced view one contiguous run (rank ≤ 1 with unit stride)? */
export function isContiguousRun(shape: readonly number[], strides: readonly number[]): boolean {
  return shape.length === 0 || (shape.length === 1 && strides[0] === 1);
}

/** Pushes `sh<d>` for the shape and `off_<name>`, `st_<name><d>` for each view. */
export function pushStrided(u: UniformStruct, shape: readonly number[], views: readonly { name: string; strides: readonly number[]; offset: number }[]): void {
  if (shape.length > MAX_RANK) throw new RangeError(`rank ${shape.length} exceeds the WebGPU kernels' maximum of ${MAX_RANK} after merging contiguous dims`);
  shape.forEach((s, d) => u.u32(`sh${d}`, s));
  for (const v of views) {
    u.u32(`off_${v.name}`, v.offset);
    v.strides.forEach((s, d) => u.i32(`st_${v.name}${d}`, s));
  }
}

/**
 * WGSL statements computing `let o_<name>: u32` (the buffer offset of each view) for the linear
 * row-major index held in the u32 expression `index`, over a rank-`rank` shape in the uniforms `u`.
 */
export function wgslOffsets(rank: number, names: readonly string[], index: string): string {
  const lines: string[] = [];
  for (const n of names) lines.push(`  var a_${n}: i32 = i32(u.off_${n});`);
  if (rank > 0) lines.push(`  var rem: u32 = ${index};`);
  for (let d = rank - 1; d >= 0; d--) {
    const c = d === 0 ? 'rem' : `rem % u.sh${d}`;
    lines.push(`  { let c = i32(${c});${d > 0 ? ` rem = rem / u.sh${d};` : ''}`);
    for (const n of names) lines.push(`    a_${n} += c * u.st_${n}${d};`);
    lines.push('  }');
  }
  for (const n of names) lines.push(`  let o_${n} = u32(a_${n});`);
  return lines.join('\n');
}
