// WebAssembly SIMD programs for the recurrent cells (cpu_fast/rnn.ts): one LSTM or GRU step, forward
// and backward, over contiguous float32 [B, G·H] gate rows and [B, H] states, for H a multiple of 4.
//
// Layout and vectorization: for each batch row b, the state columns j are walked four at a time;
// lane k of a step is element (b, j + k), and its G gate values sit at the same column of each of
// the row's G blocks of H floats (byte offsets 0, 4H, 8H, … from the gate row's start), so every
// load and store is a plain f32x4 of four neighbours. No lane depends on another, so results do not
// depend on H's split or on any thread count. Pointers are byte addresses.
//
// Arithmetic is float32 with exp from `emitExp` (rows_program.ts, within a few float32 ulps):
// σ(x) = 1/(1 + e^{−x}) and tanh(x) = 1 − 2/(e^{2x} + 1), which is exact at ±∞ (e^{2x} clamps) and
// accurate to about 1e-7 absolute near 0 — the reference (cpu/rnn.ts) works in float64, so
// results agree with it to float32 rounding, not bit for bit. Formulas: cpu/rnn.ts.

import type { FuncBuilder, FuncRef, Local, ModuleBuilder, Val } from '../wasm/emitter.js';
import { emitExp } from './rows_program.js';

const splat4 = (c: number): [number, number, number, number] => [c, c, c, c];

/** σ and tanh on four lanes, sharing the exp's scratch locals. */
function activations(f: FuncBuilder) {
  const t = f.local('v128'), n = f.local('v128'), r2 = f.local('v128'), e = f.local('v128'), arg = f.local('v128');
  const one = () => f.v128Const(splat4(1));
  return {
    sigmoid(x: () => Val<'v128'>, out: Local<'v128'>): void {
      f.set(arg, f.f32x4Neg(x()));
      emitExp(f, arg, e, t, n, r2);
      f.set(out, f.f32x4Div(one(), f.f32x4Add(one(), f.get(e))));
    },
    tanh(x: () => Val<'v128'>, out: Local<'v128'>): void {
      f.set(arg, f.f32x4Mul(x(), f.v128Const(splat4(2))));
      emitExp(f, arg, e, t, n, r2);
      f.set(out, f.f32x4Sub(one(), f.f32x4Div(f.v128Const(splat4(2)), f.f32x4Add(f.get(e), one()))));
    },
  };
}

/** Loops b over [0, B) and j over [0, H) by 4, with `g` the byte offset of (b, j) in a [B, G·H] row layout and `s` in [B, H]. */
function forCells(f: FuncBuilder, B: Local<'i32'>, H: Local<'i32'>, G: number,
  body: (g: Local<'i32'>, s: Local<'i32'>, b: Local<'i32'>, j: Local<'i32'>) => void): void {
  const b = f.local('i32'), j = f.local('i32'), g = f.local('i32'), s = f.local('i32');
  f.forRange(b, () => f.i32(0), () => f.get(B), 1, () => {
    f.forRange(j, () => f.i32(0), () => f.get(H), 4, () => {
      f.set(g, f.shl(f.add(f.mul(f.get(b), f.mul(f.get(H), f.i32(G))), f.get(j)), f.i32(2)));
      f.set(s, f.shl(f.add(f.mul(f.get(b), f.get(H)), f.get(j)), f.i32(2)));
      body(g, s, b, j);
    });
  });
}

/** Gate k's four lanes at base + g + k·4H. */
const gate = (f: FuncBuilder, base: Local<'i32'>, g: Local<'i32'>, H4: Local<'i32'>, k: number): Val<'i32'> =>
  (k === 0 ? f.add(f.get(base), f.get(g)) : f.add(f.add(f.get(base), f.get(g)), f.mul(f.get(H4), f.i32(k))));

/**
 * lstm_cell(xg, hg, c, h, cNew, acts, B, H): gates = xg + hg; acts = (σi, σf, tanh g, σo);
 * c' = f·c + i·g; h' = o·tanh c'. acts may be xg or hg (each lane reads its gates first).
 */
