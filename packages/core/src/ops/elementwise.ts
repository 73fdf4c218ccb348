// Elementwise ops: the unary and the binary table. Each entry names its kernel op, what its backward
// needs saved, and its derivative written with Tensor ops; the two tables are one module because
// each one's derivatives are written with the other's ops (d/dx exp is a product, d/db a^b a log).
// Binary inputs are promoted to a common dtype (PyTorch's rules), broadcast as stride-0 views (no
// copies), and the kernel writes a fresh contiguous output. Gradients of broadcast inputs are summed
// back to each input's shape centrally by the autograd engine, not here.
import { BOOL_RESULT_OPS, type BinaryOp, type UnaryOp } from '@webgrad/kernels';
import { isFloat, promoteTypes, promoteWithScalar, type DType } from '../dtype.js';
import { DTypeError, ValueError, fmtShape } from '../errors.js';
import { broadcastShapes } from '../shape.js';
import type { Tensor, TensorLike } from '../tensor.js';
import { broadcastView, empty, isTensor, scalarTensor, zerosOn } from './alloc.js';
import { cast } from './cast.js';
import { dataSync } from './device.js';
import { apply, checkInputs, defineOp, type GradInput, type GradSample, type None, type OpDef } from './define.js';
import { checkEnum, checkOptions, checkScalar, checkTensor, fmtValue } from '../validate.js';
import { autocastInput, autocastTarget } from '../autocast.js';
import { WHERE } from './where.js';

// ---- unary -------------------------------------------------------------------------------------

