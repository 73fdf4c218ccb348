// The Tensor: a strided view onto refcounted device storage, plus autograd metadata.
// Ops live in ./ops (one definition each); they are attached as methods in ./tensor_methods.ts.
import { contiguousStrides, isContiguous, isFloatDType, numel, type DType, type TypedArray, type View } from '@webgrad/kernels';
import type { Backend, DeviceName } from './backend/backend.js';
import type { Node } from './autograd/node.js';
import { DisposedError, ValueError, fmtShape } from './errors.js';
import { trackTensor, untrackTensor } from './memory.js';
import { Storage } from './storage.js';
import { checkBool } from './validate.js';

export type NestedArray = number | boolean | NestedArray[];

let nextId = 1;

export class Tensor {
  readonly __isTensor = true;
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
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

  get storage(): Storage {
    if (!this.#storage) throw new DisposedError(`tensor #${this.id}${this.name ? ` (${this.name})` : ''} of shape ${fmtShape(this.shape)} was used after dispose()`);
    return this.#storage;
  }
  get backend(): Backend { return this.storage.backend; }
  /** The device's name, kept past `dispose()` so a disposed tensor still names its device in errors. */
  get device(): DeviceName { return this.#device; }
  readonly #device: DeviceName;

  get isDisposed(): boolean { return this.#storage === null; }
  get ndim(): number { return this.shape.length; }
  get size(): number { return numel(this.shape); }
  numel(): number { return numel(this.shape); }
  get isLeaf(): boolean { return this.gradFn === null; }

  get requiresGrad(): boolean { return this.#requiresGrad; }
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
  [Symbol.dispose](): void { this.dispose(); }

  /** A new tensor object sharing this storage (an internal alias is invisible to scopes and counts). */
  alias(opts: { internal?: boolean } = {}): Tensor {
    return new Tensor(this.storage.retain(), this.shape, this.dtype, { strides: this.strides, offset: this.offset, internal: opts.internal });
  }

  toString(): string {
    return `Tensor(shape=${fmtShape(this.shape)}, dtype=${this.dtype}, device=${this.device}${this.requiresGrad ? ', requiresGrad' : ''}${this.isDisposed ? ', disposed' : ''})`;
  }
}

export type Scalar = number | boolean;
export type TensorLike = Tensor | Scalar;
export type { TypedArray };
