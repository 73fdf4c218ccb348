// The contract between @webgrad/core and every compute backend.
//
// A kernel knows nothing of tensors or gradients: it reads strided views and writes into a
// destination view. `KernelSet<B>` is implemented once as plain TypeScript over TypedArrays
// (the CPU reference, the ground truth every other backend is tested against) and once as
// WGSL programs over GPUBuffers. Because core calls kernels only through this interface, a
// backend that lacks a kernel is a compile error, not a runtime string lookup.

import { BINARY_DEFS, UNARY_DEFS } from './elementwise/ops.js';
import type { FusedProgram } from './elementwise/fused.js';
export { FUSED_MAX_BUFFERS, FusedProgramError, fusedProgramKey, validateFusedProgram, type FusedProgram, type FusedStep } from './elementwise/fused.js';

/** float16 and bfloat16 are storage formats (see half.ts): the cpu keeps their bit patterns in a
 *  Uint16Array and computes in float64; WebGPU computes float16 in f16 and bfloat16 in f32. */
export type DType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int32' | 'bool';
/** Every dtype a tensor can have. */
export const DTYPES: readonly DType[] = ['float32', 'float64', 'float16', 'bfloat16', 'int32', 'bool'];

/** CPU storage: float16 and bfloat16 hold bit patterns in a Uint16Array, bool 0/1 in a Uint8Array. */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array | Uint16Array;

/** Bytes per element as stored (bool is one byte on the CPU, one u32 on the GPU). */
export const DTYPE_BYTES: Record<DType, number> = { float32: 4, float64: 8, float16: 2, bfloat16: 2, int32: 4, bool: 1 };

/** The floating-point dtypes. */
export const isFloatDType = (d: DType): boolean => d === 'float32' || d === 'float64' || d === 'float16' || d === 'bfloat16';

/** The 16-bit floating-point dtypes, stored as bit patterns. */
export const isHalfDType = (d: DType): d is 'float16' | 'bfloat16' => d === 'float16' || d === 'bfloat16';

/** Machine epsilon (the gap between 1 and the next larger value) of each floating-point dtype. */
export const DTYPE_EPS: Readonly<Record<'float32' | 'float64' | 'float16' | 'bfloat16', number>> = {
  float64: 2 ** -52, float32: 2 ** -23, float16: 2 ** -10, bfloat16: 2 ** -7,
};

/** A strided window onto a buffer. `offset` and `strides` count elements, not bytes. */
export interface View<B> {
  /** The device storage (a TypedArray on the CPU, a GPUBuffer on WebGPU). */
  buffer: B;
  /** Element type of the storage. */
  dtype: DType;
  /** Size of each dimension of the view. */
  shape: readonly number[];
  /** Elements to step per index of each dimension (0 on broadcast dimensions). */
  strides: readonly number[];
  /** Element index of the view's first element in `buffer`. */
  offset: number;
}

/** The transpose-by-strides helper lives with the other shape/stride helpers in geometry.ts. */
export { transposeLast } from './geometry.js';

/** The elementwise ops: one entry each in elementwise/ops.ts, where its expression is written once. */
export type UnaryOp = keyof typeof UNARY_DEFS;
/** Names of the unary elementwise ops (from `elementwise/ops.ts`). */
export const UNARY_OPS = Object.keys(UNARY_DEFS) as readonly UnaryOp[];

/** Includes the activation gradients, op(x, g) = g·f'(x): the backward of gelu and silu in one pass. */
export type BinaryOp = keyof typeof BINARY_DEFS;
/** Names of the binary elementwise ops, the activation gradients included. */
export const BINARY_OPS = Object.keys(BINARY_DEFS) as readonly BinaryOp[];

/** Comparison and logical ops produce `bool`; arithmetic ops produce the (already promoted) input dtype. */
export const BOOL_RESULT_OPS: ReadonlySet<BinaryOp> = new Set(BINARY_OPS.filter((op) => BINARY_DEFS[op].expr.kind === 'bool'));

/** The reductions of the `reduce` kernel. */
export const REDUCE_OPS = ['sum', 'prod', 'max', 'min'] as const;
/** One of `REDUCE_OPS`. */
export type ReduceOp = (typeof REDUCE_OPS)[number];

/** The cross-entropy kernels' options, already validated by core. */
export interface CrossEntropyOptions {
  /** Target value whose rows contribute nothing and get a zero gradient. */
  ignoreIndex: number;
  /** ε in [0, 1): the target is (1 − ε)·one-hot + ε/C. */
  labelSmoothing: number;
}

