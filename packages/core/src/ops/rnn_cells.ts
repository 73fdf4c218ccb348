// The recurrent cells as fused ops, with PyTorch's gate layouts (blocks of H along the last dim):
//   RNN   h' = tanh(x + h·W_hhᵀ) (or relu), no gates
//   LSTM  gates (i, f, g, o)   c' = σ(f)·c + σ(i)·tanh(g);  h' = σ(o)·tanh(c')
//   GRU   x- and h-gates (r, z, n) kept apart, since n = tanh(x_n + r·(W_hn·h + b_hn));
//         r = σ(x_r + h_r), z = σ(x_z + h_z), h' = (1 − z)·n + z·h
//
// Two levels:
// - lstmCell / gruCell: one step from precomputed gates (the LSTMCell and GRUCell modules).
// - rnnSequence / lstmSequence / gruSequence: a whole direction of a layer, from the input projection of every
//   step (xGates, one matmul before the loop, as cuDNN and PyTorch do). The forward loops inside one
//   op — per step one recurrent matmul and one cell kernel, no graph node — and the backward runs
//   the steps in reverse (per step one cell-backward kernel and one matmul) and takes dW_hh as one
//   matmul over all steps at the end.
// The kernels are the optional `RecurrentKernels` (kernels/src/cpu/rnn.ts has the formulas). On a
// backend without them, and whenever the backward is itself recorded (createGraph), the ops run and
// differentiate their decompositions into primitive ops (`*Decomposed`, exported as the reference).
import type { View } from '@webgrad/kernels';
import type { DType } from '@webgrad/kernels';
import { promoteTypes, requireFloat } from '../dtype.js';
import { ShapeError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { backwardThroughDecomposition, recordingBackward } from '../autograd/decomposition_backward.js';
import { tidy } from '../memory.js';
import { checkBool, checkEnum, checkOptions, checkTensor } from '../validate.js';
import { empty, zerosOn } from './alloc.js';
import { cast, contiguous } from './cast.js';
import { apply, defineOp } from './define.js';
import { add, mul, relu, sigmoid, sub, tanh } from './elementwise.js';
import { matmul } from './matmul.js';
import { sum } from './reduce.js';
import { cat, chunk, stack } from './shape_ops.js';
import { narrow, select, unsqueeze } from './views.js';

type Kernels = Tensor['backend']['kernels'];
type KView = View<unknown>;

/** The view of row block `i` of contiguous t ([N, ...rest] → rest). */
function at(t: Tensor, i: number): KView {
  const rowStride = t.strides[0];
  if (rowStride === undefined) throw new Error(`at: expected a tensor with a leading dim, got shape ${fmtShape(t.shape)}`);
  return { buffer: t.storage.buffer, dtype: t.dtype, shape: t.shape.slice(1), strides: t.strides.slice(1), offset: t.offset + i * rowStride };
}
/** Contiguous t ([T, B, X]) seen as a matrix [T·B, X]. */
function rowsView(t: Tensor): KView {
  const X = t.shape[t.ndim - 1];
  if (X === undefined) throw new Error(`rowsView: expected a tensor with a last dim, got shape ${fmtShape(t.shape)}`);
  return { buffer: t.storage.buffer, dtype: t.dtype, shape: [t.size / X, X], strides: [X, 1], offset: t.offset };
}
/** The transpose of a row-major matrix view. */
function transposed(v: KView): KView {
  const [rows, cols] = v.shape, [rowStride, colStride] = v.strides;
  if (rows === undefined || cols === undefined || rowStride === undefined || colStride === undefined) {
    throw new Error(`transposed: expected a matrix view, got shape ${fmtShape(v.shape)}`);
  }
  return { ...v, shape: [cols, rows], strides: [colStride, rowStride] };
}

// ---- checks ------------------------------------------------------------------------------------

/** Every present tensor (the first always is) is floating point; returns their promoted dtype (a 16-bit projection under autocast meets float32 states as float32, as the ops it fuses would). */
function floatDType(op: string, named: [[string, Tensor], ...[string, Tensor | null][]]): DType {
  const [[firstName, first], ...rest] = named;
  requireFloat(op, first, firstName);
  let dt = first.dtype;
  for (const [name, t] of rest) {
    if (t === null) continue;
    requireFloat(op, t, name);
    dt = promoteTypes(dt, t.dtype);
  }
  return dt;
}
function expectShape(op: string, name: string, t: Tensor, want: readonly number[], what: string): void {
  if (t.ndim !== want.length || t.shape.some((d, i) => d !== want[i])) {
    throw new ShapeError(`${op}: expected ${name} ${fmtShape(want)} (${what}), got ${fmtShape(t.shape)}`);
  }
}
/** The number of steps T of xGates [T, B, G]. */
function stepCount(op: string, xGates: Tensor): number {
  const T = xGates.shape[0];
  if (T === undefined) throw new ShapeError(`${op}: expected xGates [T, B, G], got ${fmtShape(xGates.shape)}`);
  return T;
}
/** [B, G·H] gates against a [B, H] state; returns H. */
function checkGates(op: string, gatesName: string, gates: Tensor, G: number, state: Tensor, stateName: string): number {
  checkTensor(op, gatesName, gates);
  checkTensor(op, stateName, state);
  if (state.ndim !== 2) throw new ShapeError(`${op}: expected ${stateName} [B, H], got ${fmtShape(state.shape)}`);
  const [B, H] = state.shape as [number, number];
  expectShape(op, gatesName, gates, [B, G * H], `batch, ${G}·hiddenSize, from ${stateName} ${fmtShape(state.shape)}`);
  return H;
}

// ---- decompositions (the reference) -------------------------------------------------------------

/** One LSTM step from primitive ops: [h', c'] from gates [B, 4H] and c [B, H]. */
function lstmStepDecomposed(gates: Tensor, c: Tensor): [Tensor, Tensor] {
  const [i, f, g, o] = chunk(gates, 4, -1) as [Tensor, Tensor, Tensor, Tensor];
  const c2 = add(mul(sigmoid(f), c), mul(sigmoid(i), tanh(g)));
  return [mul(sigmoid(o), tanh(c2)), c2];
}
/** One GRU step from primitive ops: h' from xGates, hGates [B, 3H] (with the hidden bias) and h [B, H]. */
function gruStepDecomposed(xg: Tensor, hg: Tensor, h: Tensor): Tensor {
  const [xr, xz, xn] = chunk(xg, 3, -1) as [Tensor, Tensor, Tensor];
  const [hr, hz, hn] = chunk(hg, 3, -1) as [Tensor, Tensor, Tensor];
  const r = sigmoid(add(xr, hr)), z = sigmoid(add(xz, hz));
  const n = tanh(add(xn, mul(r, hn)));
  return add(n, mul(z, sub(h, n)));                                      // (1 − z)·n + z·h
}

/** lstmCell from primitive ops, packed as [2, B, H]: h', then c' (arguments checked by the caller). */
function lstmCellSteps(gates: Tensor, c: Tensor): Tensor {
  return tidy(() => stack(lstmStepDecomposed(gates, c), 0));
}
/** gruCell from primitive ops. */
function gruCellSteps(xGates: Tensor, hGates: Tensor, h: Tensor): Tensor {
  return tidy(() => gruStepDecomposed(xGates, hGates, h));
}

/** lstmSequence from primitive ops, packed as [T + 1, B, H]: h at every step in time order, then the final c. */
function lstmSequenceSteps(xGates: Tensor, h0: Tensor, c0: Tensor, weightHh: Tensor, reverse = false): Tensor {
  return tidy(() => {
    const T = stepCount('lstmSequence', xGates);
    const outs = new Array<Tensor>(T);
    let h = h0, c = c0;
    for (let s = 0; s < T; s++) {
      const t = reverse ? T - 1 - s : s;
      [h, c] = lstmStepDecomposed(add(select(xGates, 0, t), matmul(h, weightHh.mT)), c);
      outs[t] = h;
    }
    return cat([stack(outs, 0), unsqueeze(c, 0)], 0);
  });
}
/** rnnSequence from primitive ops: h at every step in time order, [T, B, H]. */
function rnnSequenceSteps(xGates: Tensor, h0: Tensor, weightHh: Tensor, nonlinearity: 'tanh' | 'relu' = 'tanh', reverse = false): Tensor {
  return tidy(() => {
    const T = stepCount('rnnSequence', xGates);
    const outs = new Array<Tensor>(T);
    let h = h0;
    for (let s = 0; s < T; s++) {
      const t = reverse ? T - 1 - s : s;
      const pre = add(select(xGates, 0, t), matmul(h, weightHh.mT));
      h = nonlinearity === 'tanh' ? tanh(pre) : relu(pre);
      outs[t] = h;
    }
    return stack(outs, 0);
  });
}
/** gruSequence from primitive ops: h at every step in time order, [T, B, H]. */
function gruSequenceSteps(xGates: Tensor, h0: Tensor, weightHh: Tensor, biasHh: Tensor | null, reverse = false): Tensor {
  return tidy(() => {
    const T = stepCount('gruSequence', xGates);
    const outs = new Array<Tensor>(T);
    let h = h0;
    for (let s = 0; s < T; s++) {
      const t = reverse ? T - 1 - s : s;
      const hg = matmul(h, weightHh.mT);
      h = gruStepDecomposed(select(xGates, 0, t), biasHh ? add(hg, biasHh) : hg, h);
      outs[t] = h;
    }
    return stack(outs, 0);
  });
}

// ---- single steps -------------------------------------------------------------------------------

/** Kernels with both named recurrent kernels present. */
type With<K extends keyof Kernels> = Kernels & Required<Pick<Kernels, K>>;
const hasRnn = (k: Kernels): k is With<'rnnCell' | 'rnnCellBackward'> => k.rnnCell !== undefined && k.rnnCellBackward !== undefined;
const hasLstm = (k: Kernels): k is With<'lstmCell' | 'lstmCellBackward'> => k.lstmCell !== undefined && k.lstmCellBackward !== undefined;
const hasGru = (k: Kernels): k is With<'gruCell' | 'gruCellBackward'> => k.gruCell !== undefined && k.gruCellBackward !== undefined;

/** gates [B, 4H], c [B, H] → [2, B, H]: h', then c'. Saves gates and c; the backward recomputes the activations. */
export const LSTM_CELL = defineOp<[gates: Tensor, c: Tensor], Record<string, never>, { gates: Tensor; c: Tensor }>({
  name: 'lstmCell',
  forward: ([gates, c], _a, save) => {
    const k = gates.backend.kernels;
    save('gates', gates); save('c', c);
    if (!hasLstm(k)) return lstmCellSteps(gates, c);
    const [B, H] = c.shape as [number, number];
    const out = empty([2, B, H], c.dtype, c.backend);
    k.lstmCell(gates.kernelView(), null, c.kernelView(), at(out, 0), at(out, 1), null);
    return out;
  },
  backward: (g, { saved: { gates, c }, needs }) => {
    const k = gates.backend.kernels;
    if (recordingBackward() || !hasLstm(k)) return [...backwardThroughDecomposition(g, [gates, c], needs, lstmCellSteps)];
    const [B, H] = c.shape as [number, number];
    const gc = contiguous(g);
    const hc = empty([2, B, H], c.dtype, c.backend), acts = empty([B, 4 * H], c.dtype, c.backend);
    k.lstmCell(gates.kernelView(), null, c.kernelView(), at(hc, 0), at(hc, 1), acts.kernelView());
    const dgates = empty([B, 4 * H], c.dtype, c.backend);
    const dc = needs[1] ? empty([B, H], c.dtype, c.backend) : null;
    k.lstmCellBackward(acts.kernelView(), c.kernelView(), at(hc, 1), at(gc, 0), null, at(gc, 1), dgates.kernelView(), dc?.kernelView() ?? null);
    hc.dispose(); acts.dispose();
    if (gc !== g) gc.dispose();
    return [needs[0] ? dgates : (dgates.dispose(), null), dc];
  },
  gradcheck: [
    { inputs: [{ shape: [3, 8] }, { shape: [3, 2] }], call: (g, c) => stackCell(lstmCell(g, c)), label: 'B 3, H 2' },
    { inputs: [{ shape: [1, 4] }, { shape: [1, 1] }], call: (g, c) => stackCell(lstmCell(g, c)), label: 'B 1, H 1' },
  ],
});
const stackCell = ([h, c]: [Tensor, Tensor]) => add(h, mul(c, 0.7));

/** xGates, hGates [B, 3H] (hGates with the hidden bias), h [B, H] → h'. */
export const GRU_CELL = defineOp<[xGates: Tensor, hGates: Tensor, h: Tensor], Record<string, never>, { xGates: Tensor; hGates: Tensor; h: Tensor }>({
  name: 'gruCell',
  forward: ([xg, hg, h], _a, save) => {
    const k = xg.backend.kernels;
    save('xGates', xg); save('hGates', hg); save('h', h);
    if (!hasGru(k)) return gruCellSteps(xg, hg, h);
    const out = empty(h.shape, h.dtype, h.backend);
    k.gruCell(xg.kernelView(), hg.kernelView(), null, h.kernelView(), out.kernelView(), null);
    return out;
  },
  backward: (g, { saved: { xGates, hGates, h }, needs }) => {
    const k = xGates.backend.kernels;
    if (recordingBackward() || !hasGru(k)) return [...backwardThroughDecomposition(g, [xGates, hGates, h], needs, gruCellSteps)];
    const [B, H] = h.shape as [number, number];
    const gc = contiguous(g);
    const hn = empty([B, H], h.dtype, h.backend), acts = empty([B, 4 * H], h.dtype, h.backend);
    k.gruCell(xGates.kernelView(), hGates.kernelView(), null, h.kernelView(), hn.kernelView(), acts.kernelView());
    const dxg = empty([B, 3 * H], h.dtype, h.backend), dhg = empty([B, 3 * H], h.dtype, h.backend);
    const dh = needs[2] ? zerosOn([B, H], h.dtype, h.backend) : null;                // the kernel adds dh'·z into it
    k.gruCellBackward(acts.kernelView(), h.kernelView(), gc.kernelView(), null, dxg.kernelView(), dhg.kernelView(), dh?.kernelView() ?? null);
    hn.dispose(); acts.dispose();
    if (gc !== g) gc.dispose();
    return [needs[0] ? dxg : (dxg.dispose(), null), needs[1] ? dhg : (dhg.dispose(), null), dh];
  },
  gradcheck: [
    { inputs: [{ shape: [3, 6] }, { shape: [3, 6] }, { shape: [3, 2] }], call: (x, y, h) => gruCell(x, y, h), label: 'B 3, H 2' },
    { inputs: [{ shape: [1, 3] }, { shape: [1, 3] }, { shape: [1, 1] }], call: (x, y, h) => gruCell(x, y, h), label: 'B 1, H 1' },
  ],
});

/**
 * One LSTM step from its gates [B, 4H] (x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh, PyTorch's order i, f, g, o)
 * and cell state c [B, H]: returns [h', c'], each [B, H]. One fused kernel forward and backward where
 * the backend has it.
 */
export function lstmCell(gates: Tensor, c: Tensor): [Tensor, Tensor] {
  checkGates('lstmCell', 'gates', gates, 4, c, 'c');
  const dt = floatDType('lstmCell', [['gates', gates], ['c', c]]);
  return tidy(() => {
    const hc = apply(LSTM_CELL, [contiguous(cast(gates, dt)), contiguous(cast(c, dt))], {});
    return [select(hc, 0, 0), select(hc, 0, 1)];
  });
}

/**
 * One GRU step from the input gates xGates = x·W_ihᵀ + b_ih and the hidden gates hGates =
 * h·W_hhᵀ + b_hh (each [B, 3H], PyTorch's order r, z, n) and the state h [B, H]: returns h' [B, H],
 * with n = tanh(x_n + r·h_n) as in PyTorch.
 */
export function gruCell(xGates: Tensor, hGates: Tensor, h: Tensor): Tensor {
  checkGates('gruCell', 'xGates', xGates, 3, h, 'h');
  checkGates('gruCell', 'hGates', hGates, 3, h, 'h');
  const dt = floatDType('gruCell', [['xGates', xGates], ['hGates', hGates], ['h', h]]);
  return tidy(() => apply(GRU_CELL, [contiguous(cast(xGates, dt)), contiguous(cast(hGates, dt)), contiguous(cast(h, dt))], {}));
}

// ---- whole sequences ----------------------------------------------------------------------------

interface SeqAttrs { reverse: boolean }
interface RnnSeqSaved { xGates: Tensor; h0: Tensor; weightHh: Tensor; out: Tensor }

/**
 * xGates [T, B, H] (x·W_ihᵀ + b_ih + b_hh), h0 [B, H], weightHh [H, H] → [T, B, H]: the Elman RNN over
 * a sequence, tanh or relu. The backward reads the outputs (the activations' derivatives are
 * functions of them) and the inputs (xGates only when it is recorded, through the decomposition).
 */
export const RNN_SEQUENCE = defineOp<[xGates: Tensor, h0: Tensor, weightHh: Tensor], SeqAttrs & { relu: boolean }, RnnSeqSaved>({
  name: 'rnnSequence',
  forward: ([xg, h0, whh], { reverse, relu: isRelu }, save) => {
    const k = xg.backend.kernels;
    save('xGates', xg); save('h0', h0); save('weightHh', whh);
    if (!hasRnn(k)) return rnnSequenceSteps(xg, h0, whh, isRelu ? 'relu' : 'tanh', reverse);
    const [T, B, H] = xg.shape as [number, number, number];
    const out = empty([T, B, H], xg.dtype, xg.backend), hh = empty([B, H], xg.dtype, xg.backend);
    const wT = transposed(whh.kernelView());
    const step = stepAt(T, reverse);
    let h: KView = h0.kernelView();
    for (let s = 0; s < T; s++) {
      const t = step(s);
      k.matmul(h, wT, hh.kernelView());
      k.rnnCell(at(xg, t), hh.kernelView(), at(out, t), isRelu);
      h = at(out, t);
    }
    hh.dispose();
    save('out', out);
    return out;
  },
  backward: (g, { saved, attrs: { reverse, relu: isRelu }, needs }) => {
    const { xGates: xg, h0, weightHh: whh } = saved;
    const k = xg.backend.kernels;
    if (recordingBackward() || !hasRnn(k)) {
      return [...backwardThroughDecomposition(g, [xg, h0, whh], needs, (a, b, c) => rnnSequenceSteps(a, b, c, isRelu ? 'relu' : 'tanh', reverse))];
    }
    const { out } = saved;
    const [T, B, H] = xg.shape as [number, number, number];
    const dt = xg.dtype, be = xg.backend;
    const gc = contiguous(g);
    const dxg = empty([T, B, H], dt, be), dh = empty([B, H], dt, be);
    const step = stepAt(T, reverse);
    for (let s = T - 1; s >= 0; s--) {
      const t = step(s);
      // dh' = the output's gradient + the recurrent one (dh, from the step after)
      k.rnnCellBackward(at(out, t), at(gc, t), s < T - 1 ? dh.kernelView() : null, at(dxg, t), isRelu);
      if (s > 0 || needs[1]) k.matmul(at(dxg, t), whh.kernelView(), dh.kernelView());   // dh_{t−1} = dpre·W_hh
    }
    if (gc !== g) gc.dispose();
    let dW: Tensor | null = null;
    if (needs[2]) {
      dW = empty([H, H], dt, be);
      const prev = previousStates(out, T, h0, reverse);
      k.matmul(transposed(rowsView(dxg)), rowsView(prev), dW.kernelView());
      prev.dispose();
    }
    const res: [Tensor | null, Tensor | null, Tensor | null] = [needs[0] ? dxg : null, needs[1] ? dh : null, dW];
    if (!needs[0]) dxg.dispose();
    if (!needs[1]) dh.dispose();
    return res;
  },
});

interface LstmSeqSaved { xGates: Tensor; h0: Tensor; c0: Tensor; weightHh: Tensor; acts: Tensor; cells: Tensor; out: Tensor }

/** The step order of a direction. */
const stepAt = (T: number, reverse: boolean) => (s: number) => (reverse ? T - 1 - s : s);

/**
 * h_{t−1} of every step as one contiguous [T, B, H] tensor in time order: h0 where the direction
 * starts, the neighbouring output elsewhere.
 */
function previousStates(out: Tensor, T: number, h0: Tensor, reverse: boolean): Tensor {
  return tidy(() => {
    const hs = narrow(out, 0, 0, T);
    if (T === 1) return unsqueeze(h0, 0).contiguous();
    return reverse ? cat([narrow(hs, 0, 1, T - 1), unsqueeze(h0, 0)], 0) : cat([unsqueeze(h0, 0), narrow(hs, 0, 0, T - 1)], 0);
  });
}

/**
 * xGates [T, B, 4H], h0, c0 [B, H], weightHh [4H, H] → [T + 1, B, H]: h at every step, then the final
 * c. Saves the gate activations [T, B, 4H] and the cell states [T, B, H] for the backward, and the
 * inputs, which a recorded (createGraph) backward differentiates through the decomposition.
 */
export const LSTM_SEQUENCE = defineOp<[xGates: Tensor, h0: Tensor, c0: Tensor, weightHh: Tensor], SeqAttrs, LstmSeqSaved>({
  name: 'lstmSequence',
  forward: ([xg, h0, c0, whh], { reverse }, save, needs) => {
    const k = xg.backend.kernels;
    save('xGates', xg); save('h0', h0); save('c0', c0); save('weightHh', whh);
    if (!hasLstm(k)) return lstmSequenceSteps(xg, h0, c0, whh, reverse);
    const [T, B, G] = xg.shape as [number, number, number];
    const H = G / 4, dt = xg.dtype, be = xg.backend;
    // Without a backward to come, each step's activations go over its recurrent gates (hh).
    const keep = needs.some((n) => n);
    const out = empty([T + 1, B, H], dt, be), cells = empty([T, B, H], dt, be), hh = empty([B, G], dt, be);
    const acts = keep ? empty([T, B, G], dt, be) : hh;
    const wT = transposed(whh.kernelView());
    const step = stepAt(T, reverse);
    let h: KView = h0.kernelView(), c: KView = c0.kernelView();
    for (let s = 0; s < T; s++) {
      const t = step(s);
      k.matmul(h, wT, hh.kernelView());
      k.lstmCell(at(xg, t), hh.kernelView(), c, at(out, t), at(cells, t), keep ? at(acts, t) : hh.kernelView());
      h = at(out, t); c = at(cells, t);
    }
    k.copy(c, at(out, T));
    save('acts', acts); save('cells', cells); save('out', out);
    if (acts !== hh) acts.dispose();
    hh.dispose(); cells.dispose();
    return out;
  },
  backward: (g, { saved, attrs: { reverse }, needs }) => {
    const { xGates: xg, h0, c0, weightHh: whh } = saved;
    const k = xg.backend.kernels;
    if (recordingBackward() || !hasLstm(k)) {
      return [...backwardThroughDecomposition(g, [xg, h0, c0, whh], needs, (a, b, c, d) => lstmSequenceSteps(a, b, c, d, reverse))];
    }
    const { acts, cells, out } = saved;
    const [T, B, G] = xg.shape as [number, number, number];
    const H = G / 4, dt = xg.dtype, be = xg.backend;
    const gc = contiguous(g);
    const dxg = empty([T, B, G], dt, be);
    const dh = empty([B, H], dt, be);
    let dc = empty([B, H], dt, be), dcPrev = empty([B, H], dt, be);
    k.copy(at(gc, T), dc.kernelView());
    const step = stepAt(T, reverse);
    for (let s = T - 1; s >= 0; s--) {
      const t = step(s);
      const cPrev = s === 0 ? c0.kernelView() : at(cells, step(s - 1));
      // dh' = the output's gradient + the recurrent one (dh, from the step after)
      k.lstmCellBackward(at(acts, t), cPrev, at(cells, t), at(gc, t), s < T - 1 ? dh.kernelView() : null, dc.kernelView(), at(dxg, t), dcPrev.kernelView());
      if (s > 0 || needs[1]) k.matmul(at(dxg, t), whh.kernelView(), dh.kernelView());  // dh_{t−1} = dgates·W_hh
      [dc, dcPrev] = [dcPrev, dc];
    }
    dcPrev.dispose();
    if (gc !== g) gc.dispose();
    let dW: Tensor | null = null;
    if (needs[3]) {
      dW = empty([G, H], dt, be);
      const prev = previousStates(out, T, h0, reverse);
      k.matmul(transposed(rowsView(dxg)), rowsView(prev), dW.kernelView());   // Σ_t dgates_tᵀ·h_{t−1}
      prev.dispose();
    }
    const res: [Tensor | null, Tensor | null, Tensor | null, Tensor | null] = [needs[0] ? dxg : null, needs[1] ? dh : null, needs[2] ? dc : null, dW];
    if (!needs[0]) dxg.dispose();
    if (!needs[1]) dh.dispose();
    if (!needs[2]) dc.dispose();
    return res;
  },
});

interface GruSeqSaved { xGates: Tensor; h0: Tensor; weightHh: Tensor; biasHh: Tensor; acts: Tensor; out: Tensor }

/**
 * xGates [T, B, 3H], h0 [B, H], weightHh [3H, H], biasHh [3H] or null → [T, B, H]. Saves the
 * activations [T, B, 4H] (r, z, n and W_hn·h + b_hn) and the inputs, as LSTM_SEQUENCE.
 */
export const GRU_SEQUENCE = defineOp<[xGates: Tensor, h0: Tensor, weightHh: Tensor, biasHh: Tensor | null], SeqAttrs, GruSeqSaved>({
  name: 'gruSequence',
  forward: ([xg, h0, whh, bhh], { reverse }, save, needs) => {
    const k = xg.backend.kernels;
    save('xGates', xg); save('h0', h0); save('weightHh', whh);
    if (bhh) save('biasHh', bhh);
    if (!hasGru(k)) return gruSequenceSteps(xg, h0, whh, bhh, reverse);
    const [T, B, G] = xg.shape as [number, number, number];
    const H = G / 3, dt = xg.dtype, be = xg.backend;
    // Without a backward to come, one step's activations at a time.
    const keep = needs.some((n) => n);
    const out = empty([T, B, H], dt, be), acts = empty([keep ? T : 1, B, 4 * H], dt, be), hh = empty([B, G], dt, be);
    const wT = transposed(whh.kernelView()), bias = bhh?.kernelView() ?? null;
    const step = stepAt(T, reverse);
    let h: KView = h0.kernelView();
    for (let s = 0; s < T; s++) {
      const t = step(s);
      k.matmul(h, wT, hh.kernelView());
      k.gruCell(at(xg, t), hh.kernelView(), bias, h, at(out, t), at(acts, keep ? t : 0));
      h = at(out, t);
    }
    hh.dispose();
    save('acts', acts); save('out', out);
    acts.dispose();
    return out;
  },
  backward: (g, { saved, attrs: { reverse }, needs, inputs }) => {
    const { xGates: xg, h0, weightHh: whh } = saved;
    const bhh = inputs[3] ? saved.biasHh : null;
    const k = xg.backend.kernels;
    if (recordingBackward() || !hasGru(k)) {
      return [...backwardThroughDecomposition(g, [xg, h0, whh, bhh], needs, (a, b, c, d) => gruSequenceSteps(a, b, c, d, reverse))];
    }
    const { acts, out } = saved;
    const [T, B, G] = xg.shape as [number, number, number];
    const H = G / 3, dt = xg.dtype, be = xg.backend;
    // A copy of g the steps add their direct dh'·z into: step t's goes to the slot of the step
    // processed next (h_{t−1}'s gradient), the first step's to h0's.
    const gw = empty([T, B, H], dt, be);
    k.copy(g.kernelView(), gw.kernelView());
    const dxg = empty([T, B, G], dt, be), dhg = empty([T, B, G], dt, be);
    const dh = empty([B, H], dt, be), dh0Direct = needs[1] ? zerosOn([B, H], dt, be) : null;
    const step = stepAt(T, reverse);
    for (let s = T - 1; s >= 0; s--) {
      const t = step(s);
      const hPrev = s === 0 ? h0.kernelView() : at(out, step(s - 1));
      const direct = s === 0 ? dh0Direct?.kernelView() ?? null : at(gw, step(s - 1));
      k.gruCellBackward(at(acts, t), hPrev, at(gw, t), s < T - 1 ? dh.kernelView() : null, at(dxg, t), at(dhg, t), direct);
      if (s > 0 || needs[1]) k.matmul(at(dhg, t), whh.kernelView(), dh.kernelView());   // the part through W_hh
    }
    gw.dispose();
    let dh0: Tensor | null = null;
    if (dh0Direct) {
      dh0 = empty([B, H], dt, be);
      k.binary('add', dh.kernelView(), dh0Direct.kernelView(), dh0.kernelView());
      dh0Direct.dispose();
    }
    dh.dispose();
    let dW: Tensor | null = null;
    if (needs[2]) {
      dW = empty([G, H], dt, be);
      const prev = previousStates(out, T, h0, reverse);
      k.matmul(transposed(rowsView(dhg)), rowsView(prev), dW.kernelView());
      prev.dispose();
    }
    const rows = dhg.reshape([T * B, G]);
    const db = bhh && needs[3] ? sum(rows, 0) : null;
    rows.dispose();
    dhg.dispose();
    const res: [Tensor | null, Tensor | null, Tensor | null, Tensor | null] = [needs[0] ? dxg : null, dh0, dW, db];
    if (!needs[0]) dxg.dispose();
    return res;
  },
});

/** What rnnSequence and gruSequence return. */
export interface SequenceResult {
  /** h at every step in time order, [T, B, H]. */
  output: Tensor;
  /** The final state, [B, H]: output[T − 1], or output[0] with `reverse`. */
  h: Tensor;
}

/** What lstmSequence returns. */
export interface LstmSequenceResult extends SequenceResult {
  /** The final cell state, [B, H]. */
  c: Tensor;
}

/** `reverse` runs the steps from the end of the sequence (the backward direction of a bidirectional layer). */
export interface SequenceOptions {
  /** Run from the last step to the first (default false). */
  reverse?: boolean;
}

function checkSequence(op: string, xGates: Tensor, G: number, h0: Tensor, weightHh: Tensor): { T: number; B: number; H: number } {
  checkTensor(op, 'xGates', xGates);
  checkTensor(op, 'h0', h0);
  checkTensor(op, 'weightHh', weightHh);
  if (h0.ndim !== 2) throw new ShapeError(`${op}: expected h0 [B, H], got ${fmtShape(h0.shape)}`);
  const [B, H] = h0.shape as [number, number];
  const T = xGates.shape[0];
  if (T === undefined || xGates.ndim !== 3 || xGates.shape[1] !== B || xGates.shape[2] !== G * H) {
    throw new ShapeError(`${op}: expected xGates [T, ${B}, ${G * H}] (steps, batch, ${G}·hiddenSize, from h0 ${fmtShape(h0.shape)}), got ${fmtShape(xGates.shape)}`);
  }
  if (T === 0) throw new ShapeError(`${op}: the sequence is empty (xGates ${fmtShape(xGates.shape)})`);
  expectShape(op, 'weightHh', weightHh, [G * H, H], `${G}·hiddenSize, hiddenSize`);
  return { T, B, H };
}

/** Options of rnnSequence: the direction, and the activation. */
export interface RnnSequenceOptions extends SequenceOptions {
  /** 'tanh' (default) or 'relu'. */
  nonlinearity?: 'tanh' | 'relu';
}

/**
 * An Elman RNN over a whole sequence from the input projection of every step, xGates [T, B, H]
 * (x·W_ihᵀ + b_ih + b_hh), h0 [B, H] and weightHh [H, H]: h' = tanh(x_t + h·W_hhᵀ) (or relu).
 * Returns output [T, B, H], the h of every step in time order, and the final h [B, H].
 */
export function rnnSequence(xGates: Tensor, h0: Tensor, weightHh: Tensor, opts: RnnSequenceOptions = {}): SequenceResult {
  const op = 'rnnSequence';
  const { reverse, nonlinearity, T } = rnnSequenceArgs(op, xGates, h0, weightHh, opts);
  const dt = floatDType(op, [['xGates', xGates], ['h0', h0], ['weightHh', weightHh]]);
  return tidy(() => {
    const output = apply(RNN_SEQUENCE, [contiguous(cast(xGates, dt)), contiguous(cast(h0, dt)), cast(weightHh, dt)], { reverse, relu: nonlinearity === 'relu' });
    return { output, h: select(output, 0, reverse ? 0 : T - 1) };
  });
}

/**
 * An LSTM over a whole sequence from the input projection of every step, xGates [T, B, 4H]
 * (x·W_ihᵀ + b_ih + b_hh; PyTorch's gate order i, f, g, o), the initial states h0, c0 [B, H] and
 * weightHh [4H, H]. Returns the h of every step in time order (output [T, B, H]) and the final
 * states h, c [B, H]; with `reverse` the steps run from the end (then h is output[0]).
 */
export function lstmSequence(xGates: Tensor, h0: Tensor, c0: Tensor, weightHh: Tensor, opts: SequenceOptions = {}): LstmSequenceResult {
  const op = 'lstmSequence';
  const { reverse, T } = lstmSequenceArgs(op, xGates, h0, c0, weightHh, opts);
  const dt = floatDType(op, [['xGates', xGates], ['h0', h0], ['c0', c0], ['weightHh', weightHh]]);
  return tidy(() => {
    const packed = apply(LSTM_SEQUENCE, [contiguous(cast(xGates, dt)), contiguous(cast(h0, dt)), contiguous(cast(c0, dt)), cast(weightHh, dt)], { reverse });
    const output = narrow(packed, 0, 0, T);
    return { output, h: select(output, 0, reverse ? 0 : T - 1), c: select(packed, 0, T) };
  });
}

/**
 * A GRU over a whole sequence from xGates [T, B, 3H] (x·W_ihᵀ + b_ih; order r, z, n), h0 [B, H],
 * weightHh [3H, H] and biasHh [3H] (or null), with n = tanh(x_n + r·(W_hn·h + b_hn)) as in PyTorch.
 * Returns output [T, B, H], the h of every step in time order, and the final h [B, H].
 */
export function gruSequence(xGates: Tensor, h0: Tensor, weightHh: Tensor, biasHh: Tensor | null, opts: SequenceOptions = {}): SequenceResult {
  const op = 'gruSequence';
  const { reverse, T } = gruSequenceArgs(op, xGates, h0, weightHh, biasHh, opts);
  const dt = floatDType(op, [['xGates', xGates], ['h0', h0], ['weightHh', weightHh], ['biasHh', biasHh]]);
  return tidy(() => {
    const output = apply(GRU_SEQUENCE, [contiguous(cast(xGates, dt)), contiguous(cast(h0, dt)), cast(weightHh, dt), biasHh && cast(biasHh, dt)], { reverse });
    return { output, h: select(output, 0, reverse ? 0 : T - 1) };
  });
}

/** rnnSequence's arguments (and its decomposition's), checked: the options and the sizes. */
function rnnSequenceArgs(op: string, xGates: Tensor, h0: Tensor, weightHh: Tensor, opts: RnnSequenceOptions) {
  checkOptions(op, opts, ['reverse', 'nonlinearity']);
  const reverse = checkBool(op, 'reverse', opts.reverse ?? false);
  const nonlinearity = checkEnum(op, 'nonlinearity', opts.nonlinearity ?? 'tanh', ['tanh', 'relu']);
  return { reverse, nonlinearity, ...checkSequence(op, xGates, 1, h0, weightHh) };
}

/** lstmSequence's arguments (and its decomposition's), checked: the options, the sizes and c0's shape. */
function lstmSequenceArgs(op: string, xGates: Tensor, h0: Tensor, c0: Tensor, weightHh: Tensor, opts: SequenceOptions) {
  checkOptions(op, opts, ['reverse']);
  const reverse = checkBool(op, 'reverse', opts.reverse ?? false);
  const sizes = checkSequence(op, xGates, 4, h0, weightHh);
  checkTensor(op, 'c0', c0);
  expectShape(op, 'c0', c0, [sizes.B, sizes.H], 'batch, hiddenSize');
  return { reverse, ...sizes };
}

/** gruSequence's arguments (and its decomposition's), checked: the options, the sizes and biasHh's shape. */
function gruSequenceArgs(op: string, xGates: Tensor, h0: Tensor, weightHh: Tensor, biasHh: Tensor | null, opts: SequenceOptions) {
  checkOptions(op, opts, ['reverse']);
  const reverse = checkBool(op, 'reverse', opts.reverse ?? false);
  const sizes = checkSequence(op, xGates, 3, h0, weightHh);
  if (biasHh !== null) {
    checkTensor(op, 'biasHh', biasHh);
    expectShape(op, 'biasHh', biasHh, [3 * sizes.H], '3·hiddenSize');
  }
  return { reverse, ...sizes };
}

// ---- the decompositions, checked: the reference a user can run on any device ---------------------

/** lstmCell computed from primitive ops (the reference of the fused kernel): [h', c'], each [B, H]. */
export function lstmCellDecomposed(gates: Tensor, c: Tensor): [Tensor, Tensor] {
  checkGates('lstmCellDecomposed', 'gates', gates, 4, c, 'c');
  return tidy(() => unstack2(lstmCellSteps(gates, c)));
}
/** gruCell computed from primitive ops (the reference of the fused kernel): h' [B, H]. */
export function gruCellDecomposed(xGates: Tensor, hGates: Tensor, h: Tensor): Tensor {
  checkGates('gruCellDecomposed', 'xGates', xGates, 3, h, 'h');
  checkGates('gruCellDecomposed', 'hGates', hGates, 3, h, 'h');
  return gruCellSteps(xGates, hGates, h);
}
/** rnnSequence computed from primitive ops, step by step: output [T, B, H] and the final h. */
export function rnnSequenceDecomposed(xGates: Tensor, h0: Tensor, weightHh: Tensor, opts: RnnSequenceOptions = {}): SequenceResult {
  const { reverse, nonlinearity, T } = rnnSequenceArgs('rnnSequenceDecomposed', xGates, h0, weightHh, opts);
  return tidy(() => {
    const output = rnnSequenceSteps(xGates, h0, weightHh, nonlinearity, reverse);
    return { output, h: select(output, 0, reverse ? 0 : T - 1) };
  });
}
/** lstmSequence computed from primitive ops, step by step: output [T, B, H] and the final h, c. */
export function lstmSequenceDecomposed(xGates: Tensor, h0: Tensor, c0: Tensor, weightHh: Tensor, opts: SequenceOptions = {}): LstmSequenceResult {
  const { reverse, T } = lstmSequenceArgs('lstmSequenceDecomposed', xGates, h0, c0, weightHh, opts);
  return tidy(() => {
    const packed = lstmSequenceSteps(xGates, h0, c0, weightHh, reverse);
    const output = narrow(packed, 0, 0, T);
    return { output, h: select(output, 0, reverse ? 0 : T - 1), c: select(packed, 0, T) };
  });
}
/** gruSequence computed from primitive ops, step by step: output [T, B, H] and the final h. */
export function gruSequenceDecomposed(xGates: Tensor, h0: Tensor, weightHh: Tensor, biasHh: Tensor | null, opts: SequenceOptions = {}): SequenceResult {
  const { reverse, T } = gruSequenceArgs('gruSequenceDecomposed', xGates, h0, weightHh, biasHh, opts);
  return tidy(() => {
    const output = gruSequenceSteps(xGates, h0, weightHh, biasHh, reverse);
    return { output, h: select(output, 0, reverse ? 0 : T - 1) };
  });
}

/** The two [B, H] halves of a packed [2, B, H]. */
function unstack2(packed: Tensor): [Tensor, Tensor] {
  return [select(packed, 0, 0), select(packed, 0, 1)];
}
