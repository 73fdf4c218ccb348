// Parameter initializers, PyTorch's `torch.nn.init` with camelCase names. Each fills a tensor in
// place under noGrad and returns it; random ones draw from the core generator, so `manualSeed(s)`
// before building a model reproduces its initial weights on every device. Exported as the `init`
// namespace: `init.kaimingUniform(w, {a: Math.sqrt(5)})`.
//
// Fans and gains follow PyTorch: for a weight of shape [out, in, *kernel], fanIn = in·∏kernel and
// fanOut = out·∏kernel. Xavier/Glorot: Glorot & Bengio 2010. Kaiming/He: He et al. 2015.
import {
  Tensor, DTypeError, ValueError, ShapeError, checkEnum, checkFinite, checkNumber, checkOptions, checkRange, checkShapeArg, checkTensor, fmtShape,
  isFloat, noGrad, rand, randn, tidy, tensor,
} from '@webgrad/core';

/** A nonlinearity name for `calculateGain` and the Kaiming initializers (PyTorch's names, camelCase: 'leakyRelu' is 'leaky_relu'). */
export type Nonlinearity = 'linear' | 'conv1d' | 'conv2d' | 'conv3d' | 'sigmoid' | 'tanh' | 'relu' | 'leakyRelu' | 'selu';
/** Which fan the Kaiming initializers scale by: 'fanIn' keeps the forward pass's variance, 'fanOut' the backward pass's (PyTorch's `mode='fan_in'|'fan_out'`). */
export type FanMode = 'fanIn' | 'fanOut';

/** The nonlinearities calculateGain accepts. */
const NONLINEARITIES: readonly Nonlinearity[] = ['linear', 'conv1d', 'conv2d', 'conv3d', 'sigmoid', 'tanh', 'relu', 'leakyRelu', 'selu'];

/** The tensor an initializer fills: random fills need a floating-point tensor (as in PyTorch). */
function target(op: string, t: Tensor, random = true): Tensor {
  checkTensor(op, 'tensor', t);
  if (random && !isFloat(t.dtype)) throw new DTypeError(`${op}: cannot fill a ${t.dtype} tensor with random values; use a float32 or float64 tensor`);
  return t;
}

/** PyTorch's `calculate_gain`: the recommended scale for a nonlinearity (1 for linear/conv/sigmoid, 5/3 for tanh, √2 for relu, √(2/(1 + slope²)) for leakyRelu with `param` = negative slope (default 0.01), 3/4 for selu). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  checkEnum('calculateGain', 'nonlinearity', nonlinearity, NONLINEARITIES);
  if (param !== undefined) checkFinite('calculateGain', 'param', param);
  switch (nonlinearity) {
    case 'linear': case 'conv1d': case 'conv2d': case 'conv3d': case 'sigmoid': return 1;
    case 'tanh': return 5 / 3;
    case 'relu': return Math.SQRT2;
    case 'leakyRelu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu': return 3 / 4;
    default: throw new ValueError(`calculateGain: unknown nonlinearity '${String(nonlinearity)}'`);
  }
}

/** fanIn and fanOut of a weight of shape [out, in, *kernel] (needs at least 2 dims). */
export function computeFans(shape: readonly number[], op = 'computeFans'): {
  /** in·∏kernel. */
  fanIn: number;
  /** out·∏kernel. */
  fanOut: number;
} {
  checkShapeArg(op, 'shape', shape);
  if (shape.length < 2) throw new ShapeError(`${op}: fan in and fan out need a tensor with at least 2 dims, got ${fmtShape(shape)}`);
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1]! * receptive, fanOut: shape[0]! * receptive };
}

function fill(t: Tensor, make: () => Tensor): Tensor {
  noGrad(() => tidy(() => { t.copy_(make()); }));
  return t;
}

/** U(a, b). */
export function uniform(t: Tensor, a = 0, b = 1): Tensor {
  target('uniform', t);
  checkFinite('uniform', 'a', a);
  if (checkFinite('uniform', 'b', b) < a) throw new ValueError(`uniform: need a <= b, got [${a}, ${b}]`);
  return fill(t, () => rand(t.shape, { dtype: t.dtype, device: t.device }).mul(b - a).add(a));
}