/** The attention kernels' options. */
export interface AttentionOptions {
  /** Factor on q·kᵀ before the softmax (core passes 1/√D by default). */
  scale: number;
  /** Query i sees keys j ≤ i + (Tk − Tq): the last query aligned with the last key. */
  causal: boolean;
}

/** The window geometry of convolution and pooling kernels, as [height, width] pairs; images are [N, C, H, W] (see `cpu/conv.ts`). */
export interface Conv2dGeometry {
  /** Window size (kh, kw). */
  kernel: [number, number];
  /** Step between windows. */
  stride: [number, number];
  /** Implicit padding on each side: zeros for im2col and avg pooling, −∞ for max pooling. */
  padding: [number, number];
  /** Spacing between window taps (1: adjacent). */
  dilation: [number, number];
}

/** One AdamW step's hyperparameters (torch.optim.AdamW's, decoupled weight decay). */
export interface AdamWOptions {
  /** Learning rate. */
  lr: number;
  /** Decay of the first-moment average. */
  beta1: number;
  /** Decay of the second-moment average. */
  beta2: number;
  /** Added to √v̂ in the denominator. */
  eps: number;
  /** Decoupled decay: param −= lr · weightDecay · param before the Adam update. */
  weightDecay: number;
  /** 1-based step count, for bias correction. */
  step: number;
}

/** One tensor of a multi-tensor AdamW step (`adamwMulti`): param, m, v updated in place from grad with the item's own hyperparameters. */
export interface AdamWItem<B> {
  /** The parameter, updated in place. */
  param: View<B>;
  /** Its gradient (read only). */
  grad: View<B>;
  /** First-moment average, updated in place. */
  m: View<B>;
  /** Second-moment average, updated in place. */
  v: View<B>;
  /** The step's hyperparameters for this tensor. */
  opts: AdamWOptions;
}

/** Counter-based random numbers: element i of the output uses counter `offset + i` under key `seed`. */
export interface RandomOptions {
  /** Key of the Threefry-2x32-20 generator: an integer in [0, 2⁵³). */
  seed: number;
  /** Counter of the first element: element i (row-major over out) uses counter offset + i. */
  offset: number;
  /** 'uniform': [0, 1) with 24 random bits; 'normal': standard normal by Box–Muller. */
  distribution: 'uniform' | 'normal';
}

/**
 * The kernels every backend provides: core builds every op from these. Conventions:
 * - `out` views are freshly allocated and contiguous unless stated otherwise; inputs may be strided.
 *   An output's contents on entry are unspecified (storage is reused without clearing, on every
 *   device): a kernel writes every element of `out`.
 * - Broadcasting is resolved by core before the call: inputs arrive already expanded to the output's
 *   shape (stride 0 on broadcast dims), so kernels never broadcast themselves.
 * - Kernels validate nothing that core already validated; they may assume well-formed views.
 */
export interface PrimitiveKernels<B> {
  // ---- elementwise -------------------------------------------------------------------------
  /** out = op(x) elementwise; x has out's shape (strided), out is contiguous. */
  unary(op: UnaryOp, x: View<B>, out: View<B>): void;
  /** out = op(a, b) elementwise; a and b already expanded to out's shape (stride 0 where broadcast) and promoted to one dtype. */
  binary(op: BinaryOp, a: View<B>, b: View<B>, out: View<B>): void;
  /** out = cond ? a : b elementwise; cond is bool, all three expanded to out's shape. */
  where(cond: View<B>, a: View<B>, b: View<B>, out: View<B>): void;
  /** Strided copy with dtype conversion (out may be a strided view: this is also the in-place write path). */
  copy(x: View<B>, out: View<B>): void;
  /** Write `value`, converted to out's dtype, to every element of out. */
  fill(out: View<B>, value: number): void;
  /** Fill out with counter-based random numbers (Threefry-2x32-20, see `cpu/random.ts`): bit-identical on every backend for the same seed and offset. */
  random(out: View<B>, opts: RandomOptions): void;

  // ---- reductions ----------------------------------------------------------------------------
  /** `out.shape` equals `x.shape` with each reduced axis set to 1 (keepdim layout). */
  reduce(op: ReduceOp, x: View<B>, axes: readonly number[], out: View<B>): void;
  /** Index (int32) of the max/min along `axis`; ties take the first. `out.shape` has 1 at `axis`. */
  argReduce(op: 'argmax' | 'argmin', x: View<B>, axis: number, out: View<B>): void;

