// Elementwise unary ops. One table: each entry names its kernel op, what its backward needs saved
// (the input x or the output y), and its derivative written with Tensor ops.
import type { UnaryOp } from '@webgrad/kernels';
import { isFloat } from '../dtype.js';
import { DTypeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { empty, zerosOn } from './alloc.js';
import { add, mul, div, gt, mulScalar, addScalar, binary } from './binary.js';
import { cast } from './cast.js';
import { apply, checkInputs, defineOp, type GradInput, type None, type OpDef } from './define.js';
import { checkEnum, checkOptions, checkTensor } from '../validate.js';

type Domain = GradInput['domain'];
interface Saved { x: Tensor; y: Tensor }
interface UnarySpec {
  /** Which tensor the derivative needs: the input, the output, or nothing. */
  saves: 'x' | 'y' | 'none';
  /** dL/dx given dL/dy = g and the saved input x or output y; null = not differentiable (integer-valued output). */
  grad: ((g: Tensor, saved: Readonly<Saved>) => Tensor) | null;
  /** Promote integer inputs to float32 first (exp of an int tensor is a float tensor, as in PyTorch). */
  floatOnly?: boolean;
  domain?: Domain;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** The gradient of a piecewise-constant function. */
const zeroGrad = (g: Tensor): Tensor => zerosOn(g.shape, g.dtype, g.backend);

export const UNARY_SPECS: Record<UnaryOp, UnarySpec> = {
  neg: { saves: 'none', grad: (g) => neg(g) },
  abs: { saves: 'x', grad: (g, { x }) => mul(g, sign(x)), domain: 'awayFromZero' },
  sign: { saves: 'none', grad: zeroGrad },
  exp: { saves: 'y', grad: (g, { y }) => mul(g, y), floatOnly: true },
  expm1: { saves: 'y', grad: (g, { y }) => mul(g, addScalar(y, 1)), floatOnly: true },
  log: { saves: 'x', grad: (g, { x }) => div(g, x), floatOnly: true, domain: 'positive' },
  log1p: { saves: 'x', grad: (g, { x }) => div(g, addScalar(x, 1)), floatOnly: true, domain: 'positive' },
  sqrt: { saves: 'y', grad: (g, { y }) => div(mulScalar(g, 0.5), y), floatOnly: true, domain: 'positive' },
  rsqrt: { saves: 'y', grad: (g, { y }) => mul(mulScalar(g, -0.5), mul(y, mul(y, y))), floatOnly: true, domain: 'positive' },
  square: { saves: 'x', grad: (g, { x }) => mul(g, mulScalar(x, 2)) },
  reciprocal: { saves: 'y', grad: (g, { y }) => neg(mul(g, mul(y, y))), floatOnly: true, domain: 'awayFromZero' },
  sin: { saves: 'x', grad: (g, { x }) => mul(g, cos(x)), floatOnly: true },
  cos: { saves: 'x', grad: (g, { x }) => neg(mul(g, sin(x))), floatOnly: true },
  tanh: { saves: 'y', grad: (g, { y }) => mul(g, addScalar(neg(mul(y, y)), 1)), floatOnly: true },
  sigmoid: { saves: 'y', grad: (g, { y }) => mul(g, mul(y, addScalar(neg(y), 1))), floatOnly: true },
  relu: { saves: 'x', grad: (g, { x }) => mul(g, gt(x, 0)), domain: 'awayFromZero' },
  // d/dx x·Φ(x) = Φ(x) + x·φ(x)   (Hendrycks & Gimpel 2016), one fused kernel: binary geluGrad
  gelu: { saves: 'x', floatOnly: true, grad: (g, { x }) => binary('geluGrad', x, g) },
  // y = ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³)
  geluTanh: {
    saves: 'x', floatOnly: true,
    grad: (g, { x }) => {
      const x2 = mul(x, x);
      const t = tanh(mulScalar(add(x, mulScalar(mul(x2, x), 0.044715)), SQRT_2_OVER_PI));
      const du = mulScalar(addScalar(mulScalar(x2, 3 * 0.044715), 1), SQRT_2_OVER_PI);
      const left = mulScalar(addScalar(t, 1), 0.5);
      const right = mul(mulScalar(x, 0.5), mul(addScalar(neg(mul(t, t)), 1), du));
      return mul(g, add(left, right));
    },
  },
  // d/dx x·σ(x) = σ(x)(1 + x(1 − σ(x))), one fused kernel: binary siluGrad
  silu: { saves: 'x', floatOnly: true, grad: (g, { x }) => binary('siluGrad', x, g) },
  softplus: { saves: 'x', grad: (g, { x }) => mul(g, sigmoid(x)), floatOnly: true },
  erf: { saves: 'x', grad: (g, { x }) => mul(g, mulScalar(exp(neg(mul(x, x))), 2 / Math.sqrt(Math.PI))), floatOnly: true },
  floor: { saves: 'none', grad: zeroGrad },
  ceil: { saves: 'none', grad: zeroGrad },
  round: { saves: 'none', grad: zeroGrad },
  logicalNot: { saves: 'none', grad: null },
};

type UnaryDef = OpDef<[Tensor], None, Saved>;

function defineUnary(op: UnaryOp): UnaryDef {
  const spec = UNARY_SPECS[op];
  const grad = spec.grad;
  return defineOp<[Tensor], None, Saved>({
    name: op,
    forward: ([x], _a, save) => {
      const out = empty(x.shape, op === 'logicalNot' ? 'bool' : x.dtype, x.backend);
      x.backend.kernels.unary(op, x.kernelView(), out.kernelView());
      if (spec.saves === 'x') save('x', x);
      else if (spec.saves === 'y') save('y', out);
      return out;
    },
    backward: grad ? (g, { saved }) => [grad(g, saved)] : undefined,
    gradcheck: grad ? [{ inputs: [{ shape: [2, 3], domain: spec.domain }], call: (x) => unary(op, x) }] : undefined,
  });
}

const UNARY_OPS = Object.keys(UNARY_SPECS) as UnaryOp[];

const UNARY_DEFS = Object.fromEntries(
  (Object.keys(UNARY_SPECS) as UnaryOp[]).map((op) => [op, defineUnary(op)]),
) as Record<UnaryOp, UnaryDef>;

/** Apply the elementwise op `op`. */
export function unary(op: UnaryOp, x: Tensor): Tensor {
  checkEnum('unary', 'op', op, UNARY_OPS);
  return applyUnary(op, checkTensor('unary', 'input', x));
}

function applyUnary(op: UnaryOp, x: Tensor): Tensor {
  checkTensor(op, 'input', x);
  checkInputs(op, [x]);
  let input = x;
  if (UNARY_SPECS[op].floatOnly && !isFloat(x.dtype)) input = cast(x, 'float32');
  if (op !== 'logicalNot' && x.dtype === 'bool' && !UNARY_SPECS[op].floatOnly) {
    if (op === 'neg') throw new DTypeError(`neg: negation of a bool tensor is not supported, use logicalNot (shape [${x.shape.join(', ')}])`);
    input = cast(x, 'int32');
  }
  const out = apply(UNARY_DEFS[op], [input], {});
  if (input !== x) input.dispose();
  return out;
}

export const neg = (x: Tensor) => applyUnary('neg', x);
export const abs = (x: Tensor) => applyUnary('abs', x);
export const sign = (x: Tensor) => applyUnary('sign', x);
export const exp = (x: Tensor) => applyUnary('exp', x);
export const expm1 = (x: Tensor) => applyUnary('expm1', x);
export const log = (x: Tensor) => applyUnary('log', x);
export const log1p = (x: Tensor) => applyUnary('log1p', x);
export const sqrt = (x: Tensor) => applyUnary('sqrt', x);
export const rsqrt = (x: Tensor) => applyUnary('rsqrt', x);
export const square = (x: Tensor) => applyUnary('square', x);
export const reciprocal = (x: Tensor) => applyUnary('reciprocal', x);
export const sin = (x: Tensor) => applyUnary('sin', x);
export const cos = (x: Tensor) => applyUnary('cos', x);
export const tanh = (x: Tensor) => applyUnary('tanh', x);
export const sigmoid = (x: Tensor) => applyUnary('sigmoid', x);
export const relu = (x: Tensor) => applyUnary('relu', x);
/** GELU; `approximate: 'tanh'` uses the tanh approximation (GPT-2's), as in PyTorch. */
export function gelu(x: Tensor, opts: { approximate?: 'none' | 'tanh' } = {}): Tensor {
  const o = checkOptions('gelu', opts, ['approximate']);
  const approximate = o.approximate === undefined ? 'none' : checkEnum('gelu', 'approximate', o.approximate, ['none', 'tanh'] as const);
  return applyUnary(approximate === 'tanh' ? 'geluTanh' : 'gelu', checkTensor('gelu', 'input', x));
}
export const silu = (x: Tensor) => applyUnary('silu', x);
export const softplus = (x: Tensor) => applyUnary('softplus', x);
export const erf = (x: Tensor) => applyUnary('erf', x);
export const floor = (x: Tensor) => applyUnary('floor', x);
export const ceil = (x: Tensor) => applyUnary('ceil', x);
export const round = (x: Tensor) => applyUnary('round', x);
export const logicalNot = (x: Tensor) => applyUnary('logicalNot', x);

/** This file's Tensor methods: `x.exp()` is `exp(x)`. */
export const UNARY_METHODS = {
  neg, abs, sign, exp, expm1, log, log1p, sqrt, rsqrt, square, reciprocal, sin, cos, tanh, sigmoid, relu, gelu, silu, softplus,
  erf, floor, ceil, round, logicalNot,
};
