// quantLinear: y = x·Wᵀ (+ bias) with W a weight-only quantized matrix [out, in] (int8, int4, nf4;
// layout in @webgrad/kernels cpu/quant_format.ts) read as codes and scales by the backend's
// `quantMatmul` kernel. The codes and scales are frozen: the op differentiates w.r.t. x (through
// `quantMatmulTransposed`, dx = dy·W, also read from the codes) and the bias only.
//
// The two products are each other's adjoint, so each op's backward is the other op and the gradient
// stays differentiable to any order. A backend without the kernels gets a DeviceError: the only
// decomposition would materialize the full-precision W, which is what the format exists to avoid
// (dequantize with `dequantizeWeight` and use matmul when that is wanted).
import { QUANT_SCHEMES, codesPerWord, groupsPerRow, NF4_DOUBLE_QUANT_BLOCK, type QuantScheme, type QuantWeightView } from '@webgrad/kernels';
import { DTypeError, DeviceError, ShapeError, ValueError, fmtShape } from '../errors.js';
import { tidy } from '../memory.js';
import type { Tensor } from '../tensor.js';
import { checkEnum, checkTensor } from '../validate.js';
import { empty } from './alloc.js';
import { cast, contiguous } from './cast.js';
import { apply, defineOp, type OpDef } from './define.js';
import { sum } from './reduce.js';
import { reshape } from './views.js';

/** A quantized weight W [rows, cols] as tensors: what `quantLinear` reads. */
export interface QuantWeight {
  /** int8, int4 or nf4. */
  scheme: QuantScheme;
  /** Output features (rows of W). */
  rows: number;
  /** Input features (columns of W). */
  cols: number;
  /** Columns per scale group (int8: cols). */
  groupSize: number;
  /** int32 [rows, ⌈cols / codesPerWord⌉] packed codes. */
  qdata: Tensor;
  /** float32 [rows, ⌈cols / groupSize⌉], or for double-quantized nf4 the second-level scales [⌈groups/256⌉]. */
  scales: Tensor;
  /** int4: int32 [⌈groups / 8⌉], the zero points as 4-bit codes, eight per word over the rows·⌈cols / groupSize⌉ groups. */
  zeros: Tensor | null;
  /** Double-quantized nf4: int32 [⌈groups/4⌉], the absmax bytes. */
  absmaxQ: Tensor | null;
  /** Double-quantized nf4: the mean absmax added back after the second level; 0 otherwise. */
  absmaxOffset: number;
}

interface Attrs { scheme: QuantScheme; rows: number; cols: number; groupSize: number; absmaxOffset: number }
type Inputs = [Tensor, Tensor, Tensor, Tensor | null, Tensor | null, Tensor | null];

function kernelWeight(op: string, a: Attrs, qdata: Tensor, scales: Tensor, zeros: Tensor | null, absmaxQ: Tensor | null): QuantWeightView<unknown> {
  return {
    scheme: a.scheme, rows: a.rows, cols: a.cols, groupSize: a.groupSize, absmaxOffset: a.absmaxOffset,
    qdata: contiguousView(op, qdata), scales: contiguousView(op, scales),
    zeros: zeros === null ? null : contiguousView(op, zeros), absmaxQ: absmaxQ === null ? null : contiguousView(op, absmaxQ),
  };
}

function contiguousView(op: string, t: Tensor): ReturnType<Tensor['kernelView']> {
  if (!t.isContiguous()) throw new ShapeError(`${op}: the quantized weight's tensors must be contiguous (got strides ${fmtShape(t.strides)} for shape ${fmtShape(t.shape)})`);
  return t.kernelView();
}

function kernelsOf(op: string, t: Tensor) {
  const k = t.backend.kernels;
  if (!k.quantMatmul || !k.quantMatmulTransposed) {
    throw new DeviceError(`${op}: the ${t.device} device has no quantized matmul kernels; dequantize the weight to run a plain matmul there`);
  }
  return { quantMatmul: k.quantMatmul, quantMatmulTransposed: k.quantMatmulTransposed };
}

type Saved = { qdata: Tensor; scales: Tensor; zeros: Tensor; absmaxQ: Tensor };
type WeightTensors = [Tensor, Tensor, Tensor | null, Tensor | null];

