// Tensor methods, PyTorch-style: each forwards to the one definition of its op in ./ops.
import type { DType, UnaryOp } from '@webgrad/kernels';
import type { DeviceName } from './backend/backend.js';
import { Tensor, type NestedArray, type TensorLike } from './tensor.js';
import type { TypedArray } from './dtype.js';
import * as B from './ops/binary.js';
import * as U from './ops/unary.js';
import * as R from './ops/reduce.js';
import * as V from './ops/views.js';
import * as S from './ops/shape_ops.js';
import * as I from './ops/indexing.js';
import * as D from './ops/device.js';
import * as P from './ops/inplace.js';
import { cast, clone, contiguous } from './ops/cast.js';
import { matmul } from './ops/matmul.js';
import { softmax, logSoftmax } from './ops/softmax.js';
import { backward } from './autograd/api.js';
import type { BackwardOptions } from './autograd/engine.js';

type Dims = number | readonly number[] | undefined;

declare module './tensor.js' {
  interface Tensor {
    add(o: TensorLike): Tensor; sub(o: TensorLike): Tensor; mul(o: TensorLike): Tensor; div(o: TensorLike): Tensor;
    pow(o: TensorLike): Tensor; maximum(o: TensorLike): Tensor; minimum(o: TensorLike): Tensor; remainder(o: TensorLike): Tensor;
    eq(o: TensorLike): Tensor; ne(o: TensorLike): Tensor; lt(o: TensorLike): Tensor; le(o: TensorLike): Tensor;
    gt(o: TensorLike): Tensor; ge(o: TensorLike): Tensor; logicalAnd(o: TensorLike): Tensor; logicalOr(o: TensorLike): Tensor;
    neg(): Tensor; abs(): Tensor; sign(): Tensor; exp(): Tensor; expm1(): Tensor; log(): Tensor; log1p(): Tensor;
    sqrt(): Tensor; rsqrt(): Tensor; square(): Tensor; reciprocal(): Tensor; sin(): Tensor; cos(): Tensor; tanh(): Tensor;
    sigmoid(): Tensor; relu(): Tensor; gelu(opts?: { approximate?: 'none' | 'tanh' }): Tensor; silu(): Tensor; softplus(): Tensor;
    erf(): Tensor; floor(): Tensor; ceil(): Tensor; round(): Tensor; logicalNot(): Tensor;
    clamp(min?: number | null, max?: number | null): Tensor; maskedFill(mask: Tensor, value: number): Tensor;
    sum(dims?: Dims, opts?: R.ReduceOptions): Tensor; mean(dims?: Dims, opts?: R.ReduceOptions): Tensor;
    prod(dims?: Dims, opts?: R.ReduceOptions): Tensor; max(dims?: Dims, opts?: R.ReduceOptions): Tensor;
    min(dims?: Dims, opts?: R.ReduceOptions): Tensor; argmax(dim?: number, opts?: R.ReduceOptions): Tensor;
    argmin(dim?: number, opts?: R.ReduceOptions): Tensor; logsumexp(dims?: Dims, opts?: R.ReduceOptions): Tensor;
    var(dims?: Dims, opts?: R.VarOptions): Tensor; std(dims?: Dims, opts?: R.VarOptions): Tensor;
    reshape(shape: readonly number[]): Tensor; view(shape: readonly number[]): Tensor;
    transpose(d0?: number, d1?: number): Tensor; permute(dims: readonly number[]): Tensor; expand(shape: readonly number[]): Tensor;
    squeeze(dim?: number | number[]): Tensor; unsqueeze(dim: number): Tensor; flatten(startDim?: number, endDim?: number): Tensor;
    narrow(dim: number, start: number, length: number): Tensor; slice(dim: number, start?: number, end?: number, step?: number): Tensor;
    select(dim: number, index: number): Tensor; split(sizes: number | readonly number[], dim?: number): Tensor[];
    chunk(chunks: number, dim?: number): Tensor[]; tril(diagonal?: number): Tensor; triu(diagonal?: number): Tensor;
    contiguous(): Tensor; clone(): Tensor; matmul(o: Tensor): Tensor;
    gather(dim: number, index: Tensor): Tensor; scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor;
    indexSelect(dim: number, index: Tensor): Tensor;
    softmax(dim?: number): Tensor; logSoftmax(dim?: number): Tensor;
    to(target: DeviceName | DType): Tensor; toAsync(target: DeviceName | DType): Promise<Tensor>;
    float(): Tensor; double(): Tensor; int(): Tensor; bool(): Tensor;
    detach(): Tensor; data(): Promise<TypedArray>; dataSync(): TypedArray; array(): Promise<NestedArray>; item(): Promise<number>;
    backward(grad?: Tensor | null, opts?: BackwardOptions): void;
    /** Keep `.grad` on this non-leaf tensor during backward. */
    retainGrad(): this;
    copy_(src: Tensor): Tensor; fill_(value: number): Tensor; zero_(): Tensor;
    add_(o: TensorLike): Tensor; sub_(o: TensorLike): Tensor; mul_(o: TensorLike): Tensor; div_(o: TensorLike): Tensor;
    /** Transpose of the last two dims. */
    readonly mT: Tensor;
  }
}