export function addLstmCell(m: ModuleBuilder): FuncRef<null> {
  return m.func('lstm_cell', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'] as const, null, (f, xg, hg, c, h, cn, acts, B, H) => {
    const act = activations(f);
    const H4 = f.local('i32');
    const i = f.local('v128'), fg = f.local('v128'), gg = f.local('v128'), o = f.local('v128'), c2 = f.local('v128'), tc = f.local('v128');
    f.set(H4, f.shl(f.get(H), f.i32(2)));
    forCells(f, B, H, 4, (g, s) => {
      const pre = (k: number) => () => f.f32x4Add(f.v128Load(gate(f, xg, g, H4, k)), f.v128Load(gate(f, hg, g, H4, k)));
      act.sigmoid(pre(0), i);
      act.sigmoid(pre(1), fg);
      act.tanh(pre(2), gg);
      act.sigmoid(pre(3), o);
      f.set(c2, f.f32x4Add(f.f32x4Mul(f.get(fg), f.v128Load(f.add(f.get(c), f.get(s)))), f.f32x4Mul(f.get(i), f.get(gg))));
      f.v128Store(f.add(f.get(cn), f.get(s)), f.get(c2));
      act.tanh(() => f.get(c2), tc);
      f.v128Store(f.add(f.get(h), f.get(s)), f.f32x4Mul(f.get(o), f.get(tc)));
      [i, fg, gg, o].forEach((v, k) => f.v128Store(gate(f, acts, g, H4, k), f.get(v)));
    });
  });
}

/**
 * lstm_cell_backward(acts, c, cNew, dh, dhMore, dcNew, dgates, dc, B, H): with dh' = dh + dhMore,
 * dc' = dcNew + dh'·o·(1 − tanh²c');
 * dgates = (dc'·g·i(1−i), dc'·c·f(1−f), dc'·i·(1−g²), dh'·tanh c'·o(1−o)); dc = dc'·f.
 */
export function addLstmCellBackward(m: ModuleBuilder): FuncRef<null> {
  return m.func('lstm_cell_backward', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'] as const, null,
    (f, acts, c, cn, dh, dhm, dcn, dg, dc, B, H) => {
      const act = activations(f);
      const H4 = f.local('i32');
      const i = f.local('v128'), fg = f.local('v128'), gg = f.local('v128'), o = f.local('v128');
      const tc = f.local('v128'), d = f.local('v128'), dc2 = f.local('v128');
      const one = () => f.v128Const(splat4(1));
      const omx = (v: Local<'v128'>) => f.f32x4Mul(f.get(v), f.f32x4Sub(one(), f.get(v)));   // v(1 − v)
      f.set(H4, f.shl(f.get(H), f.i32(2)));
      forCells(f, B, H, 4, (g, s) => {
        [i, fg, gg, o].forEach((v, k) => f.set(v, f.v128Load(gate(f, acts, g, H4, k))));
        act.tanh(() => f.v128Load(f.add(f.get(cn), f.get(s))), tc);
        f.set(d, f.f32x4Add(f.v128Load(f.add(f.get(dh), f.get(s))), f.v128Load(f.add(f.get(dhm), f.get(s)))));
        f.set(dc2, f.f32x4Add(f.v128Load(f.add(f.get(dcn), f.get(s))),
          f.f32x4Mul(f.f32x4Mul(f.get(d), f.get(o)), f.f32x4Sub(one(), f.f32x4Mul(f.get(tc), f.get(tc))))));
        f.v128Store(gate(f, dg, g, H4, 0), f.f32x4Mul(f.f32x4Mul(f.get(dc2), f.get(gg)), omx(i)));
        f.v128Store(gate(f, dg, g, H4, 1), f.f32x4Mul(f.f32x4Mul(f.get(dc2), f.v128Load(f.add(f.get(c), f.get(s)))), omx(fg)));
        f.v128Store(gate(f, dg, g, H4, 2), f.f32x4Mul(f.f32x4Mul(f.get(dc2), f.get(i)), f.f32x4Sub(one(), f.f32x4Mul(f.get(gg), f.get(gg)))));
        f.v128Store(gate(f, dg, g, H4, 3), f.f32x4Mul(f.f32x4Mul(f.get(d), f.get(tc)), omx(o)));
        f.v128Store(f.add(f.get(dc), f.get(s)), f.f32x4Mul(f.get(dc2), f.get(fg)));
      });
    });
}

/**
 * gru_cell(xg, hg, bias, h, hNew, acts, B, H): hn = hg_n + b_n; r = σ(x_r + h_r + b_r),
 * z = σ(x_z + h_z + b_z), n = tanh(x_n + r·hn); h' = n + z·(h − n); acts = (r, z, n, hn) in [B, 4H].
 * `bias` points at 3H floats (zeros when the layer has none).
 */