/** Saves the weight's tensors for a backward that multiplies by W again. */
function saveWeight(save: (name: keyof Saved & string, t: Tensor) => void, [qdata, scales, zeros, absmaxQ]: WeightTensors): void {
  save('qdata', qdata);
  save('scales', scales);
  if (zeros !== null) save('zeros', zeros);
  if (absmaxQ !== null) save('absmaxQ', absmaxQ);
}

function savedWeight(saved: Readonly<Saved>, a: Attrs, hasAbsmaxQ: boolean): WeightTensors {
  return [saved.qdata, saved.scales, a.scheme === 'int4' ? saved.zeros : null, hasAbsmaxQ ? saved.absmaxQ : null];
}

const QUANT_LINEAR: OpDef<Inputs, Attrs, Saved> = defineOp<Inputs, Attrs, Saved>({
  name: 'quantLinear',
  forward: ([x, qdata, scales, zeros, absmaxQ, bias], a, save, needs) => {
    const out = empty([x.shape[0], a.rows], x.dtype, x.backend);
    kernelsOf('quantLinear', x).quantMatmul(x.kernelView(), kernelWeight('quantLinear', a, qdata, scales, zeros, absmaxQ),
      bias === null ? null : bias.kernelView(), out.kernelView());
    if (needs[0]) saveWeight(save, [qdata, scales, zeros, absmaxQ]);
    return out;
  },
  backward: (g, { needs, attrs, saved, inputs }) => [
    needs[0] ? apply(QUANT_LINEAR_T, [contiguous(g), ...savedWeight(saved, attrs, inputs[4] !== null)], attrs) : null,
    null, null, null, null,
    needs[5] ? sum(g, 0) : null,
  ],
  // Random packed words as nf4 codes (groups of 8 over 20 columns: a short last group and word),
  // positive scales; the codes and scales are constants.
  gradcheck: [
    {
      inputs: [{ shape: [2, 3, 20] }, { shape: [4, 3], int: { high: 0x7fffffff } }, { shape: [4, 3], domain: 'positive', constant: true }, { shape: [4] }],
      call: (x, q, s, b) => quantLinear(x, { scheme: 'nf4', rows: 4, cols: 20, groupSize: 8, qdata: q, scales: cast(s, 'float32'), zeros: null, absmaxQ: null, absmaxOffset: 0 }, b),
      label: 'nf4, batch dims, bias',
    },
  ],
});

type TInputs = [Tensor, Tensor, Tensor, Tensor | null, Tensor | null];

const QUANT_LINEAR_T: OpDef<TInputs, Attrs, Saved> = defineOp<TInputs, Attrs, Saved>({
  name: 'quantLinearTransposed',
  forward: ([dy, qdata, scales, zeros, absmaxQ], a, save, needs) => {
    const out = empty([dy.shape[0], a.cols], dy.dtype, dy.backend);
    kernelsOf('quantLinear', dy).quantMatmulTransposed(dy.kernelView(), kernelWeight('quantLinear', a, qdata, scales, zeros, absmaxQ), out.kernelView());
    if (needs[0]) saveWeight(save, [qdata, scales, zeros, absmaxQ]);
    return out;
  },
  backward: (g, { needs, attrs, saved, inputs }) => [
    needs[0] ? apply(QUANT_LINEAR, [contiguous(g), ...savedWeight(saved, attrs, inputs[4] !== null), null], attrs) : null,
    null, null, null, null,
  ],
});