  // ---- linear algebra ------------------------------------------------------------------------
  /** a: [...batch, M, K], b: [...batch, K, N], out: [...batch, M, N], all of equal rank; batch dims of
   *  a and b already expanded to out's (stride 0 where broadcast). Transposes arrive as strides. */
  matmul(a: View<B>, b: View<B>, out: View<B>): void;

  // ---- indexing ------------------------------------------------------------------------------
  /** out[..i..] = x[..index[..i..]..] along `dim`; index is int32 with out's shape. */
  gather(x: View<B>, dim: number, index: View<B>, out: View<B>): void;
  /** out[..index[..i..]..] += src[..i..] along `dim`, accumulating into `out` (contiguous). */
  scatterAdd(out: View<B>, dim: number, index: View<B>, src: View<B>): void;
  /** out = x with the slices along `dim` picked by the 1-D int32 `index`. With an `addend` (float32 x, out and
   *  addend; as many elements as out, in a shape of its own with any strides), out's k-th element in row-major
   *  order is that value plus the addend's k-th: bit for bit indexSelect followed by `binary('add')`. */
  indexSelect(x: View<B>, dim: number, index: View<B>, out: View<B>, addend?: View<B> | null): void;
  /** out[.., index[i], ..] += src[.., i, ..] along `dim`; `out` contiguous. Embedding backward. With `zeroed`,
   *  out arrives uninitialised and every element is written: zero plus the slices added at it (equal to filling
   *  out with 0 first, bit for bit). With an `addend` as well (float32 out, src and addend; addend any strides
   *  over out's shape), out = addend + that sum, bit for bit that indexAdd followed by `binary('add')`. */
  indexAdd(out: View<B>, dim: number, index: View<B>, src: View<B>, zeroed?: boolean, addend?: View<B> | null): void;

  // ---- convolution and pooling ---------------------------------------------------------------
  /** x [N, C, H, W] → cols [N, C·kh·kw, Ho·Wo] (zeros where the window hangs over the padding). */
  im2col(x: View<B>, g: Conv2dGeometry, cols: View<B>): void;
  /** The adjoint of im2col: dx [N, C, H, W] = the sum into each pixel of the cols [N, C·kh·kw, Ho·Wo] entries read from it (every element written; dx arrives uninitialised). */
  col2im(cols: View<B>, g: Conv2dGeometry, dx: View<B>): void;
  /** out [N, C, Ho, Wo] and, for max, the argmax (int32 flat index into H·W) per output. */
  pool2d(op: 'max' | 'avg', x: View<B>, g: Conv2dGeometry, out: View<B>, argmax: View<B> | null): void;
  /** The adjoint of pool2d: dy [N, C, Ho, Wo] into dx [N, C, H, W] (every element written; dx arrives uninitialised); max routes each gradient to its argmax, avg spreads it over the window's taps. */
  pool2dBackward(op: 'max' | 'avg', dy: View<B>, argmax: View<B> | null, g: Conv2dGeometry, dx: View<B>): void;
}

/**
 * Fused kernels: optimisations of ops that core also computes from the primitives (the same
 * decompositions that give their higher-order gradients), so a backend may leave any of them out
 * and the op runs decomposed there. A backend that has one is tested against the decomposition
 * (packages/core/test/fused_parity.test.ts). Conventions as for `PrimitiveKernels`; the "rows"
 * kernels (softmax, layerNorm, crossEntropy) take contiguous inputs and work on the last dimension,
 * the number of rows being the product of the leading dims.
 */
export interface FusedKernels<B> {
  /**
   * `binary` with one operand a JS number instead of a view — op(a, scalar), or op(scalar, a) when
   * `scalarFirst`. The scalar is converted to `a.dtype` exactly as `fill` stores it, so results
   * equal `binary` with a filled 0-d buffer broadcast to out's shape (which is what core runs without it).
   */
  binaryScalar(op: BinaryOp, a: View<B>, scalar: number, scalarFirst: boolean, out: View<B>): void;