type Domain = GradInput['domain'];
interface UnarySaved { x: Tensor; y: Tensor }
interface UnarySpec {
  /** Which tensor the derivative needs: the input, the output, or nothing. */
  saves: 'x' | 'y' | 'none';
  /** dL/dx given dL/dy = g and the saved input x or output y; null = not differentiable (integer-valued output). */
  grad: ((g: Tensor, saved: Readonly<UnarySaved>) => Tensor) | null;
  /** Promote integer inputs to float32 first (exp of an int tensor is a float tensor, as in PyTorch). */
  floatOnly?: boolean;
  domain?: Domain;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/**
 * relu's derivative from dL/dy = g and the output y: g where y ≠ 0 (x > 0, or x NaN as in torch's
 * threshold_backward), 0 elsewhere. On the cpu the output itself is the condition of one `where`
 * (its kernels take any non-zero value as true), so no mask tensor is made and cast; elsewhere the
 * condition is a bool mask.
 */
function reluGrad(g: Tensor, y: Tensor): Tensor {
  if (y.device !== 'cpu' || y.dtype !== g.dtype) return mul(g, ne(y, 0));
  const zero = scalarTensor(0, g.dtype, g.backend);
  const dx = apply(WHERE, [y, g, zero], {});
  zero.dispose();
  return dx;
}

/** The gradient of a piecewise-constant function. */
const zeroGrad = (g: Tensor): Tensor => zerosOn(g.shape, g.dtype, g.backend);

/** Each unary op's derivative (a Tensor-op formula), what its backward saves (`x`, `y` or nothing), whether integer inputs are cast to float32, and the domain its gradcheck samples come from. */
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
  relu: { saves: 'y', grad: (g, { y }) => reluGrad(g, y), domain: 'awayFromZero' },
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

type UnaryDef = OpDef<[Tensor], None, UnarySaved>;

function defineUnary(op: UnaryOp): UnaryDef {
  const spec = UNARY_SPECS[op];
  const grad = spec.grad;
  return defineOp<[Tensor], None, UnarySaved>({
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
  let input = autocastInput(op, x);
  if (UNARY_SPECS[op].floatOnly && !isFloat(x.dtype)) input = cast(x, 'float32');
  if (op !== 'logicalNot' && x.dtype === 'bool' && !UNARY_SPECS[op].floatOnly) {
    if (op === 'neg') throw new DTypeError(`neg: negation of a bool tensor is not supported, use logicalNot (shape [${x.shape.join(', ')}])`);
    input = cast(x, 'int32');
  }
  const out = apply(UNARY_DEFS[op], [input], {});
  if (input !== x) input.dispose();
  return out;
}

/** −x elementwise (torch.neg); a bool tensor raises a DTypeError (use `logicalNot`). */
export const neg = (x: Tensor) => applyUnary('neg', x);
/** |x| elementwise (torch.abs); a bool input is read as int32. */
export const abs = (x: Tensor) => applyUnary('abs', x);
/** −1, 0 or 1 by the sign of x (torch.sign); its gradient is zero. */
export const sign = (x: Tensor) => applyUnary('sign', x);
/** eˣ elementwise (torch.exp); integer inputs give float32. */
export const exp = (x: Tensor) => applyUnary('exp', x);
/** eˣ − 1, accurate near 0 (torch.expm1); integer inputs give float32. */
export const expm1 = (x: Tensor) => applyUnary('expm1', x);
/** Natural logarithm (torch.log): NaN below 0, −∞ at 0; integer inputs give float32. */
export const log = (x: Tensor) => applyUnary('log', x);
/** ln(1 + x), accurate near 0 (torch.log1p); integer inputs give float32. */
export const log1p = (x: Tensor) => applyUnary('log1p', x);
/** √x elementwise (torch.sqrt), NaN below 0; integer inputs give float32. */
export const sqrt = (x: Tensor) => applyUnary('sqrt', x);
/** 1/√x elementwise (torch.rsqrt); integer inputs give float32. */
export const rsqrt = (x: Tensor) => applyUnary('rsqrt', x);
/** x² elementwise (torch.square), in the input's dtype. */
export const square = (x: Tensor) => applyUnary('square', x);
/** 1/x elementwise (torch.reciprocal); integer inputs give float32. */
export const reciprocal = (x: Tensor) => applyUnary('reciprocal', x);
/** Sine, x in radians (torch.sin); integer inputs give float32. */
export const sin = (x: Tensor) => applyUnary('sin', x);
/** Cosine, x in radians (torch.cos); integer inputs give float32. */
export const cos = (x: Tensor) => applyUnary('cos', x);
/** Hyperbolic tangent (torch.tanh); integer inputs give float32. */
export const tanh = (x: Tensor) => applyUnary('tanh', x);
/** 1/(1 + e⁻ˣ) elementwise (torch.sigmoid); integer inputs give float32. */
export const sigmoid = (x: Tensor) => applyUnary('sigmoid', x);
/** max(x, 0) elementwise (torch.relu); the gradient at 0 is 0. */
export const relu = (x: Tensor) => applyUnary('relu', x);
/** GELU; `approximate: 'tanh'` uses the tanh approximation (GPT-2's), as in PyTorch. */
export function gelu(x: Tensor, opts: { approximate?: 'none' | 'tanh' } = {}): Tensor {
  const o = checkOptions('gelu', opts, ['approximate']);
  const approximate = o.approximate === undefined ? 'none' : checkEnum('gelu', 'approximate', o.approximate, ['none', 'tanh'] as const);
  return applyUnary(approximate === 'tanh' ? 'geluTanh' : 'gelu', checkTensor('gelu', 'input', x));
}
/** x·sigmoid(x), also called swish (torch.nn.functional.silu); integer inputs give float32. */
export const silu = (x: Tensor) => applyUnary('silu', x);
/** ln(1 + eˣ), computed without overflow for large x (torch.nn.functional.softplus with beta 1). */
export const softplus = (x: Tensor) => applyUnary('softplus', x);
/** The Gauss error function (torch.erf). */
export const erf = (x: Tensor) => applyUnary('erf', x);
/** Largest integer ≤ x (torch.floor); its gradient is zero. */
export const floor = (x: Tensor) => applyUnary('floor', x);
/** Smallest integer ≥ x (torch.ceil); its gradient is zero. */
export const ceil = (x: Tensor) => applyUnary('ceil', x);
/** Round to the nearest integer, halves to even (torch.round); its gradient is zero. */
export const round = (x: Tensor) => applyUnary('round', x);
/** Elementwise NOT as a bool tensor: true where x is zero/false (torch.logical_not). */
export const logicalNot = (x: Tensor) => applyUnary('logicalNot', x);

// ---- binary ------------------------------------------------------------------------------------

/** The operands a gradient reads: the inputs a and b and the output y (read only as `reads` declares). */
type Operands = Readonly<Record<Operand, Tensor>>;
type Grad = (g: Tensor, s: Operands, needs: readonly [boolean, boolean]) => [Tensor | null, Tensor | null];
type Operand = 'a' | 'b' | 'y';
interface BinarySpec {
  grad: Grad | null;
  /** What each input's gradient reads (a, b, the output y); only those are saved. Default: a and b. */
  reads?: { a: Operand[]; b: Operand[] };
  samples?: GradSample[];
}

/** Which operands to save, given which inputs want a gradient. */
function savedOperands(spec: BinarySpec, needA: boolean, needB: boolean): Record<Operand, boolean> {
  const reads = spec.reads ?? { a: ['a', 'b'], b: ['a', 'b'] };
  const used = new Set([...(needA ? reads.a : []), ...(needB ? reads.b : [])]);
  return { a: used.has('a'), b: used.has('b'), y: used.has('y') };
}

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

const tieSplit = (win: Tensor, tie: Tensor): Tensor => add(win, mulScalar(tie, 0.5));

export const BINARY_SPECS: Record<BinaryOp, BinarySpec> = {
  add: { grad: (g) => [g, g], reads: { a: [], b: [] } },
  sub: { grad: (g, _s, n) => [g, n[1] ? neg(g) : null], reads: { a: [], b: [] } },
  mul: { grad: (g, s, n) => [n[0] ? mul(g, s.b) : null, n[1] ? mul(g, s.a) : null], reads: { a: ['b'], b: ['a'] } },
  div: { grad: (g, s, n) => [n[0] ? div(g, s.b) : null, n[1] ? neg(div(mul(g, s.a), mul(s.b, s.b))) : null], reads: { a: ['b'], b: ['a', 'b'] } },
  // d/da a^b = b·a^(b−1);  d/db a^b = a^b·ln a
  pow: {
    reads: { a: ['a', 'b'], b: ['a', 'y'] },
    grad: (g, s, n) => [
      n[0] ? mul(g, mul(s.b, pow(s.a, sub(s.b, 1)))) : null,
      n[1] ? mul(g, mul(s.y, log(s.a))) : null,
    ],
    samples: [
      { inputs: [{ shape: [2, 3], domain: 'positive' }, { shape: [3] }], call: (a, b) => pow(a, b) },
      { inputs: [{ shape: [2, 3], domain: 'positive' }], call: (a) => pow(a, 2.5), label: 'tensor ∘ scalar' },
      { inputs: [{ shape: [2, 3] }], call: (a) => pow(1.7, a), label: 'scalar ∘ tensor' },
    ],
  },
  // Ties split the gradient evenly, as in PyTorch.
  maximum: { grad: (g, { a, b }, n) => [n[0] ? mul(g, tieSplit(gt(a, b), eq(a, b))) : null, n[1] ? mul(g, tieSplit(lt(a, b), eq(a, b))) : null] },
  minimum: { grad: (g, { a, b }, n) => [n[0] ? mul(g, tieSplit(lt(a, b), eq(a, b))) : null, n[1] ? mul(g, tieSplit(gt(a, b), eq(a, b))) : null] },
  mod: { grad: (g, s, n) => [g, n[1] ? neg(mul(g, floor(div(s.a, s.b)))) : null], reads: { a: [], b: ['a', 'b'] } },
  eq: { grad: null }, ne: { grad: null }, lt: { grad: null }, le: { grad: null }, gt: { grad: null }, ge: { grad: null },
  logicalAnd: { grad: null }, logicalOr: { grad: null },
  // op(x, g) = g·f'(x) is linear in g, so d/dg is the op itself applied to the incoming gradient;
  // d/dx = G·g·f''(x) with gelu'' = φ(x)(2 − x²) and silu'' = σ(1 − σ)(2 + x(1 − 2σ)).
  geluGrad: {
    grad: (G, { a: x, b: g }, n) => [
      n[0] ? mul(G, mul(g, mul(mulScalar(exp(mulScalar(mul(x, x), -0.5)), INV_SQRT_2PI), addScalar(mulScalar(mul(x, x), -1), 2)))) : null,
      n[1] ? binary('geluGrad', x, G) : null,
    ],
    reads: { a: ['a', 'b'], b: ['a'] },
    samples: activationGradSamples('geluGrad'),
  },
  siluGrad: {
    grad: (G, o, n) => {
      const x = o.a;
      if (!n[0]) return [null, binary('siluGrad', x, G)];
      const s = sigmoid(x);
      const second = mul(mul(s, addScalar(neg(s), 1)), addScalar(mul(x, addScalar(mulScalar(s, -2), 1)), 2));
      return [mul(G, mul(o.b, second)), n[1] ? binary('siluGrad', x, G) : null];
    },
    reads: { a: ['a', 'b'], b: ['a'] },
    samples: activationGradSamples('siluGrad'),
  },
};

function activationGradSamples(op: BinaryOp): GradSample[] {
  return [
    { inputs: [{ shape: [2, 3] }, { shape: [2, 3] }], call: (x, g) => binary(op, x, g) },
    { inputs: [{ shape: [2, 1, 3] }, { shape: [4, 1] }], call: (x, g) => binary(op, x, g), label: 'broadcast' },
  ];
}

type BinaryDef = OpDef<[Tensor, Tensor], None, Operands>;

function defineBinary(op: BinaryOp): BinaryDef {
  const spec = BINARY_SPECS[op];
  const grad = spec.grad;
  const boolOut = BOOL_RESULT_OPS.has(op);
  return defineOp<[Tensor, Tensor], None, Operands>({
    name: op,
    forward: ([a, b], _attrs, save, needs) => {
      const shape = broadcastShapes(op, a.shape, b.shape);
      const out = empty(shape, boolOut ? 'bool' : a.dtype, a.backend);
      a.backend.kernels.binary(op, broadcastView(a, shape), broadcastView(b, shape), out.kernelView());
      const k = savedOperands(spec, needs[0], needs[1]);
      if (k.a) save('a', a);
      if (k.b) save('b', b);
      if (k.y) save('y', out);
      return out;
    },
    backward: grad ? (g, { saved, needs }) => grad(g, saved, needs) : undefined,
    gradcheck: grad ? spec.samples ?? [
      { inputs: [{ shape: [2, 3] }, { shape: [2, 3] }], call: (a, b) => binary(op, a, b) },
      { inputs: [{ shape: [2, 1, 3] }, { shape: [4, 1] }], call: (a, b) => binary(op, a, b), label: 'broadcast' },
      // A JS-number operand runs the scalar form of the op (binaryScalar); its gradient is checked too.
      { inputs: [{ shape: [2, 3], domain: 'awayFromZero' }], call: (a) => binary(op, a, 0.7), label: 'tensor ∘ scalar' },
      { inputs: [{ shape: [2, 3], domain: 'awayFromZero' }], call: (a) => binary(op, 1.3, a), label: 'scalar ∘ tensor' },
    ] : undefined,
  });
}

const BINARY_DEFS = Object.fromEntries(
  (Object.keys(BINARY_SPECS) as BinaryOp[]).map((op) => [op, defineBinary(op)]),
) as Record<BinaryOp, BinaryDef>;

/** A binary op with one side a JS number: the number travels to the kernel as a value, not a tensor. */
interface ScalarAttrs { value: number; dtype: DType; scalarFirst: boolean }
type BinaryScalarDef = OpDef<[Tensor], ScalarAttrs, { x: Tensor; y: Tensor }>;

/**
 * The same op with its scalar operand passed to the kernels (no 0-d tensor, no upload). Its graph
 * node has the same name and one edge; backward rebuilds the scalar as a 0-d tensor and runs the
 * op's own gradient, so gradients are exactly those of the tensor-operand form. Not in OP_TABLE:
 * `binary(op, ...)` is the op, this is how it runs.
 */
function defineBinaryScalar(op: BinaryOp): BinaryScalarDef {
  const spec = BINARY_SPECS[op];
  const grad = spec.grad;
  const boolOut = BOOL_RESULT_OPS.has(op);
  return {
    name: op,
    forward: ([a], attrs, save, needs) => {
      const out = empty(a.shape, boolOut ? 'bool' : a.dtype, a.backend);
      const kernels = a.backend.kernels;
      if (kernels.binaryScalar) kernels.binaryScalar(op, a.kernelView(), attrs.value, attrs.scalarFirst, out.kernelView());
      else {
        // What binaryScalar is specified to equal: the value in a 0-d buffer, broadcast.
        const k = scalarTensor(attrs.value, a.dtype, a.backend);
        const kv = broadcastView(k, a.shape);
        kernels.binary(op, attrs.scalarFirst ? kv : a.kernelView(), attrs.scalarFirst ? a.kernelView() : kv, out.kernelView());
        k.dispose();
      }
      const k = attrs.scalarFirst ? savedOperands(spec, false, needs[0]) : savedOperands(spec, needs[0], false);
      if (attrs.scalarFirst ? k.b : k.a) save('x', a);
      if (k.y) save('y', out);
      return out;
    },
    backward: grad ? (g, { saved, attrs, needs }) => {
      const k = scalarTensor(attrs.value, attrs.dtype, g.backend);
      try {
        // The operands as the tensor form names them, the scalar in its place; read lazily, as saved.
        const first = attrs.scalarFirst;
        const s: Operands = { get a() { return first ? k : saved.x; }, get b() { return first ? saved.x : k; }, get y() { return saved.y; } };
        return first ? [grad(g, s, [false, needs[0]])[1]] : [grad(g, s, [needs[0], false])[0]];
      } finally {
        k.dispose();
      }
    } : undefined,
  };
}

const BINARY_SCALAR_DEFS = Object.fromEntries(
  (Object.keys(BINARY_SPECS) as BinaryOp[]).map((op) => [op, defineBinaryScalar(op)]),
) as Record<BinaryOp, BinaryScalarDef>;

const BINARY_OPS = Object.keys(BINARY_SPECS) as BinaryOp[];

/** Two operands of an elementwise op: tensors or JS numbers/booleans, at least one a tensor. */
function checkOperands(op: string, a: unknown, b: unknown): void {
  if (!isTensor(a)) checkScalar(op, 'input', a);
  if (!isTensor(b)) checkScalar(op, 'other', b);
  if (!isTensor(a) && !isTensor(b)) throw new ValueError(`${op}: at least one operand must be a tensor, got ${fmtValue(a)} and ${fmtValue(b)}`);
}

/** The dtype both operands are computed in. */
export function operandType(op: BinaryOp, a: TensorLike, b: TensorLike): DType {
  let t: DType;
  if (isTensor(a) && isTensor(b)) t = promoteTypes(a.dtype, b.dtype);
  else if (isTensor(a)) t = promoteWithScalar(a.dtype, b as number);
  else if (isTensor(b)) t = promoteWithScalar(b.dtype, a as number);
  else throw new DTypeError(`${op}: at least one operand must be a tensor`);
  if ((op === 'div' || op === 'geluGrad' || op === 'siluGrad') && !isFloat(t)) t = 'float32'; // true division, like torch.div
  if ((op === 'pow') && t === 'bool') t = 'int32';
  if (!BOOL_RESULT_OPS.has(op) && t === 'bool' && op !== 'mul' && op !== 'add' && op !== 'maximum' && op !== 'minimum') {
    throw new DTypeError(`${op}: not supported for bool tensors (shapes ${[a, b].map((x) => (isTensor(x) ? fmtShape(x.shape) : 'scalar')).join(', ')}); cast first`);
  }
  return t;
}

/** Apply the elementwise binary op `op` with broadcasting; either operand may be a JS number. */
export function binary(op: BinaryOp, a: TensorLike, b: TensorLike): Tensor {
  checkEnum('binary', 'op', op, BINARY_OPS);
  checkOperands('binary', a, b);
  return applyBinary(op, a, b);
}

function applyBinary(op: BinaryOp, a: TensorLike, b: TensorLike): Tensor {
  checkOperands(op === 'mod' ? 'remainder' : op, a, b);
  const aT = isTensor(a), bT = isTensor(b);
  checkInputs(op, aT ? (bT ? [a, b] : [a]) : bT ? [b] : []);
  const t = autocastTarget(op, operandType(op, a, b));
  if (op === 'mod' && !isFloat(t)) checkNonZeroDivisor(t, a, b);
  if (op === 'pow' && !isFloat(t) && !isTensor(b) && Number(b) < 0) {
    throw new ValueError(`pow: integers to negative integer powers are not allowed (${t} tensor of shape ${fmtShape((a as Tensor).shape)} ** ${b}); use a float base`);
  }
  if (aT && bT) broadcastShapes(op, a.shape, b.shape); // before the casts allocate anything
  if (aT !== bT) {
    const x = aT ? a : (b as Tensor);
    const tx = cast(x, t);
    const out = apply(BINARY_SCALAR_DEFS[op], [tx], { value: Number(aT ? b : a), dtype: t, scalarFirst: bT });
    if (tx !== x) tx.dispose();
    return out;
  }
  const ta = cast(a as Tensor, t);
  const tb = cast(b as Tensor, t);
  const out = apply(BINARY_DEFS[op], [ta, tb], {});
  if (ta !== a) ta.dispose();
  if (tb !== b) tb.dispose();
  return out;
}

/**
 * Integer remainder by zero raises, as in PyTorch (a float one gives NaN). A tensor divisor is read
 * where the device reads synchronously (the CPU); elsewhere its zeros give 0.
 */
function checkNonZeroDivisor(t: DType, a: TensorLike, b: TensorLike): void {
  const shapes = [a, b].map((x) => (isTensor(x) ? `${x.dtype} ${fmtShape(x.shape)}` : String(x))).join(' and ');
  const zero = isTensor(b) ? b.backend.readSync !== undefined && dataSync(b).includes(0) : Number(b) === 0;
  if (zero) throw new ValueError(`remainder: integer division by zero (${t} operands ${shapes})`);
}

/** a + b with broadcasting and type promotion (torch.add); a number operand is a scalar. Incompatible shapes raise a ShapeError naming both. */
export const add = (a: TensorLike, b: TensorLike) => applyBinary('add', a, b);
/** a − b with broadcasting and type promotion (torch.sub). */
export const sub = (a: TensorLike, b: TensorLike) => applyBinary('sub', a, b);
/** a · b elementwise with broadcasting and type promotion (torch.mul). */
export const mul = (a: TensorLike, b: TensorLike) => applyBinary('mul', a, b);
/** True division a / b with broadcasting (torch.div): integer operands give float32. */
export const div = (a: TensorLike, b: TensorLike) => applyBinary('div', a, b);
/** a raised to b elementwise with broadcasting (torch.pow); an integer base to a negative integer power raises a ValueError. */
export const pow = (a: TensorLike, b: TensorLike) => applyBinary('pow', a, b);
/** The larger of a and b elementwise, with broadcasting (torch.maximum); NaN propagates. */
export const maximum = (a: TensorLike, b: TensorLike) => applyBinary('maximum', a, b);
/** The smaller of a and b elementwise, with broadcasting (torch.minimum); NaN propagates. */
export const minimum = (a: TensorLike, b: TensorLike) => applyBinary('minimum', a, b);
/** Python-style remainder: the result has the sign of the divisor (torch.remainder). */
export const remainder = (a: TensorLike, b: TensorLike) => applyBinary('mod', a, b);
/** a == b elementwise with broadcasting, as a bool tensor (torch.eq). */
export const eq = (a: TensorLike, b: TensorLike) => applyBinary('eq', a, b);
/** a != b elementwise with broadcasting, as a bool tensor (torch.ne). */
export const ne = (a: TensorLike, b: TensorLike) => applyBinary('ne', a, b);
/** a < b elementwise with broadcasting, as a bool tensor (torch.lt). */
export const lt = (a: TensorLike, b: TensorLike) => applyBinary('lt', a, b);
/** a ≤ b elementwise with broadcasting, as a bool tensor (torch.le). */
export const le = (a: TensorLike, b: TensorLike) => applyBinary('le', a, b);
/** a > b elementwise with broadcasting, as a bool tensor (torch.gt). */
export const gt = (a: TensorLike, b: TensorLike) => applyBinary('gt', a, b);
/** a ≥ b elementwise with broadcasting, as a bool tensor (torch.ge). */
export const ge = (a: TensorLike, b: TensorLike) => applyBinary('ge', a, b);
/** Elementwise AND of the operands' truth values (non-zero is true), as a bool tensor (torch.logical_and). */
export const logicalAnd = (a: TensorLike, b: TensorLike) => applyBinary('logicalAnd', a, b);
/** Elementwise OR of the operands' truth values (non-zero is true), as a bool tensor (torch.logical_or). */
export const logicalOr = (a: TensorLike, b: TensorLike) => applyBinary('logicalOr', a, b);
export const mulScalar = (a: Tensor, s: number) => binary('mul', a, s);
/** g·gelu'(x): the gradient of gelu (exact) at x for the incoming gradient g. */
export const geluGrad = (x: Tensor, g: Tensor) => binary('geluGrad', x, g);
/** g·silu'(x): the gradient of silu at x for the incoming gradient g. */
export const siluGrad = (x: Tensor, g: Tensor) => binary('siluGrad', x, g);
export const addScalar = (a: Tensor, s: number) => binary('add', a, s);

/** This file's Tensor methods: `x.exp()` is `exp(x)`, `x.add(y)` is `add(x, y)`. */
export const ELEMENTWISE_METHODS = {
  neg, abs, sign, exp, expm1, log, log1p, sqrt, rsqrt, square, reciprocal, sin, cos, tanh, sigmoid, relu, gelu, silu, softplus,
  erf, floor, ceil, round, logicalNot,
  add, sub, mul, div, pow, maximum, minimum, remainder, eq, ne, lt, le, gt, ge, logicalAnd, logicalOr,
};
