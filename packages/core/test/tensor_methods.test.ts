// The Tensor methods are derived from the op files' method tables: this pins the public method
// API to what it was when the methods were a hand-kept list. The type check (`pnpm typecheck`, which
// checks tests) fails if a method's parameters or result change; the test fails if one is missing
// at run time or does not forward to its op.
import { describe, expect, it } from 'vitest';
import {
  Tensor, add, clamp, cast, gelu, matmul, softmax, sum, tensor, tidy, variance, type BackwardOptions, type DeviceName, type DType,
  type NestedArray, type ReduceOptions, type TensorLike, type TypedArray, type VarOptions,
} from '@webgrad/core';

type Dims = number | readonly number[] | undefined;

/** The methods as they were declared by hand, verbatim. */
interface Declared {
  add(o: TensorLike): Tensor; sub(o: TensorLike): Tensor; mul(o: TensorLike): Tensor; div(o: TensorLike): Tensor;
  pow(o: TensorLike): Tensor; maximum(o: TensorLike): Tensor; minimum(o: TensorLike): Tensor; remainder(o: TensorLike): Tensor;
  eq(o: TensorLike): Tensor; ne(o: TensorLike): Tensor; lt(o: TensorLike): Tensor; le(o: TensorLike): Tensor;
  gt(o: TensorLike): Tensor; ge(o: TensorLike): Tensor; logicalAnd(o: TensorLike): Tensor; logicalOr(o: TensorLike): Tensor;
  neg(): Tensor; abs(): Tensor; sign(): Tensor; exp(): Tensor; expm1(): Tensor; log(): Tensor; log1p(): Tensor;
  sqrt(): Tensor; rsqrt(): Tensor; square(): Tensor; reciprocal(): Tensor; sin(): Tensor; cos(): Tensor; tanh(): Tensor;
  sigmoid(): Tensor; relu(): Tensor; gelu(opts?: { approximate?: 'none' | 'tanh' }): Tensor; silu(): Tensor; softplus(): Tensor;
  erf(): Tensor; floor(): Tensor; ceil(): Tensor; round(): Tensor; logicalNot(): Tensor;
  clamp(min?: number | null, max?: number | null): Tensor; maskedFill(mask: Tensor, value: number): Tensor;
  sum(dims?: Dims, opts?: ReduceOptions): Tensor; mean(dims?: Dims, opts?: ReduceOptions): Tensor;
  prod(dims?: Dims, opts?: ReduceOptions): Tensor; max(dims?: Dims, opts?: ReduceOptions): Tensor;
  min(dims?: Dims, opts?: ReduceOptions): Tensor; argmax(dim?: number, opts?: ReduceOptions): Tensor;
  argmin(dim?: number, opts?: ReduceOptions): Tensor; logsumexp(dims?: Dims, opts?: ReduceOptions): Tensor;
  var(dims?: Dims, opts?: VarOptions): Tensor; std(dims?: Dims, opts?: VarOptions): Tensor;
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
  retainGrad(): Tensor;
  copy_(src: Tensor): Tensor; fill_(value: number): Tensor; zero_(): Tensor;
  add_(o: TensorLike): Tensor; sub_(o: TensorLike): Tensor; mul_(o: TensorLike): Tensor; div_(o: TensorLike): Tensor;
  readonly mT: Tensor;
}

/** Identical types (not merely assignable each way: method parameters compare bivariantly). */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
/** The declared methods whose derived type differs (never when all agree). */
type Changed = { [K in keyof Declared]: Same<Tensor[K], Declared[K]> extends true ? never : K }[keyof Declared];
const unchanged: [Changed] extends [never] ? true : Changed = true;

const NAMES = [
  'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'remainder', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr',
  'neg', 'abs', 'sign', 'exp', 'expm1', 'log', 'log1p', 'sqrt', 'rsqrt', 'square', 'reciprocal', 'sin', 'cos', 'tanh', 'sigmoid',
  'relu', 'gelu', 'silu', 'softplus', 'erf', 'floor', 'ceil', 'round', 'logicalNot', 'clamp', 'maskedFill', 'sum', 'mean', 'prod',
  'max', 'min', 'argmax', 'argmin', 'logsumexp', 'var', 'std', 'reshape', 'view', 'transpose', 'permute', 'expand', 'squeeze',
  'unsqueeze', 'flatten', 'narrow', 'slice', 'select', 'split', 'chunk', 'tril', 'triu', 'contiguous', 'clone', 'matmul', 'gather',
  'scatterAdd', 'indexSelect', 'softmax', 'logSoftmax', 'to', 'toAsync', 'float', 'double', 'int', 'bool', 'detach', 'data',
  'dataSync', 'array', 'item', 'backward', 'retainGrad', 'copy_', 'fill_', 'zero_', 'add_', 'sub_', 'mul_', 'div_',
] as const satisfies readonly (keyof Declared)[];

describe('Tensor methods', () => {
  it('every method declared before is there', () => {
    expect(unchanged).toBe(true);
    const missing = NAMES.filter((n) => typeof (Tensor.prototype as unknown as Record<string, unknown>)[n] !== 'function');
    expect(missing).toEqual([]);
    expect(Object.getOwnPropertyDescriptor(Tensor.prototype, 'mT')?.get).toBeTypeOf('function');
  });

  it('a method is its op with the tensor first, arguments passed through', () => {
    tidy(() => {
      const x = tensor([[1, -2, 3], [4, 5, -6]], { dtype: 'float32' });
      const same = (a: Tensor, b: Tensor) => expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
      same(x.add(2), add(x, 2));
      same(x.sum(1, { keepdim: true }), sum(x, 1, { keepdim: true }));
      same(x.var(0, { correction: 0 }), variance(x, 0, { correction: 0 }));
      same(x.clamp(null, 2), clamp(x, null, 2));
      same(x.gelu({ approximate: 'tanh' }), gelu(x, { approximate: 'tanh' }));
      same(x.softmax(0), softmax(x, 0));
      same(x.matmul(x.mT), matmul(x, x.transpose(0, 1)));
      same(x.double(), cast(x, 'float64'));
      expect(x.mT.shape).toEqual([3, 2]);
    });
  });
});