  /** Softmax (log-softmax when `log`) over the last dimension of contiguous x, rows stabilised by their maximum. */
  softmax(x: View<B>, out: View<B>, log: boolean): void;
  /** Given y = softmax(x) (or log-softmax when `log`), and dy, write dx. */
  softmaxBackward(y: View<B>, dy: View<B>, out: View<B>, log: boolean): void;
  /** Normalizes over the last dim D. weight/bias are [D] or null. mean/rstd are [rows] float32 outputs. */
  layerNorm(x: View<B>, weight: View<B> | null, bias: View<B> | null, eps: number,
    out: View<B>, mean: View<B>, rstd: View<B>): void;
  /** dx always; dweight/dbias ([D]) when non-null. */
  layerNormBackward(x: View<B>, weight: View<B> | null, mean: View<B>, rstd: View<B>, dy: View<B>,
    dx: View<B>, dweight: View<B> | null, dbias: View<B> | null): void;
  /**
   * logits [N, C], targets int32 [N], weight [C] or null. Writes per-row loss [N] and the row's
   * log-sum-exp [N]. Row loss = (1-ε)·w[t]·(lse - x[t]) + (ε/C)·Σ_c w[c]·(lse - x[c]); 0 when t == ignoreIndex.
   * `rowWeight` [N], when given, receives what each row counts in a mean's denominator: w[t] (1 without
   * class weights), 0 when t == ignoreIndex.
   */
  crossEntropy(logits: View<B>, targets: View<B>, weight: View<B> | null, opts: CrossEntropyOptions,
    loss: View<B>, lse: View<B>, rowWeight?: View<B> | null): void;
  /** dlogits [N, C] from the per-row upstream gradient dloss [N] (any stride: 0 gives every row one value).
   *  With `divisor` (one element; dloss and divisor float32 or float64), row n's upstream gradient is
   *  dloss[n] / divisor rounded to dloss's dtype, as a division kernel writing it first would give (a mean). */
  crossEntropyBackward(logits: View<B>, targets: View<B>, weight: View<B> | null, lse: View<B>,
    dloss: View<B>, opts: CrossEntropyOptions, dlogits: View<B>, divisor?: View<B> | null): void;

  /**
   * Scaled dot-product attention. q [B, H, Tq, D], k/v [B, H, Tk, D]; mask is null or an additive
   * float mask broadcastable as [B, H, Tq, Tk] (already expanded, stride 0 on broadcast dims).
   * Causal masking aligns the last query with the last key. Writes out [B, H, Tq, D] and lse [B, H, Tq].
   * `probs`, passed only where the backend's `attentionSavesProbs` said yes for these sizes (see
   * `AttentionProbsKernels`), also receives the probabilities P [B, H, Tq, Tk]; other backends ignore it.
   */
  attention(q: View<B>, k: View<B>, v: View<B>, mask: View<B> | null, opts: AttentionOptions,
    out: View<B>, lse: View<B>, probs?: View<B> | null): void;
  /**
   * The gradients dq, dk, dv of `attention` from dout, recomputing the probabilities from q, k and the
   * saved lse — or reading them from `probs`, where the forward was given it and filled it.
   */
  attentionBackward(q: View<B>, k: View<B>, v: View<B>, mask: View<B> | null, opts: AttentionOptions,
    out: View<B>, lse: View<B>, dout: View<B>, dq: View<B>, dk: View<B>, dv: View<B>, probs?: View<B> | null): void;

  /** In place: param, m, v updated with one AdamW step given grad (all contiguous, same shape). */
  adamw(param: View<B>, grad: View<B>, m: View<B>, v: View<B>, opts: AdamWOptions): void;
  /**
   * `adamw` on every item, in as few launches as the backend allows: each item's results equal
   * `adamw`'s on it bit for bit. No item's param, m or v overlaps another item's tensors.
   */
  adamwMulti(items: readonly AdamWItem<B>[]): void;

  /**
   * A chain of elementwise ops as one kernel (elementwise/fused.ts): every view float32, every output
   * contiguous with the iteration shape outs[0].shape, inputs broadcast to it (any strides); results
   * equal the steps run one kernel at a time with float32 storage between them, within each op's contract.
   */
  fusedElementwise(program: FusedProgram, inputs: readonly View<B>[], outs: readonly View<B>[]): void;
}

/** The fused kernels' names: what a backend may leave out. */
export const FUSED_KERNELS = [
  'binaryScalar', 'softmax', 'softmaxBackward', 'layerNorm', 'layerNormBackward', 'crossEntropy', 'crossEntropyBackward',
  'attention', 'attentionBackward', 'adamw', 'adamwMulti', 'fusedElementwise',
] as const satisfies readonly (keyof FusedKernels<unknown>)[];

/**
 * Fused recurrent cells (formulas and layouts in cpu/rnn.ts): optional like the fused kernels, and
 * outside `KernelSet` — the cpu sets have them, WebGPU runs the decomposition. Gates are [B, G·H]
 * (LSTM i, f, g, o; GRU r, z, n), states [B, H], `acts` the activations the backward reads ([B, 4H]).
 */