const T = Tensor.prototype as unknown as Record<string, unknown>;
const binaryNames = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'remainder', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr'] as const;
for (const n of binaryNames) T[n] = function (this: Tensor, o: TensorLike) { return (B[n] as (a: TensorLike, b: TensorLike) => Tensor)(this, o); };
const unaryNames: UnaryOp[] = ['neg', 'abs', 'sign', 'exp', 'expm1', 'log', 'log1p', 'sqrt', 'rsqrt', 'square', 'reciprocal', 'sin', 'cos', 'tanh', 'sigmoid', 'relu', 'silu', 'softplus', 'erf', 'floor', 'ceil', 'round', 'logicalNot'];
for (const n of unaryNames) T[n] = function (this: Tensor) { return U.unary(n, this); };

Object.assign(T, {
  gelu(this: Tensor, o?: { approximate?: 'none' | 'tanh' }) { return U.gelu(this, o); },
  clamp(this: Tensor, lo?: number | null, hi?: number | null) { return B.clamp(this, lo, hi); },
  maskedFill(this: Tensor, m: Tensor, v: number) { return B.maskedFill(this, m, v); },
  sum(this: Tensor, d?: Dims, o?: R.ReduceOptions) { return R.sum(this, d, o); },
  mean(this: Tensor, d?: Dims, o?: R.ReduceOptions) { return R.mean(this, d, o); },
  prod(this: Tensor, d?: Dims, o?: R.ReduceOptions) { return R.prod(this, d, o); },
  max(this: Tensor, d?: Dims, o?: R.ReduceOptions) { return R.max(this, d, o); },
  min(this: Tensor, d?: Dims, o?: R.ReduceOptions) { return R.min(this, d, o); },
  argmax(this: Tensor, d?: number, o?: R.ReduceOptions) { return R.argmax(this, d, o); },
  argmin(this: Tensor, d?: number, o?: R.ReduceOptions) { return R.argmin(this, d, o); },
  logsumexp(this: Tensor, d?: Dims, o?: R.ReduceOptions) { return R.logsumexp(this, d, o); },
  var(this: Tensor, d?: Dims, o?: R.VarOptions) { return R.variance(this, d, o); },
  std(this: Tensor, d?: Dims, o?: R.VarOptions) { return R.std(this, d, o); },
  reshape(this: Tensor, s: readonly number[]) { return V.reshape(this, s); },
  view(this: Tensor, s: readonly number[]) { return V.view(this, s); },
  transpose(this: Tensor, a?: number, b?: number) { return V.transpose(this, a, b); },
  permute(this: Tensor, d: readonly number[]) { return V.permute(this, d); },
  expand(this: Tensor, s: readonly number[]) { return V.expand(this, s); },
  squeeze(this: Tensor, d?: number | number[]) { return V.squeeze(this, d); },
  unsqueeze(this: Tensor, d: number) { return V.unsqueeze(this, d); },
  flatten(this: Tensor, s?: number, e?: number) { return V.flatten(this, s, e); },
  narrow(this: Tensor, d: number, s: number, l: number) { return V.narrow(this, d, s, l); },
  slice(this: Tensor, d: number, s?: number, e?: number, st?: number) { return V.slice(this, d, s, e, st); },
  select(this: Tensor, d: number, i: number) { return V.select(this, d, i); },
  split(this: Tensor, s: number | readonly number[], d?: number) { return S.split(this, s, d); },
  chunk(this: Tensor, c: number, d?: number) { return S.chunk(this, c, d); },
  tril(this: Tensor, k?: number) { return S.tril(this, k); },
  triu(this: Tensor, k?: number) { return S.triu(this, k); },
  contiguous(this: Tensor) { return contiguous(this); },
  clone(this: Tensor) { return clone(this); },
  matmul(this: Tensor, o: Tensor) { return matmul(this, o); },
  gather(this: Tensor, d: number, i: Tensor) { return I.gather(this, d, i); },
  scatterAdd(this: Tensor, d: number, i: Tensor, s: Tensor) { return I.scatterAdd(this, d, i, s); },
  indexSelect(this: Tensor, d: number, i: Tensor) { return I.indexSelect(this, d, i); },
  softmax(this: Tensor, d?: number) { return softmax(this, d); },
  logSoftmax(this: Tensor, d?: number) { return logSoftmax(this, d); },
  to(this: Tensor, t: DeviceName | DType) { return D.to(this, t); },
  toAsync(this: Tensor, t: DeviceName | DType) { return D.toAsync(this, t); },
  float(this: Tensor) { return cast(this, 'float32'); },
  double(this: Tensor) { return cast(this, 'float64'); },
  int(this: Tensor) { return cast(this, 'int32'); },
  bool(this: Tensor) { return cast(this, 'bool'); },
  detach(this: Tensor) { return D.detach(this); },
  data(this: Tensor) { return D.data(this); },
  dataSync(this: Tensor) { return D.dataSync(this); },
  array(this: Tensor) { return D.array(this); },
  item(this: Tensor) { return D.item(this); },
  backward(this: Tensor, g?: Tensor | null, o?: BackwardOptions) { backward(this, g, o); },
  retainGrad(this: Tensor) { this.retainsGrad = true; if (this.gradFn) this.gradFn.retained = new WeakRef(this); return this; },
  copy_(this: Tensor, s: Tensor) { return P.copy_(this, s); },
  fill_(this: Tensor, v: number) { return P.fill_(this, v); },
  zero_(this: Tensor) { return P.zero_(this); },
  add_(this: Tensor, o: TensorLike) { return P.add_(this, o); },
  sub_(this: Tensor, o: TensorLike) { return P.sub_(this, o); },
  mul_(this: Tensor, o: TensorLike) { return P.mul_(this, o); },
  div_(this: Tensor, o: TensorLike) { return P.div_(this, o); },
});
Object.defineProperty(T, 'mT', { get(this: Tensor) { return V.transpose(this, -2, -1); } });
