// The Tensor: a strided view onto refcounted device storage, plus autograd metadata.
// Ops live in ./ops (one definition each); they are attached as methods in ./tensor_methods.ts.
import { contiguousStrides, isContiguous, isFloatDType, numel, type DType, type TypedArray, type View } from '@webgrad/kernels';
import type { Backend, DeviceName } from './backend/backend.js';
import type { Node } from './autograd/node.js';
import { DisposedError, ValueError, fmtShape } from './errors.js';
import { trackTensor, untrackTensor } from './memory.js';
import { Storage } from './storage.js';
import { checkBool } from './validate.js';

/** Nested JavaScript arrays of numbers or booleans, one level per dimension (what `array()` returns and `tensor()` takes). */
export type NestedArray = number | boolean | NestedArray[];

let nextId = 1;

/** An n-dimensional array on a device with a dtype, a strided view of a shared storage, and the autograd links that record how it was computed (torch.Tensor). Methods mirror the op functions: `x.sum(1)` is `sum(x, 1)`. */
export class Tensor {
  /** Marks tensors across package copies (`isTensor`). */
  readonly __isTensor = true;
  /** A process-unique number, shown in errors. */
  readonly id = nextId++;
  /** Size of each dimension, outermost first. */
  readonly shape: readonly number[];
  /** Elements to step in storage per index of each dimension. */
  readonly strides: readonly number[];
  /** Index of the first element in storage. */
  readonly offset: number;
  /** Element type. */
  readonly dtype: DType;
  /** Accumulated gradient of a leaf (or of a tensor that called `retainGrad()`). Owned: no scope sweeps it. */
  grad: Tensor | null = null;
  /** The graph node that produced this tensor; null for leaves and for tensors made without grad. */
  gradFn: Node | null = null;
  /** Non-leaf tensors that should also keep their `.grad`. */
  retainsGrad = false;
  /** For an alias saved for backward: the leaf it stands for, so higher-order gradients reach it. */
  leafSource: Tensor | null = null;
  /** True when `gradFn` is a non-owning link (a node's own saved output), so dispose must not release it. */
  weakGradFn = false;
  /** Optional name, used in error messages and by nn. */
  name?: string;
  #requiresGrad = false;
  #storage: Storage | null;
  readonly #internal: boolean;

  constructor(storage: Storage, shape: readonly number[], dtype: DType, opts: { strides?: readonly number[]; offset?: number; internal?: boolean } = {}) {
    this.#storage = storage;
    this.#device = storage.backend.name;
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze(opts.strides ? [...opts.strides] : contiguousStrides(shape));
    this.offset = opts.offset ?? 0;
    this.dtype = dtype;
    this.#internal = opts.internal ?? false;
    if (!this.#internal) trackTensor(this);
  }

  /** The shared, refcounted device buffer; a DisposedError after `dispose()`. */
  get storage(): Storage {
    if (!this.#storage) throw new DisposedError(`tensor #${this.id}${this.name ? ` (${this.name})` : ''} of shape ${fmtShape(this.shape)} was used after dispose()`);
    return this.#storage;
  }
  /** The backend of the device the storage lives on. */
  get backend(): Backend { return this.storage.backend; }
  /** The device's name, kept past `dispose()` so a disposed tensor still names its device in errors. */
  get device(): DeviceName { return this.#device; }
  readonly #device: DeviceName;

  /** Whether `dispose()` has released the storage. */
  get isDisposed(): boolean { return this.#storage === null; }
  /** Number of dimensions (torch.Tensor.ndim). */
  get ndim(): number { return this.shape.length; }
  /** Number of elements, as `numel()` (not torch's `size()`, which is the shape). */
  get size(): number { return numel(this.shape); }
  /** Number of elements (torch.Tensor.numel). */
  numel(): number { return numel(this.shape); }
  /** True when no graph node produced this tensor: user-created tensors and results made without grad (torch.Tensor.is_leaf). */
  get isLeaf(): boolean { return this.gradFn === null; }

  /** Whether gradients flow to this tensor (torch.Tensor.requires_grad). Setting true on a non-float tensor, or false on a non-leaf, raises a ValueError. */
  get requiresGrad(): boolean { return this.#requiresGrad; }
  /** Turn gradient tracking on or off; see the getter for the errors. */
  set requiresGrad(v: boolean) {
    checkBool('requiresGrad', 'value', v);
    if (v && !isFloatDType(this.dtype)) {
      throw new ValueError(`requiresGrad: only floating-point tensors can require gradients (got ${this.dtype} of shape ${fmtShape(this.shape)}; integer-valued JS arrays infer int32 — pass { dtype: 'float32' })`);
    }
    if (!v && this.gradFn) throw new ValueError('requiresGrad: cannot turn off gradients of a non-leaf tensor; use detach()');
    this.#requiresGrad = v;
  }
  /** In place, like PyTorch's `requires_grad_()`. Returns this. */
  requiresGrad_(v = true): this { this.requiresGrad = checkBool('requiresGrad_', 'value', v); return this; }

  /** The kernel-level view of this tensor: its buffer, dtype, shape, strides and offset. */
  kernelView(): View<unknown> {
    return { buffer: this.storage.buffer, dtype: this.dtype, shape: this.shape, strides: this.strides, offset: this.offset };
  }
  /** @deprecated The old name of `kernelView()` (it never wrote in place). */
  view_(): View<unknown> { return this.kernelView(); }

  /** Keep `.grad` on this non-leaf tensor during backward. */
  retainGrad(): this {
    this.retainsGrad = true;
    if (this.gradFn) this.gradFn.retained = new WeakRef(this);
    return this;
  }

  /** Whether the elements are laid out row-major without gaps (torch.Tensor.is_contiguous). */
  isContiguous(): boolean { return isContiguous(this); }

  /** Release this tensor's hold on its storage (and on its graph node). Idempotent. */
  dispose(): void {
    const s = this.#storage;
    if (!s) return;
    this.#storage = null;
    if (!this.#internal) untrackTensor(this);
    s.release();
    if (this.gradFn && !this.weakGradFn) this.gradFn.decRef();
    this.gradFn = null;
    this.leafSource = null;
  }
  /** `dispose()`, for `using` declarations. */
  [Symbol.dispose](): void { this.dispose(); }

  /** A new tensor object sharing this storage (an internal alias is invisible to scopes and counts). */
  alias(opts: { internal?: boolean } = {}): Tensor {
    return new Tensor(this.storage.retain(), this.shape, this.dtype, { strides: this.strides, offset: this.offset, internal: opts.internal });
  }

  /** `Tensor(shape=[…], dtype=…, device=…)`; values are not read. */
  toString(): string {
    return `Tensor(shape=${fmtShape(this.shape)}, dtype=${this.dtype}, device=${this.device}${this.requiresGrad ? ', requiresGrad' : ''}${this.isDisposed ? ', disposed' : ''})`;
  }
}

/** A number or boolean that stands for a 0-d tensor in binary ops. */
export type Scalar = number | boolean;
/** A tensor or a scalar, as binary ops accept. */
export type TensorLike = Tensor | Scalar;
export type { TypedArray };