/** Validates a quantized weight's tensors against its declared scheme and shape; `op` names the caller. */
export function checkQuantWeight(op: string, w: QuantWeight): void {
  if (typeof w !== 'object' || w === null) throw new ValueError(`${op}: weight must be a QuantWeight, got ${String(w)}`);
  const scheme = checkEnum(op, 'weight.scheme', w.scheme, QUANT_SCHEMES);
  for (const [name, v] of [['rows', w.rows], ['cols', w.cols], ['groupSize', w.groupSize]] as const) {
    if (!Number.isInteger(v) || v < (name === 'groupSize' ? 1 : 0)) throw new ValueError(`${op}: weight.${name} must be a ${name === 'groupSize' ? 'positive' : 'non-negative'} integer, got ${String(v)}`);
  }
  if (scheme === 'int8' && w.groupSize !== Math.max(1, w.cols)) throw new ValueError(`${op}: int8 weights have one group per row (groupSize ${Math.max(1, w.cols)}), got ${w.groupSize}`);
  if (scheme !== 'int8' && w.groupSize % 8 !== 0) throw new ValueError(`${op}: weight.groupSize must be a multiple of 8 for ${scheme}, got ${w.groupSize}`);
  if (!Number.isFinite(w.absmaxOffset)) throw new ValueError(`${op}: weight.absmaxOffset must be finite, got ${String(w.absmaxOffset)}`);
  const gpr = groupsPerRow(w.cols, w.groupSize);
  const expect = (name: string, t: Tensor | null, dtype: string, shape: number[] | null): void => {
    if (shape === null) {
      if (t !== null) throw new ValueError(`${op}: weight.${name} must be null for ${scheme}${name === 'absmaxQ' ? ' without double quantization' : ''}`);
      return;
    }
    if (t === null) throw new ValueError(`${op}: weight.${name} is required for ${scheme}`);
    checkTensor(op, `weight.${name}`, t);
    if (t.dtype !== dtype) throw new DTypeError(`${op}: weight.${name} must be ${dtype}, got ${t.dtype}`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new ShapeError(`${op}: weight.${name} must have shape ${fmtShape(shape)} for a ${scheme} weight [${w.rows}, ${w.cols}] in groups of ${w.groupSize}, got ${fmtShape(t.shape)}`);
    }
  };
  const groups = w.rows * gpr;
  expect('qdata', w.qdata, 'int32', [w.rows, Math.ceil(w.cols / codesPerWord(scheme))]);
  const dq = w.absmaxQ !== null;
  if (dq && scheme !== 'nf4') throw new ValueError(`${op}: weight.absmaxQ (double quantization) exists only for nf4, got it for ${scheme}`);
  expect('scales', w.scales, 'float32', dq ? [Math.ceil(groups / NF4_DOUBLE_QUANT_BLOCK)] : [w.rows, gpr]);
  expect('zeros', w.zeros, 'int32', scheme === 'int4' ? [Math.ceil(groups / 8)] : null);
  if (dq) expect('absmaxQ', w.absmaxQ, 'int32', [Math.ceil(groups / 4)]);
}

/**
 * y = x·Wᵀ + bias for a quantized W [out, in]: x [..., in] → y [..., out]. Gradients flow to x and
 * bias; the quantized weight is constant.
 */
export function quantLinear(x: Tensor, weight: QuantWeight, bias: Tensor | null = null): Tensor {
  checkTensor('quantLinear', 'input', x);
  checkQuantWeight('quantLinear', weight);
  if (bias !== null) checkTensor('quantLinear', 'bias', bias);
  if (x.dtype !== 'float32' && x.dtype !== 'float64') throw new DTypeError(`quantLinear: input must be float32 or float64, got ${x.dtype}`);
  if (x.ndim < 1 || x.shape[x.ndim - 1] !== weight.cols) {
    throw new ShapeError(`quantLinear: input of shape ${fmtShape(x.shape)} does not end in the weight's ${weight.cols} input features (weight [${weight.rows}, ${weight.cols}])`);
  }
  if (bias !== null && (bias.ndim !== 1 || bias.shape[0] !== weight.rows)) throw new ShapeError(`quantLinear: bias must have shape [${weight.rows}], got ${fmtShape(bias.shape)}`);
  if (bias !== null && bias.dtype !== x.dtype) throw new DTypeError(`quantLinear: bias dtype ${bias.dtype} differs from the input's ${x.dtype}`);
  if (x.dtype === 'float64' && x.device !== 'cpu') throw new DTypeError(`quantLinear: float64 input runs on the cpu device only (got ${x.device})`);
  const attrs: Attrs = { scheme: weight.scheme, rows: weight.rows, cols: weight.cols, groupSize: weight.groupSize, absmaxOffset: weight.absmaxOffset };
  return tidy(() => {
    const lead = x.shape.slice(0, -1);
    const x2 = contiguous(reshape(x, [-1, weight.cols]));
    const y = apply(QUANT_LINEAR, [x2, weight.qdata, weight.scales, weight.zeros, weight.absmaxQ, bias === null ? null : contiguous(bias)], attrs);
    return reshape(y, [...lead, weight.rows]);
  });
}