export interface RecurrentKernels<B> {
  /** h' = tanh(xg + hg), or relu with `relu`, of one Elman step (all [B, H]). */
  rnnCell(xg: View<B>, hg: View<B>, hNew: View<B>, relu: boolean): void;
  /** The gradient of the Elman pre-activation from h' and dh' = dhNew + dhMore: dh'·(1 − h'²), or dh'·[h' > 0] with `relu`. */
  rnnCellBackward(hNew: View<B>, dhNew: View<B>, dhMore: View<B> | null, dpre: View<B>, relu: boolean): void;
  /** h', c' (and acts) of one LSTM step from gates = xg + hg (hg may be null) and c; acts may be xg or hg itself. */
  lstmCell(xg: View<B>, hg: View<B> | null, c: View<B>, h: View<B>, cNew: View<B>, acts: View<B> | null): void;
  /** dgates (the gradient of xg and of hg) and dc from acts, c, c' and the gradients of h' (dh + dhMore) and c' (null: zero). */
  lstmCellBackward(acts: View<B>, c: View<B>, cNew: View<B>, dh: View<B> | null, dhMore: View<B> | null, dcNew: View<B> | null, dgates: View<B>, dc: View<B> | null): void;
  /** h' (and acts = r, z, n, W_hn·h + b_hn) of one GRU step from xg, hg [B, 3H], the hidden bias [3H] or null, and h. */
  gruCell(xg: View<B>, hg: View<B>, bias: View<B> | null, h: View<B>, hNew: View<B>, acts: View<B> | null): void;
  /** dxg, dhg [B, 3H] from acts, h and dh' = dhNew + dhMore; adds dh'·z (the part of dh not through W_hh) into dh when non-null. */
  gruCellBackward(acts: View<B>, h: View<B>, dhNew: View<B>, dhMore: View<B> | null, dxg: View<B>, dhg: View<B>, dh: View<B> | null): void;
}

/** The recurrent kernels' names. */
export const RECURRENT_KERNELS = ['rnnCell', 'rnnCellBackward', 'lstmCell', 'lstmCellBackward', 'gruCell', 'gruCellBackward'] as const satisfies readonly (keyof RecurrentKernels<unknown>)[];

/** Weight-only quantization schemes (layouts in cpu/quant_format.ts). */
export const QUANT_SCHEMES = ['int8', 'int4', 'nf4'] as const;
/** One of QUANT_SCHEMES. */
export type QuantScheme = (typeof QUANT_SCHEMES)[number];

/**
 * A quantized weight W [rows, cols] (a Linear's [out, in]) as its kernels read it: per row,
 * ceil(cols / codesPerWord) int32 words of codes (8 four-bit or 4 eight-bit codes per word, code j
 * of a word in bits [b·j, b·j + b)), and per row ceil(cols / groupSize) float32 scales (int4: and
 * 4-bit zero points, eight per int32 over the flat list of groups). w[n, k] = scales[n, g]·(decode(code[n, k]) − zero[n, g]), g = ⌊k / groupSize⌋;
 * decode is the signed byte (int8), the code (int4) or the NF4 codebook value (nf4). With
 * `absmaxQ` (double-quantized nf4) a group's scale is itself scales[⌊i/256⌋]·byte_i + absmaxOffset,
 * i = n·groupsPerRow + g the flat group index, byte_i the i-th signed byte of absmaxQ. All contiguous.
 */
export interface QuantWeightView<B> {
  /** int8, int4 or nf4. */
  scheme: QuantScheme;
  /** Output features (rows of W). */
  rows: number;
  /** Input features (columns of W). */
  cols: number;
  /** Columns per scale group. */
  groupSize: number;
  /** int32 packed codes [rows, wordsPerRow]. */
  qdata: View<B>;
  /** float32 group scales [rows, groupsPerRow], or the second-level scales with absmaxQ. */
  scales: View<B>;
  /** int4: the zero points as 4-bit codes, eight per int32 over the flat groups [⌈rows·groupsPerRow/8⌉]; otherwise null. */
  zeros: View<B> | null;
  /** Double-quantized nf4: the absmax bytes, four per int32; otherwise null. */
  absmaxQ: View<B> | null;
  /** Double-quantized nf4: the mean absmax; 0 otherwise. */
  absmaxOffset: number;
}