/** N(mean, std²). */
export function normal(t: Tensor, mean = 0, std = 1): Tensor {
  target('normal', t);
  checkFinite('normal', 'mean', mean);
  checkRange('normal', 'std', std, 0, Infinity);
  return fill(t, () => randn(t.shape, { dtype: t.dtype, device: t.device }).mul(std).add(mean));
}

/** Fills `t` with `value` in place (any dtype) and returns it. */
export function constant(t: Tensor, value: number): Tensor {
  target('constant', t, false);
  checkNumber('constant', 'value', value);
  noGrad(() => t.fill_(value));
  return t;
}
/** Fills `t` with 0 in place and returns it. */
export const zeros = (t: Tensor): Tensor => constant(t, 0);
/** Fills `t` with 1 in place and returns it. */
export const ones = (t: Tensor): Tensor => constant(t, 1);

/** U(−a, a) with a = gain·√(6 / (fanIn + fanOut)). */
export function xavierUniform(t: Tensor, gain = 1): Tensor {
  target('xavierUniform', t);
  checkRange('xavierUniform', 'gain', gain, 0, Infinity);
  const { fanIn, fanOut } = computeFans(t.shape, 'xavierUniform');
  const a = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform(t, -a, a);
}

/** N(0, std²) with std = gain·√(2 / (fanIn + fanOut)). */
export function xavierNormal(t: Tensor, gain = 1): Tensor {
  target('xavierNormal', t);
  checkRange('xavierNormal', 'gain', gain, 0, Infinity);
  const { fanIn, fanOut } = computeFans(t.shape, 'xavierNormal');
  return normal(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)));
}

/** Options of `kaimingUniform` and `kaimingNormal` (PyTorch's `a`, `mode`, `nonlinearity`). */
export interface KaimingOptions {
  /** Negative slope of the leaky ReLU that follows (used when nonlinearity is 'leakyRelu'). Default 0. */
  a?: number;
  /** Default 'fanIn'. */
  mode?: FanMode;
  /** Default 'leakyRelu', as in PyTorch. */
  nonlinearity?: Nonlinearity;
}

function kaimingStd(op: string, t: Tensor, opts: KaimingOptions): number {
  target(op, t);
  checkOptions(op, opts, ['a', 'mode', 'nonlinearity']);
  if (opts.a !== undefined) checkFinite(op, 'a', opts.a);
  if (opts.mode !== undefined) checkEnum(op, 'mode', opts.mode, ['fanIn', 'fanOut']);
  if (opts.nonlinearity !== undefined) checkEnum(op, 'nonlinearity', opts.nonlinearity, NONLINEARITIES);
  const fans = computeFans(t.shape, op);
  const fan = (opts.mode ?? 'fanIn') === 'fanIn' ? fans.fanIn : fans.fanOut;
  return calculateGain(opts.nonlinearity ?? 'leakyRelu', opts.a ?? 0) / Math.sqrt(fan);
}

/** U(−b, b) with b = gain·√(3 / fan). With a = √5 this is PyTorch's default Linear/Conv weight init,
 *  U(−1/√fanIn, 1/√fanIn). */
export function kaimingUniform(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd('kaimingUniform', t, opts);
  return uniform(t, -bound, bound);
}

/** N(0, std²) with std = gain / √fan. */
export function kaimingNormal(t: Tensor, opts: KaimingOptions = {}): Tensor {
  return normal(t, 0, kaimingStd('kaimingNormal', t, opts));
}

/** N(mean, std²) truncated to [a, b] by inverse-CDF sampling (uniforms from the core generator). */
export function truncNormal(t: Tensor, mean = 0, std = 1, a = -2, b = 2): Tensor {
  target('truncNormal', t);
  checkFinite('truncNormal', 'mean', mean);
  checkRange('truncNormal', 'std', std, 0, Infinity, { lo: true });
  if (!(checkNumber('truncNormal', 'a', a) < checkNumber('truncNormal', 'b', b))) throw new ValueError(`truncNormal: need a < b, got [${a}, ${b}]`);
  const cdf = (x: number): number => 0.5 * (1 + erf((x - mean) / std / Math.SQRT2));
  const lo = cdf(a);
  const hi = cdf(b);
  const u = rand([t.size], { dtype: 'float64', device: 'cpu' });
  const uv = u.dataSync();
  u.dispose();
  const out = new Float64Array(t.size);
  for (let i = 0; i < out.length; i++) {
    const p = lo + (hi - lo) * uv[i]!;
    const x = mean + std * Math.SQRT2 * erfinv(2 * p - 1);
    out[i] = Math.min(b, Math.max(a, x));
  }
  return fill(t, () => tensor(out, { shape: t.shape, dtype: t.dtype, device: t.device }));
}