export function addGruCell(m: ModuleBuilder): FuncRef<null> {
  return m.func('gru_cell', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'] as const, null, (f, xg, hg, bias, h, hn2, acts, B, H) => {
    const act = activations(f);
    const H4 = f.local('i32'), q = f.local('i32'), jb = f.local('i32');
    const r = f.local('v128'), z = f.local('v128'), n = f.local('v128'), hn = f.local('v128'), hv = f.local('v128');
    f.set(H4, f.shl(f.get(H), f.i32(2)));
    forCells(f, B, H, 3, (g, s, b, j) => {
      f.set(jb, f.shl(f.get(j), f.i32(2)));                                              // the bias column
      f.set(q, f.shl(f.add(f.mul(f.get(b), f.shl(f.get(H), f.i32(2))), f.get(j)), f.i32(2)));  // (b, j) in acts [B, 4H]
      const pre = (k: number) => () => f.f32x4Add(f.f32x4Add(f.v128Load(gate(f, xg, g, H4, k)), f.v128Load(gate(f, hg, g, H4, k))),
        f.v128Load(gate(f, bias, jb, H4, k)));
      act.sigmoid(pre(0), r);
      act.sigmoid(pre(1), z);
      f.set(hn, f.f32x4Add(f.v128Load(gate(f, hg, g, H4, 2)), f.v128Load(gate(f, bias, jb, H4, 2))));
      act.tanh(() => f.f32x4Add(f.v128Load(gate(f, xg, g, H4, 2)), f.f32x4Mul(f.get(r), f.get(hn))), n);
      f.set(hv, f.v128Load(f.add(f.get(h), f.get(s))));
      f.v128Store(f.add(f.get(hn2), f.get(s)), f.f32x4Add(f.get(n), f.f32x4Mul(f.get(z), f.f32x4Sub(f.get(hv), f.get(n)))));
      [r, z, n, hn].forEach((v, k) => f.v128Store(gate(f, acts, q, H4, k), f.get(v)));
    });
  });
}

/**
 * gru_cell_backward(acts, h, dhNew, dhMore, dxg, dhg, dh, B, H): with dh' = dhNew + dhMore,
 * dn = dh'(1 − z)(1 − n²), dz = dh'(h − n)z(1 − z), dr = dn·hn·r(1 − r); dxg = (dr, dz, dn),
 * dhg = (dr, dz, dn·r), dh += dh'·z.
 */
export function addGruCellBackward(m: ModuleBuilder): FuncRef<null> {
  return m.func('gru_cell_backward', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'] as const, null, (f, acts, h, dhn, dhm, dxg, dhg, dh, B, H) => {
    const H4 = f.local('i32'), q = f.local('i32');
    const r = f.local('v128'), z = f.local('v128'), n = f.local('v128'), hn = f.local('v128'), d = f.local('v128');
    const dn = f.local('v128'), dz = f.local('v128'), dr = f.local('v128');
    const one = () => f.v128Const(splat4(1));
    f.set(H4, f.shl(f.get(H), f.i32(2)));
    forCells(f, B, H, 3, (g, s, b, j) => {
      f.set(q, f.shl(f.add(f.mul(f.get(b), f.shl(f.get(H), f.i32(2))), f.get(j)), f.i32(2)));  // (b, j) in acts [B, 4H]
      [r, z, n, hn].forEach((v, k) => f.set(v, f.v128Load(gate(f, acts, q, H4, k))));
      f.set(d, f.f32x4Add(f.v128Load(f.add(f.get(dhn), f.get(s))), f.v128Load(f.add(f.get(dhm), f.get(s)))));
      f.set(dn, f.f32x4Mul(f.f32x4Mul(f.get(d), f.f32x4Sub(one(), f.get(z))), f.f32x4Sub(one(), f.f32x4Mul(f.get(n), f.get(n)))));
      f.set(dz, f.f32x4Mul(f.f32x4Mul(f.get(d), f.f32x4Sub(f.v128Load(f.add(f.get(h), f.get(s))), f.get(n))),
        f.f32x4Mul(f.get(z), f.f32x4Sub(one(), f.get(z)))));
      f.set(dr, f.f32x4Mul(f.f32x4Mul(f.get(dn), f.get(hn)), f.f32x4Mul(f.get(r), f.f32x4Sub(one(), f.get(r)))));
      f.v128Store(gate(f, dxg, g, H4, 0), f.get(dr));
      f.v128Store(gate(f, dxg, g, H4, 1), f.get(dz));
      f.v128Store(gate(f, dxg, g, H4, 2), f.get(dn));
      f.v128Store(gate(f, dhg, g, H4, 0), f.get(dr));
      f.v128Store(gate(f, dhg, g, H4, 1), f.get(dz));
      f.v128Store(gate(f, dhg, g, H4, 2), f.f32x4Mul(f.get(dn), f.get(r)));
      f.v128Store(f.add(f.get(dh), f.get(s)), f.f32x4Add(f.v128Load(f.add(f.get(dh), f.get(s))), f.f32x4Mul(f.get(d), f.get(z))));
    });
  });
}

/** Every recurrent program. */
export function addRnn(m: ModuleBuilder): void {
  addLstmCell(m);
  addLstmCellBackward(m);
  addGruCell(m);
  addGruCellBackward(m);
}