/**
 * Matmuls that read a quantized weight as codes and scales (no full-precision copy of W). Optional:
 * they have no decomposition into the primitives (that would materialize W), so core raises a typed
 * error on a backend without them.
 */
export interface QuantKernels<B> {
  /** out [M, rows] = x [M, cols] · Wᵀ (+ bias [rows]); x and out contiguous. */
  quantMatmul(x: View<B>, w: QuantWeightView<B>, bias: View<B> | null, out: View<B>): void;
  /** out [M, cols] = dy [M, rows] · W: the gradient of quantMatmul w.r.t. x. */
  quantMatmulTransposed(dy: View<B>, w: QuantWeightView<B>, out: View<B>): void;
}

/**
 * A matmul whose product feeds a fused elementwise program instead of memory (webgpu/matmul_epilogue.ts).
 * Optional and outside `KernelSet`: `compile` joins a matmul and the elementwise kernels that read
 * its product into one launch where the backend has it. Value 0 of `program` is a·b (a, b as for
 * `matmul`); values 1.. are `inputs`, views of the product's shape [...batch, M, N] (any strides);
 * `outs` are contiguous views of that shape; every view float32. Results equal `matmul` into a
 * float32 buffer followed by `fusedElementwise(program, [that buffer, ...inputs], outs)`.
 */
export interface EpilogueKernels<B> {
  /**
   * outs = program(a·b, ...inputs), the product never stored unless the program lists value 0 as an
   * output; with `rowSums` (a contiguous float32 [...batch, M] view), also Σ_k a[..., m, k] there,
   * summed in an order of the kernel's own (the bias gradient beside a weight gradient dYᵀ·X).
   */
  matmulEpilogue(a: View<B>, b: View<B>, program: FusedProgram, inputs: readonly View<B>[], outs: readonly View<B>[], rowSums?: View<B> | null): void;
}

/**
 * The layerNorm backward with the residual path's gradient added to its dx (webgpu/layer_norm.ts).
 * Optional and outside `KernelSet`, like `matmulEpilogue`: `compile` joins a `layerNormBackward`
 * and the float32 `add` that reads its dx into one launch where the backend has it (the CPU tiers
 * leave it out: one launch fewer saves them nothing, the add being a pass over memory either way).
 */
export interface LayerNormAddKernels<B> {
  /**
   * Arguments as for `layerNormBackward`, plus r and out with x's shape (r any strides): out = dx + r,
   * bit for bit as `layerNormBackward` then `binary('add')` — dx rounded to its dtype (out's when dx
   * is null), the sum in f32 rounded to out's. dx is written only when non-null.
   */
  layerNormBackwardAdd(x: View<B>, weight: View<B> | null, mean: View<B>, rstd: View<B>, dy: View<B>, r: View<B>, out: View<B>,
    dx: View<B> | null, dweight: View<B> | null, dbias: View<B> | null): void;
}

/**
 * Attention that keeps its probabilities for the backward (optional, outside `KernelSet`, like
 * PyTorch's math attention keeping its weights): where `attentionSavesProbs` is true, core passes
 * `attention` and then `attentionBackward` one contiguous float32 [B, H, Tq, Tk] view, and the
 * backward reads P from it instead of recomputing it from q, k and lse. The backend answers by size:
 * the view costs B·H·Tq·Tk·4 bytes from the forward to the backward.
 */
export interface AttentionProbsKernels {
  /** Whether `attention` over these sizes fills a `probs` view for `attentionBackward` to read. */
  attentionSavesProbs(B: number, H: number, Tq: number, Tk: number): boolean;
}

/**
 * The contract between core and a backend: every primitive, and whichever fused kernels the
 * backend has (core runs the decomposition of the others). A backend that lacks a primitive does
 * not compile.
 */
export type BackendKernels<B> = PrimitiveKernels<B> & Partial<FusedKernels<B>> & Partial<QuantKernels<B>> & Partial<RecurrentKernels<B>>
  & Partial<EpilogueKernels<B>> & Partial<AttentionProbsKernels> & Partial<LayerNormAddKernels<B>>;

/** A kernel set with every fused kernel: the CPU reference, the WebAssembly and the WebGPU sets. */
export interface KernelSet<B> extends PrimitiveKernels<B>, FusedKernels<B>, QuantKernels<B> {}

// A compile error here names a fused kernel missing from FUSED_KERNELS.
const allFusedListed: Record<Exclude<keyof FusedKernels<unknown>, (typeof FUSED_KERNELS)[number]>, never> = {};
void allFusedListed;
