// Workgroup-count helpers.
//
// WebGPU caps each dispatch dimension at maxComputeWorkgroupsPerDimension (65535 by default). A
// one-dimensional launch over more workgroups is folded into x·y with `splitWorkgroups`, and the
// kernel recovers its linear workgroup index from the `num_workgroups` builtin:
//
//   @compute @workgroup_size(64)
//   fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
//           @builtin(local_invocation_index) lid: u32) {
//     let i = linear_workgroup(wid, nwg) * 64u + lid;   // WGSL_LINEAR_WORKGROUP defines linear_workgroup
//     if (i >= u.numel) { return; }                      // x·y may exceed the count: always bounds-check
//     ...
//   }

/** WebGPU's default limit on workgroups per dispatch dimension (maxComputeWorkgroupsPerDimension); larger grids are folded into y. */
export const MAX_WORKGROUPS_PER_DIM = 65535;

/** [x, y] with x ≤ maxPerDim and x·y ≥ count, wasting fewer than y workgroups. */
export function splitWorkgroups(count: number, maxPerDim: number = MAX_WORKGROUPS_PER_DIM): [number, number] {
  if (count <= maxPerDim) return [Math.max(0, count), 1];
  const y = Math.ceil(count / maxPerDim);
  if (y > maxPerDim) throw new RangeError(`dispatch of ${count} workgroups exceeds ${maxPerDim}² (the 2-D limit)`);
  return [Math.ceil(count / y), y];
}

/** Workgroups for `threads` invocations of a 1-D kernel with `workgroupSize` lanes, split into [x, y]. */
export function dispatch1D(threads: number, workgroupSize: number, maxPerDim?: number): [number, number] {
  return splitWorkgroups(Math.ceil(threads / workgroupSize), maxPerDim);
}

/** WGSL: the linear workgroup index of a dispatch folded by `splitWorkgroups`. */
export const WGSL_LINEAR_WORKGROUP = /* wgsl */ `
fn linear_workgroup(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y;
}
`;
