// Average pooling on the fast cpu tier: the launchers of avg_pool_program.ts's WebAssembly plane
// kernels, called by conv.ts's pool2d and pool2dBackward for float32. The strided operand (x, or
// dy in the backward) may be any NCHW view whose array lives in the WebAssembly memory (a cpu
// tensor's), or a contiguous one anywhere (copied in); conv.ts runs its TypeScript loop otherwise.
// Results are the reference's bits (see the program's header). Threads take (n, c) planes from the
// shared queue once the work pays for waking them (FAST_CPU_CONFIG.elementwiseParallelMin).

import { isContiguous } from '../geometry.js';
import type { TypedArray, View } from '../types.js';
import { readPtr, writePtr } from '../wasm/operands.js';
import { wasmRuntime, type WasmRuntime } from '../wasm/runtime.js';
import { runPlanes } from './planes.js';
import { AVG_PARAMS } from './avg_pool_program.js';

type V = View<TypedArray>;

/** The pooling geometry (conv.ts's): input and output sizes, kernel, stride, padding, dilation. */
export interface AvgGeom {
  N: number; C: number; H: number; W: number; Ho: number; Wo: number;
  kh: number; kw: number; sh: number; sw: number; ph: number; pw: number; dh: number; dw: number;
}

/** Per output row and per output column, the [lo, hi) kernel taps inside the image (lo, hi pairs), and the divisors' factors. */
export interface AvgTables { rowsH: Int32Array; colsW: Int32Array; divH: Int32Array; divW: Int32Array }

/** Where the strided operand lies: its address (of element `offset`), each plane's element offset from it, its row and column strides. */
interface Strided { addr: number; planes: number; xh: number; xw: number }

function stridedOperand(rt: WasmRuntime, v: V, t: AvgGeom, planeElems: number): Strided | null {
  const count = t.N * t.C;
  const table = rt.alloc(count * 4);
  const planes = new Int32Array(rt.f32().buffer, table, count);
  if (isContiguous(v)) {
    for (let p = 0; p < count; p++) planes[p] = p * planeElems;
    return { addr: readPtr(rt, v, count * planeElems), planes: table, xh: v.shape[3]!, xw: 1 };
  }
  const base = rt.addressOf(v.buffer);
  if (base < 0) return null;
  const [sn, sc, sh, sw] = v.strides as [number, number, number, number];
  for (let n = 0, p = 0; n < t.N; n++) for (let c = 0; c < t.C; c++, p++) planes[p] = n * sn + c * sc;
  return { addr: base + v.offset * 4, planes: table, xh: sh, xw: sw };
}

/** The parameter block: AVG_PARAMS, then the row and column tap ranges. */
function paramBlock(rt: WasmRuntime, t: AvgGeom, s: Strided, tables: AvgTables): number {
  // Output columns whose whole kernel width reads inside the image; pairs of them go two at a time.
  let fullLo = 0;
  while (fullLo < t.Wo && !(tables.colsW[2 * fullLo] === 0 && tables.colsW[2 * fullLo + 1] === t.kw)) fullLo++;
  let fullHi = fullLo;
  while (fullHi < t.Wo && tables.colsW[2 * fullHi] === 0 && tables.colsW[2 * fullHi + 1] === t.kw) fullHi++;
  const vecEnd = fullLo + ((fullHi - fullLo) & ~1);
  const fields: Record<(typeof AVG_PARAMS)[number], number> = { ...t, XH: s.xh, XW: s.xw, FULL_LO: fullLo, VEC_END: vecEnd };
  const head = AVG_PARAMS.map((k) => fields[k]);
  const addr = rt.alloc((head.length + tables.rowsH.length + tables.colsW.length) * 4);
  const view = new Int32Array(rt.f32().buffer, addr, head.length + tables.rowsH.length + tables.colsW.length);
  view.set(head);
  view.set(tables.rowsH, head.length);
  view.set(tables.colsW, head.length + tables.rowsH.length);
  return addr;
}

/** The Ho·Wo float64 divisors (taps inside the padded image), in scratch. */
function divisorPlane(rt: WasmRuntime, t: AvgGeom, tables: AvgTables): number {
  const addr = rt.alloc(t.Ho * t.Wo * 8);
  const d = new Float64Array(rt.f32().buffer, addr, t.Ho * t.Wo);
  for (let oh = 0; oh < t.Ho; oh++) for (let ow = 0; ow < t.Wo; ow++) d[oh * t.Wo + ow] = tables.divH[oh]! * tables.divW[ow]!;
  return addr;
}

/** out [N, C, Ho, Wo] (contiguous) = the average pooling of x; false (nothing written) where x is strided outside the memory. */
export function avgPoolWasm(x: V, t: AvgGeom, out: V, tables: AvgTables): boolean {
  const rt = wasmRuntime();
  rt.reset();
  const nx = t.N * t.C * t.H * t.W, no = t.N * t.C * t.Ho * t.Wo;
  const s = stridedOperand(rt, x, t, t.H * t.W);
  if (s === null) return false;
  const o = writePtr(rt, out, no, isContiguous(x) ? [[s.addr, nx * 4]] : []);
  const prm = paramBlock(rt, t, s, tables), div = divisorPlane(rt, t, tables);
  runPlanes(rt, 'avgpool_planes', t.N * t.C, nx, (lo, hi) => [s.addr, o.addr, div, s.planes, prm, lo, hi], 0);
  o.done();
  return true;
}

/** dx [N, C, H, W] (contiguous) = dy / divisor spread over each window's in-image taps; false where dy is strided outside the memory. */
export function avgPoolBackwardWasm(dy: V, t: AvgGeom, dx: V, tables: AvgTables): boolean {
  const rt = wasmRuntime();
  rt.reset();
  const nx = t.N * t.C * t.H * t.W, no = t.N * t.C * t.Ho * t.Wo;
  const s = stridedOperand(rt, dy, t, t.Ho * t.Wo);
  if (s === null) return false;
  const o = writePtr(rt, dx, nx, isContiguous(dy) ? [[s.addr, no * 4]] : []);
  const prm = paramBlock(rt, t, s, tables), div = divisorPlane(rt, t, tables);
  runPlanes(rt, 'avgpool_backward_planes', t.N * t.C, nx, (lo, hi) => [s.addr, o.addr, div, s.planes, prm, lo, hi], t.H * t.W * 8);
  o.done();
  return true;
}
