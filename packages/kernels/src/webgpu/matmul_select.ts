// Choosing a matmul variant: a pure function of the problem shape and the adapter.
//
// Variants (see matmul.ts for what each computes and how):
//   'gemv'     one output per (group of) invocations, K split across lanes and reduced in workgroup
//              memory. For M == 1 or N == 1 (matrix-vector) and tiny problems, where a tile would be
//              mostly empty and the work is bound by reading the matrix once.
//   'tiled'    workgroup-memory tiles (64×64 or 32×32 outputs, K in steps of 16), 4×4 outputs per
//              invocation held in registers. The default on real GPUs.
//   'register' no workgroup memory: each invocation reads its 4 rows of A and 4 columns of B straight
//              from the buffers (vec4 loads where the layout allows) and keeps a 4×4 block. On a CPU
//              "GPU" (lavapipe/llvmpipe, SwiftShader, WARP) the caches already do what workgroup memory
//              does, and the barriers of the tiled kernel only cost time, so this wins there.
//   'splitk'   the tiled kernel over S slices of K writing S partial products, and a second pass that
//              sums them (no atomics, deterministic). For long K with few output tiles, where the
//              tiled kernel would leave most of the GPU idle.
//
// The rule (thresholds are deliberately simple and documented in the tests' sweep):
//   1. M == 1 or N == 1, or M·N·K ≤ 16³                                 → 'gemv'
//   2. software adapter                                                 → 'register'
//   3. output tiles (batch · ⌈M/64⌉ · ⌈N/64⌉) < 32 and K ≥ 8·max(M, N) and K ≥ 256 → 'splitk'
//   4. otherwise                                                        → 'tiled'
// `setMatmulVariant` forces a variant for every later call (tests sweep all of them); 'auto' restores the rule.

export type MatmulVariant = 'gemv' | 'tiled' | 'register' | 'splitk';
export const MATMUL_VARIANTS: readonly MatmulVariant[] = ['gemv', 'tiled', 'register', 'splitk'];

export interface MatmulShape {
  /** Product of the batch dims (1 when there are none). */
  batch: number;
  M: number;
  N: number;
  K: number;
}

export interface MatmulAdapterInfo {
  isSoftware: boolean;
}

export function selectMatmulVariant(shape: MatmulShape, adapter: MatmulAdapterInfo): MatmulVariant {
  const { batch, M, N, K } = shape;
  if (M === 1 || N === 1 || M * N * K <= 16 * 16 * 16) return 'gemv';
  if (adapter.isSoftware) return 'register';
  const tiles = batch * Math.ceil(M / 64) * Math.ceil(N / 64);
  if (tiles < 32 && K >= 8 * Math.max(M, N) && K >= 256) return 'splitk';
  return 'tiled';
}

let forced: MatmulVariant | 'auto' = 'auto';

/** Forces every later WebGPU matmul to use `v` ('auto' returns to `selectMatmulVariant`). */
export function setMatmulVariant(v: MatmulVariant | 'auto'): void {
  if (v !== 'auto' && !MATMUL_VARIANTS.includes(v)) throw new RangeError(`setMatmulVariant: unknown variant '${String(v)}'`);
  forced = v;
}

/** The variant forced by `setMatmulVariant`, or 'auto'. */
export function getMatmulVariant(): MatmulVariant | 'auto' {
  return forced;
}