// Abramowitz–Stegun 7.1.26 is too coarse for inverse sampling; use erf via its continued series and
// Giles' single-precision erfinv refined by two Newton steps.
function erf(x: number): number {
  const s = Math.sign(x);
  const ax = Math.abs(x);
  if (ax > 6) return s;
  // Series for small |x|, complementary continued fraction otherwise.
  if (ax < 2.5) {
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 100; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (s * 2 * sum) / Math.sqrt(Math.PI);
  }
  let f = 0;
  for (let n = 60; n >= 1; n--) f = (n / 2) / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return s * (1 - erfc);
}

function erfinv(y: number): number {
  if (y <= -1) return -Infinity;
  if (y >= 1) return Infinity;
  let w = -Math.log((1 - y) * (1 + y));
  let x: number;
  if (w < 5) {
    w -= 2.5;
    let p = 2.81022636e-8;
    for (const c of [3.43273939e-7, -3.5233877e-6, -4.39150654e-6, 0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941]) p = c + p * w;
    x = p * y;
  } else {
    w = Math.sqrt(w) - 3;
    let p = -0.000200214257;
    for (const c of [0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682]) p = c + p * w;
    x = p * y;
  }
  for (let i = 0; i < 2; i++) x -= (erf(x) - y) / ((2 / Math.sqrt(Math.PI)) * Math.exp(-x * x));
  return x;
}

// PyTorch-style aliases with the trailing underscore of in-place functions.
export {
  uniform as uniform_, normal as normal_, constant as constant_, zeros as zeros_, ones as ones_,
  xavierUniform as xavierUniform_, xavierNormal as xavierNormal_, kaimingUniform as kaimingUniform_,
  kaimingNormal as kaimingNormal_, truncNormal as truncNormal_,
};

/**
 * A (semi-)orthogonal matrix scaled by `gain` (Saxe et al. 2014), as torch.nn.init.orthogonal_:
 * the Q of a QR decomposition of a standard normal [rows, cols] matrix (rows = first dim, cols =
 * the rest flattened), its columns' signs fixed by R's diagonal; transposed when rows < cols.
 * Drawn from the core generator on the host, then copied to the tensor's device.
 */
export function orthogonal(t: Tensor, gain = 1): Tensor {
  target('orthogonal', t);
  checkFinite('orthogonal', 'gain', gain);
  if (t.ndim < 2) throw new ShapeError(`orthogonal: only tensors with 2 or more dimensions are supported, got shape ${fmtShape(t.shape)}`);
  const rows = t.shape[0]!;
  const cols = t.size / rows;
  const [m, n] = rows < cols ? [cols, rows] : [rows, cols]; // factor the tall m × n matrix
  const g = randn([m * n], { dtype: 'float64', device: 'cpu' });
  const a = Float64Array.from(g.dataSync() as Float64Array);
  g.dispose();
  // Modified Gram–Schmidt on the columns of a (m × n, row-major): a ← Q, with sign(diag R) folded in.
  for (let j = 0; j < n; j++) {
    for (let k = 0; k < j; k++) {
      let dot = 0;
      for (let i = 0; i < m; i++) dot += a[i * n + k]! * a[i * n + j]!;
      for (let i = 0; i < m; i++) a[i * n + j]! -= dot * a[i * n + k]!;
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += a[i * n + j]! ** 2;
    norm = Math.sqrt(norm);
    for (let i = 0; i < m; i++) a[i * n + j]! /= norm; // R's diagonal is the (positive) norm
  }
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = gain * (rows < cols ? a[j * n + i]! : a[i * n + j]!);
  return fill(t, () => tensor(out, { shape: [...t.shape], dtype: 'float64' }).to(t.dtype).to(t.device));
}
