var __defProp = Object.defineProperty;
var __getOwnPropNames = Object.getOwnPropertyNames;
var __esm = (fn, res, err) => function __init() {
  if (err) throw err[0];
  try {
    return fn && (res = (0, fn[__getOwnPropNames(fn)[0]])(fn = 0)), res;
  } catch (e) {
    throw err = [e], e;
  }
};
var __export = (target, all) => {
  for (var name in all)
    __defProp(target, name, { get: all[name], enumerable: true });
};

// packages/core/src/errors.ts
var WebgradError, ShapeError, DTypeError, DeviceError, DisposedError, IndexError, AutogradError, ValueError, fmtShape;
var init_errors = __esm({
  "packages/core/src/errors.ts"() {
    "use strict";
    WebgradError = class extends Error {
      constructor(message) {
        super(message);
        this.name = new.target.name;
      }
    };
    ShapeError = class extends WebgradError {
    };
    DTypeError = class extends WebgradError {
    };
    DeviceError = class extends WebgradError {
    };
    DisposedError = class extends WebgradError {
    };
    IndexError = class extends WebgradError {
    };
    AutogradError = class extends WebgradError {
    };
    ValueError = class extends WebgradError {
    };
    fmtShape = (s) => `[${s.join(", ")}]`;
  }
});

// packages/core/src/storage.ts
var liveBytes, liveBuffers, Storage;
var init_storage = __esm({
  "packages/core/src/storage.ts"() {
    "use strict";
    liveBytes = /* @__PURE__ */ new Map();
    liveBuffers = /* @__PURE__ */ new Map();
    Storage = class _Storage {
      constructor(backend, buffer, dtype, length) {
        this.backend = backend;
        this.buffer = buffer;
        this.dtype = dtype;
        this.length = length;
        this.bytes = backend.byteSize(dtype, length);
        const d = backend.name;
        liveBytes.set(d, (liveBytes.get(d) ?? 0) + this.bytes);
        liveBuffers.set(d, (liveBuffers.get(d) ?? 0) + 1);
      }
      backend;
      buffer;
      dtype;
      length;
      refs = 1;
      bytes;
      /** Bumped by every in-place write; autograd compares it against the value seen at save time. */
      version = 0;
      static allocate(backend, dtype, length) {
        return new _Storage(backend, backend.allocate(dtype, length), dtype, length);
      }
      retain() {
        this.refs++;
        return this;
      }
      release() {
        if (--this.refs > 0) return;
        const d = this.backend.name;
        liveBytes.set(d, liveBytes.get(d) - this.bytes);
        liveBuffers.set(d, liveBuffers.get(d) - 1);
        this.backend.free(this.buffer, this.dtype, this.length);
      }
    };
  }
});

// packages/core/src/memory.ts
function trackTensor(t) {
  liveTensors.set(t.device, (liveTensors.get(t.device) ?? 0) + 1);
  scopes[scopes.length - 1]?.add(t);
}
function untrackTensor(t) {
  liveTensors.set(t.device, liveTensors.get(t.device) - 1);
  for (let i = scopes.length - 1; i >= 0; i--) if (scopes[i].delete(t)) break;
}
function keep(t) {
  for (const s of scopes) s.delete(t);
  return t;
}
function collect(value, out, seen = /* @__PURE__ */ new Set()) {
  if (value === null || typeof value !== "object" || seen.has(value)) return;
  seen.add(value);
  if (value.__isTensor) {
    out.add(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collect(v, out, seen);
    return;
  }
  if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collect(v, out, seen);
}
function closeScope(s, survivors) {
  const parent = scopes[scopes.length - 1];
  for (const t of s) {
    if (survivors.has(t)) parent?.add(t);
    else if (!t.isDisposed) t.dispose();
  }
}
function tidy(fn) {
  const s = /* @__PURE__ */ new Set();
  scopes.push(s);
  let result;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    closeScope(s, /* @__PURE__ */ new Set());
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) {
    closeScope(s, /* @__PURE__ */ new Set());
    throw new ValueError("tidy: the function must be synchronous (it returned a Promise); use `using s = scope()` in async code");
  }
  const survivors = /* @__PURE__ */ new Set();
  collect(result, survivors);
  closeScope(s, survivors);
  return result;
}
var scopes, liveTensors;
var init_memory = __esm({
  "packages/core/src/memory.ts"() {
    "use strict";
    init_errors();
    init_storage();
    scopes = [];
    liveTensors = /* @__PURE__ */ new Map();
  }
});

// packages/core/src/shape.ts
function contiguousStrides(s) {
  const st = new Array(s.length);
  let acc = 1;
  for (let i = s.length - 1; i >= 0; i--) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}
function broadcastShapes(op, ...shapes) {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i];
      if (out[o] === 1) out[o] = d;
      else if (d !== 1 && d !== out[o]) {
        throw new ShapeError(`${op}: shapes ${shapes.map(fmtShape).join(" and ")} cannot be broadcast together (dim ${o - rank}: ${out[o]} vs ${d})`);
      }
    }
  }
  return out;
}
function normDim(op, dim, rank) {
  const r = Math.max(rank, 1);
  if (!Number.isInteger(dim) || dim < -r || dim >= r) {
    throw new IndexError(`${op}: dim ${dim} is out of range for a tensor of rank ${rank} (expected in [${-r}, ${r - 1}])`);
  }
  return dim < 0 ? dim + r : dim;
}
function normDims(op, dims, rank) {
  if (dims === void 0) return [...Array(rank).keys()];
  const list2 = typeof dims === "number" ? [dims] : dims;
  const out = list2.map((d) => normDim(op, d, rank));
  if (new Set(out).size !== out.length) throw new IndexError(`${op}: dims ${fmtShape(list2)} repeat a dimension`);
  return out.sort((a, b) => a - b);
}
function checkShape(op, shape) {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`${op}: invalid shape ${fmtShape(shape)}: sizes must be non-negative integers`);
  }
}
var numel, shapesEqual;
var init_shape = __esm({
  "packages/core/src/shape.ts"() {
    "use strict";
    init_errors();
    numel = (s) => s.reduce((a, b) => a * b, 1);
    shapesEqual = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
  }
});

// packages/core/src/tensor.ts
var nextId, Tensor;
var init_tensor = __esm({
  "packages/core/src/tensor.ts"() {
    "use strict";
    init_errors();
    init_memory();
    init_shape();
    nextId = 1;
    Tensor = class _Tensor {
      __isTensor = true;
      id = nextId++;
      shape;
      strides;
      offset;
      dtype;
      /** Accumulated gradient of a leaf (or of a tensor that called `retainGrad()`). Owned: no scope sweeps it. */
      grad = null;
      /** The graph node that produced this tensor; null for leaves and for tensors made without grad. */
      gradFn = null;
      /** Non-leaf tensors that should also keep their `.grad`. */
      retainsGrad = false;
      /** For an alias saved for backward: the leaf it stands for, so higher-order gradients reach it. */
      leafSource = null;
      /** True when `gradFn` is a non-owning link (a node's own saved output), so dispose must not release it. */
      weakGradFn = false;
      /** Optional name, used in error messages and by nn. */
      name;
      #requiresGrad = false;
      #storage;
      #internal;
      constructor(storage, shape, dtype, opts = {}) {
        this.#storage = storage;
        this.shape = Object.freeze([...shape]);
        this.strides = Object.freeze(opts.strides ? [...opts.strides] : contiguousStrides(shape));
        this.offset = opts.offset ?? 0;
        this.dtype = dtype;
        this.#internal = opts.internal ?? false;
        if (!this.#internal) trackTensor(this);
      }
      get storage() {
        if (!this.#storage) throw new DisposedError(`tensor #${this.id}${this.name ? ` (${this.name})` : ""} of shape ${fmtShape(this.shape)} was used after dispose()`);
        return this.#storage;
      }
      get backend() {
        return this.storage.backend;
      }
      get device() {
        return (this.#storage ?? this.#lastBackend).backend.name;
      }
      #lastBackend;
      get isDisposed() {
        return this.#storage === null;
      }
      get ndim() {
        return this.shape.length;
      }
      get size() {
        return numel(this.shape);
      }
      numel() {
        return numel(this.shape);
      }
      get isLeaf() {
        return this.gradFn === null;
      }
      get requiresGrad() {
        return this.#requiresGrad;
      }
      set requiresGrad(v) {
        if (v && this.dtype !== "float32" && this.dtype !== "float64") {
          throw new ValueError(`requiresGrad: only floating-point tensors can require gradients (got ${this.dtype} of shape ${fmtShape(this.shape)}; integer-valued JS arrays infer int32 \u2014 pass { dtype: 'float32' })`);
        }
        if (!v && this.gradFn) throw new ValueError("requiresGrad: cannot turn off gradients of a non-leaf tensor; use detach()");
        this.#requiresGrad = v;
      }
      /** In place, like PyTorch's `requires_grad_()`. Returns this. */
      requiresGrad_(v = true) {
        this.requiresGrad = v;
        return this;
      }
      /** The kernel-level view of this tensor. */
      view_() {
        return { buffer: this.storage.buffer, dtype: this.dtype, shape: this.shape, strides: this.strides, offset: this.offset };
      }
      isContiguous() {
        let acc = 1;
        for (let i = this.shape.length - 1; i >= 0; i--) {
          if (this.shape[i] !== 1 && this.strides[i] !== acc) return false;
          acc *= this.shape[i];
        }
        return true;
      }
      /** Release this tensor's hold on its storage (and on its graph node). Idempotent. */
      dispose() {
        const s = this.#storage;
        if (!s) return;
        this.#lastBackend = s;
        this.#storage = null;
        if (!this.#internal) untrackTensor(this);
        s.release();
        if (this.gradFn && !this.weakGradFn) this.gradFn.decRef();
        this.gradFn = null;
        this.leafSource = null;
      }
      [Symbol.dispose]() {
        this.dispose();
      }
      /** A new tensor object sharing this storage (an internal alias is invisible to scopes and counts). */
      alias(opts = {}) {
        return new _Tensor(this.storage.retain(), this.shape, this.dtype, { strides: this.strides, offset: this.offset, internal: opts.internal });
      }
      toString() {
        return `Tensor(shape=${fmtShape(this.shape)}, dtype=${this.dtype}, device=${this.device}${this.requiresGrad ? ", requiresGrad" : ""}${this.isDisposed ? ", disposed" : ""})`;
      }
    };
  }
});

// packages/kernels/src/types.ts
var DTYPES, BOOL_RESULT_OPS;
var init_types = __esm({
  "packages/kernels/src/types.ts"() {
    "use strict";
    DTYPES = ["float32", "float64", "int32", "bool"];
    BOOL_RESULT_OPS = /* @__PURE__ */ new Set(["eq", "ne", "lt", "le", "gt", "ge", "logicalAnd", "logicalOr"]);
  }
});

// packages/kernels/src/cpu/strided.ts
function numel2(shape) {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}
function contiguousStrides2(shape) {
  const strides = new Array(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}
function forEachIndex(shape, fn) {
  const total = numel2(shape);
  if (total === 0) return;
  const rank = shape.length;
  const index = new Array(rank).fill(0);
  for (let linear = 0; linear < total; linear++) {
    fn(index, linear);
    for (let d = rank - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
}
function offsetOf(view2, index) {
  let off = view2.offset;
  for (let d = 0; d < index.length; d++) off += index[d] * view2.strides[d];
  return off;
}
function elementOffsets(view2) {
  const { shape, strides } = view2;
  const out = new Float64Array(numel2(shape));
  const rank = shape.length;
  const index = new Array(rank).fill(0);
  let off = view2.offset;
  for (let linear = 0; linear < out.length; linear++) {
    out[linear] = off;
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      off += strides[d];
      if (index[d] < shape[d]) break;
      off -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
  return out;
}
function convertTo(dtype, v) {
  switch (dtype) {
    case "float64":
      return v;
    case "float32":
      return Math.fround(v);
    case "int32":
      return Number.isNaN(v) ? 0 : Math.trunc(v) | 0;
    case "bool":
      return v !== 0 ? 1 : 0;
  }
}
function readAt(view2, off) {
  return view2.buffer[off];
}
function writeAt(view2, off, v) {
  view2.buffer[off] = convertTo(view2.dtype, v);
}
function readAll(view2) {
  const offs = elementOffsets(view2);
  const out = new Float64Array(offs.length);
  const buf = view2.buffer;
  for (let i = 0; i < offs.length; i++) out[i] = buf[offs[i]];
  return out;
}
function writeAll(view2, values) {
  const offs = elementOffsets(view2);
  if (values.length !== offs.length) {
    throw new RangeError(`writeAll: ${values.length} values for a view of ${offs.length} elements (shape [${view2.shape.join(", ")}])`);
  }
  for (let i = 0; i < offs.length; i++) writeAt(view2, offs[i], values[i]);
}
function rowsOf(shape) {
  if (shape.length === 0) return { rows: 1, cols: 1 };
  const cols = shape[shape.length - 1];
  return { rows: numel2(shape.slice(0, -1)), cols };
}
var init_strided = __esm({
  "packages/kernels/src/cpu/strided.ts"() {
    "use strict";
  }
});

// packages/kernels/src/cpu/adamw.ts
function adamw(param, grad2, m2, v, opts) {
  const { lr, beta1, beta2, eps, weightDecay, step } = opts;
  const bc1 = 1 - Math.pow(beta1, step);
  const bc2 = 1 - Math.pow(beta2, step);
  const ps = readAll(param);
  const gs = readAll(grad2);
  const ms = readAll(m2);
  const vs = readAll(v);
  const pOff = elementOffsets(param);
  const mOff = elementOffsets(m2);
  const vOff = elementOffsets(v);
  for (let i = 0; i < ps.length; i++) {
    const g = gs[i];
    let p = ps[i] - lr * weightDecay * ps[i];
    const mi = beta1 * ms[i] + (1 - beta1) * g;
    const vi = beta2 * vs[i] + (1 - beta2) * g * g;
    p -= lr * (mi / bc1) / (Math.sqrt(vi / bc2) + eps);
    writeAt(param, pOff[i], p);
    writeAt(m2, mOff[i], mi);
    writeAt(v, vOff[i], vi);
  }
}
var init_adamw = __esm({
  "packages/kernels/src/cpu/adamw.ts"() {
    "use strict";
    init_strided();
  }
});

// packages/kernels/src/cpu/attention.ts
function dimsOf(q, k, v) {
  const [B, H, Tq, D] = q.shape;
  return { B, H, Tq, D, Tk: k.shape[2], Dv: v.shape[3] };
}
function scores(d, bh, qs, ks, ms, opts) {
  const { Tq, Tk, D } = d;
  const s = new Float64Array(Tq * Tk);
  for (let i = 0; i < Tq; i++) {
    for (let j = 0; j < Tk; j++) {
      if (opts.causal && j > i + (Tk - Tq)) {
        s[i * Tk + j] = -Infinity;
        continue;
      }
      let dot = 0;
      for (let c = 0; c < D; c++) dot += qs[(bh * Tq + i) * D + c] * ks[(bh * Tk + j) * D + c];
      s[i * Tk + j] = dot * opts.scale + (ms ? ms[(bh * Tq + i) * Tk + j] : 0);
    }
  }
  return s;
}
function attention(q, k, v, mask, opts, out, lse) {
  const d = dimsOf(q, k, v);
  const { B, H, Tq, Tk, Dv } = d;
  const qs = readAll(q);
  const ks = readAll(k);
  const vs = readAll(v);
  const ms = mask ? readAll(mask) : null;
  const os = new Float64Array(B * H * Tq * Dv);
  const lses = new Float64Array(B * H * Tq);
  for (let bh = 0; bh < B * H; bh++) {
    const s = scores(d, bh, qs, ks, ms, opts);
    for (let i = 0; i < Tq; i++) {
      let m2 = -Infinity;
      for (let j = 0; j < Tk; j++) m2 = Math.max(m2, s[i * Tk + j]);
      if (m2 === -Infinity) {
        lses[bh * Tq + i] = -Infinity;
        continue;
      }
      let sum2 = 0;
      for (let j = 0; j < Tk; j++) sum2 += Math.exp(s[i * Tk + j] - m2);
      const l = m2 + Math.log(sum2);
      lses[bh * Tq + i] = l;
      for (let j = 0; j < Tk; j++) {
        const p = Math.exp(s[i * Tk + j] - l);
        if (p === 0) continue;
        for (let c = 0; c < Dv; c++) os[(bh * Tq + i) * Dv + c] += p * vs[(bh * Tk + j) * Dv + c];
      }
    }
  }
  writeAll(out, os);
  writeAll(lse, lses);
}
function attentionBackward(q, k, v, mask, opts, out, lse, dout, dq, dk, dv) {
  const d = dimsOf(q, k, v);
  const { B, H, Tq, Tk, D, Dv } = d;
  const qs = readAll(q);
  const ks = readAll(k);
  const vs = readAll(v);
  const ms = mask ? readAll(mask) : null;
  const os = readAll(out);
  const lses = readAll(lse);
  const dos = readAll(dout);
  const dqs = new Float64Array(qs.length);
  const dks = new Float64Array(ks.length);
  const dvs = new Float64Array(vs.length);
  for (let bh = 0; bh < B * H; bh++) {
    const s = scores(d, bh, qs, ks, ms, opts);
    for (let i = 0; i < Tq; i++) {
      const l = lses[bh * Tq + i];
      if (l === -Infinity) continue;
      const qi = (bh * Tq + i) * D;
      const oi = (bh * Tq + i) * Dv;
      let delta = 0;
      for (let c = 0; c < Dv; c++) delta += dos[oi + c] * os[oi + c];
      for (let j = 0; j < Tk; j++) {
        const p = Math.exp(s[i * Tk + j] - l);
        if (p === 0) continue;
        const kj = (bh * Tk + j) * D;
        const vj = (bh * Tk + j) * Dv;
        let dp = 0;
        for (let c = 0; c < Dv; c++) {
          dvs[vj + c] += p * dos[oi + c];
          dp += dos[oi + c] * vs[vj + c];
        }
        const ds = p * (dp - delta) * opts.scale;
        for (let c = 0; c < D; c++) {
          dqs[qi + c] += ds * ks[kj + c];
          dks[kj + c] += ds * qs[qi + c];
        }
      }
    }
  }
  writeAll(dq, dqs);
  writeAll(dk, dks);
  writeAll(dv, dvs);
}
var init_attention = __esm({
  "packages/kernels/src/cpu/attention.ts"() {
    "use strict";
    init_strided();
  }
});

// packages/kernels/src/cpu/conv.ts
function convOutputSize(size, k, s, p, d) {
  return Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;
}
function geom(imageShape, g) {
  const [N, C, H, W] = imageShape;
  const [kh, kw] = g.kernel;
  const [sh, sw] = g.stride;
  const [ph, pw] = g.padding;
  const [dh, dw] = g.dilation;
  return {
    N,
    C,
    H,
    W,
    kh,
    kw,
    sh,
    sw,
    ph,
    pw,
    dh,
    dw,
    Ho: convOutputSize(H, kh, sh, ph, dh),
    Wo: convOutputSize(W, kw, sw, pw, dw)
  };
}
function forEachTap(t, fn) {
  for (let n = 0; n < t.N; n++)
    for (let c = 0; c < t.C; c++)
      for (let oh = 0; oh < t.Ho; oh++)
        for (let ow = 0; ow < t.Wo; ow++)
          for (let i = 0; i < t.kh; i++)
            for (let j = 0; j < t.kw; j++)
              fn(n, c, oh, ow, i, j, oh * t.sh - t.ph + i * t.dh, ow * t.sw - t.pw + j * t.dw);
}
function im2col(x2, g, cols) {
  const t = geom(x2.shape, g);
  const xs = readAll(x2);
  const cs = new Float64Array(t.N * t.C * t.kh * t.kw * t.Ho * t.Wo);
  forEachTap(t, (n, c, oh, ow, i, j, h, w) => {
    if (inImage(t, h, w)) cs[colIndex(t, n, c, oh, ow, i, j)] = xs[pixIndex(t, n, c, h, w)];
  });
  writeAll(cols, cs);
}
function col2im(cols, g, dx) {
  const t = geom(dx.shape, g);
  const cs = readAll(cols);
  const xs = new Float64Array(t.N * t.C * t.H * t.W);
  forEachTap(t, (n, c, oh, ow, i, j, h, w) => {
    if (inImage(t, h, w)) xs[pixIndex(t, n, c, h, w)] += cs[colIndex(t, n, c, oh, ow, i, j)];
  });
  writeAll(dx, xs);
}
function avgDivisor(t, oh, ow) {
  let count = 0;
  for (let i = 0; i < t.kh; i++) {
    const h = oh * t.sh - t.ph + i * t.dh;
    for (let j = 0; j < t.kw; j++) {
      const w = ow * t.sw - t.pw + j * t.dw;
      if (h >= -t.ph && h < t.H + t.ph && w >= -t.pw && w < t.W + t.pw) count++;
    }
  }
  return count;
}
function pool2d(op, x2, g, out, argmax2) {
  const t = geom(x2.shape, g);
  const xs = readAll(x2);
  const size = t.N * t.C * t.Ho * t.Wo;
  const ys = new Float64Array(size).fill(op === "max" ? -Infinity : 0);
  const am = new Float64Array(size).fill(-1);
  forEachTap(t, (n, c, oh, ow, _i, _j, h, w) => {
    if (!inImage(t, h, w)) return;
    const o = ((n * t.C + c) * t.Ho + oh) * t.Wo + ow;
    const v = xs[pixIndex(t, n, c, h, w)];
    if (op === "avg") {
      ys[o] += v;
    } else if (am[o] === -1 || ys[o] === ys[o] && (v > ys[o] || v !== v)) {
      ys[o] = v;
      am[o] = h * t.W + w;
    }
  });
  if (op === "avg") {
    for (let n = 0; n < t.N * t.C; n++)
      for (let oh = 0; oh < t.Ho; oh++)
        for (let ow = 0; ow < t.Wo; ow++) ys[(n * t.Ho + oh) * t.Wo + ow] /= avgDivisor(t, oh, ow);
  }
  writeAll(out, ys);
  if (op === "max" && argmax2) writeAll(argmax2, am);
}
function pool2dBackward(op, dy, argmax2, g, dx) {
  const t = geom(dx.shape, g);
  const gs = readAll(dy);
  const xs = new Float64Array(t.N * t.C * t.H * t.W);
  if (op === "max") {
    if (!argmax2) throw new Error("pool2dBackward: max pooling needs the argmax from the forward pass");
    const am = readAll(argmax2);
    const plane = t.H * t.W;
    for (let o = 0; o < gs.length; o++) {
      const nc = Math.floor(o / (t.Ho * t.Wo));
      const a = am[o];
      if (a < 0) continue;
      if (a >= plane) throw new RangeError(`pool2dBackward: argmax ${a} is out of range for an input plane of ${t.H}x${t.W} (valid: 0..${plane - 1})`);
      xs[nc * plane + a] += gs[o];
    }
  } else {
    forEachTap(t, (n, c, oh, ow, _i, _j, h, w) => {
      if (!inImage(t, h, w)) return;
      xs[pixIndex(t, n, c, h, w)] += gs[((n * t.C + c) * t.Ho + oh) * t.Wo + ow] / avgDivisor(t, oh, ow);
    });
  }
  writeAll(dx, xs);
}
var inImage, colIndex, pixIndex;
var init_conv = __esm({
  "packages/kernels/src/cpu/conv.ts"() {
    "use strict";
    init_strided();
    inImage = (t, h, w) => h >= 0 && h < t.H && w >= 0 && w < t.W;
    colIndex = (t, n, c, oh, ow, i, j) => ((n * t.C * t.kh * t.kw + (c * t.kh + i) * t.kw + j) * t.Ho + oh) * t.Wo + ow;
    pixIndex = (t, n, c, h, w) => ((n * t.C + c) * t.H + h) * t.W + w;
  }
});

// packages/kernels/src/cpu/cross_entropy.ts
function logSumExp(xs, base, C) {
  let m2 = -Infinity;
  for (let c = 0; c < C; c++) m2 = Math.max(m2, xs[base + c]);
  if (m2 === -Infinity) return -Infinity;
  let s = 0;
  for (let c = 0; c < C; c++) s += Math.exp(xs[base + c] - m2);
  return m2 + Math.log(s);
}
function checkTarget(kernel, t, C, ignoreIndex) {
  if (t === ignoreIndex) return false;
  if (!(t >= 0 && t < C)) {
    throw new RangeError(`${kernel}: target ${t} is out of range for ${C} classes (valid: 0..${C - 1}, or ignoreIndex ${ignoreIndex})`);
  }
  return true;
}
function crossEntropy(logits, targets, weight, opts, loss, lse) {
  const [N, C] = [logits.shape[0], logits.shape[1]];
  const xs = readAll(logits);
  const ts = readAll(targets);
  const w = weight ? readAll(weight) : new Float64Array(C).fill(1);
  const eps = opts.labelSmoothing;
  const losses = new Float64Array(N);
  const lses = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    const base = n * C;
    const l = logSumExp(xs, base, C);
    lses[n] = l;
    const t = ts[n];
    if (!checkTarget("crossEntropy", t, C, opts.ignoreIndex)) continue;
    let smooth = 0;
    if (eps !== 0) for (let c = 0; c < C; c++) smooth += w[c] * (l - xs[base + c]);
    losses[n] = (1 - eps) * w[t] * (l - xs[base + t]) + eps / C * smooth;
  }
  writeAll(loss, losses);
  writeAll(lse, lses);
}
function crossEntropyBackward(logits, targets, weight, lse, dloss, opts, dlogits) {
  const [N, C] = [logits.shape[0], logits.shape[1]];
  const xs = readAll(logits);
  const ts = readAll(targets);
  const lses = readAll(lse);
  const gs = readAll(dloss);
  const w = weight ? readAll(weight) : new Float64Array(C).fill(1);
  let W = 0;
  for (let c = 0; c < C; c++) W += w[c];
  const eps = opts.labelSmoothing;
  const dx = new Float64Array(N * C);
  for (let n = 0; n < N; n++) {
    const t = ts[n];
    if (!checkTarget("crossEntropyBackward", t, C, opts.ignoreIndex)) continue;
    const base = n * C;
    for (let c = 0; c < C; c++) {
      const p = Math.exp(xs[base + c] - lses[n]);
      const hard = (1 - eps) * w[t] * (p - (c === t ? 1 : 0));
      const smooth = eps / C * (W * p - w[c]);
      dx[base + c] = gs[n] * (hard + smooth);
    }
  }
  writeAll(dlogits, dx);
}
var init_cross_entropy = __esm({
  "packages/kernels/src/cpu/cross_entropy.ts"() {
    "use strict";
    init_strided();
  }
});

// packages/kernels/src/cpu/elementwise.ts
function erf(x2) {
  if (Number.isNaN(x2) || x2 === 0) return x2;
  const ax = Math.abs(x2);
  let r;
  if (ax < 3) {
    const x22 = ax * ax;
    let term = ax;
    let sum2 = ax;
    for (let n = 1; n < 200; n++) {
      term *= 2 * x22 / (2 * n + 1);
      sum2 += term;
      if (term < sum2 * 1e-17) break;
    }
    r = TWO_OVER_SQRT_PI * Math.exp(-x22) * sum2;
  } else if (ax < 6) {
    r = 1 - erfcContinuedFraction(ax);
  } else {
    r = 1;
  }
  return x2 < 0 ? -r : r;
}
function erfcContinuedFraction(x2) {
  let f = x2;
  for (let n = 80; n >= 1; n--) f = x2 + n / 2 / f;
  return ONE_OVER_SQRT_PI * Math.exp(-x2 * x2) / f;
}
function sigmoid(x2) {
  if (x2 >= 0) return 1 / (1 + Math.exp(-x2));
  const e = Math.exp(x2);
  return e / (1 + e);
}
function roundHalfEven(x2) {
  const r = Math.round(x2);
  return Math.abs(x2 - Math.trunc(x2)) === 0.5 ? 2 * Math.round(x2 / 2) : r;
}
function powC(a, b) {
  if (a === 1) return 1;
  if (a === -1 && (b === Infinity || b === -Infinity)) return 1;
  return Math.pow(a, b);
}
function remainder(a, b) {
  let r = a % b;
  if (r !== 0 && r < 0 !== b < 0) r += b;
  return r;
}
function unary(op, x2, out) {
  const f = UNARY_FNS[op];
  const xs = readAll(x2);
  for (let i = 0; i < xs.length; i++) xs[i] = f(xs[i]);
  writeAll(out, xs);
}
function binary(op, a, b, out) {
  const f = BINARY_FNS[op];
  const as = readAll(a);
  const bs = readAll(b);
  const r = new Float64Array(as.length);
  for (let i = 0; i < r.length; i++) r[i] = f(as[i], bs[i]);
  writeAll(out, r);
}
function where(cond, a, b, out) {
  const cs = readAll(cond);
  const as = readAll(a);
  const bs = readAll(b);
  const r = new Float64Array(cs.length);
  for (let i = 0; i < r.length; i++) r[i] = cs[i] !== 0 ? as[i] : bs[i];
  writeAll(out, r);
}
function copy(x2, out) {
  writeAll(out, readAll(x2));
}
function fill(out, value) {
  for (const off of elementOffsets(out)) writeAt(out, off, value);
}
var TWO_OVER_SQRT_PI, ONE_OVER_SQRT_PI, SQRT_2_OVER_PI, SQRT_HALF, UNARY_FNS, truth, BINARY_FNS;
var init_elementwise = __esm({
  "packages/kernels/src/cpu/elementwise.ts"() {
    "use strict";
    init_strided();
    TWO_OVER_SQRT_PI = 1.1283791670955126;
    ONE_OVER_SQRT_PI = 0.5641895835477563;
    SQRT_2_OVER_PI = 0.7978845608028654;
    SQRT_HALF = 0.7071067811865476;
    UNARY_FNS = {
      neg: (x2) => -x2,
      abs: (x2) => Math.abs(x2),
      sign: (x2) => Math.sign(x2),
      exp: (x2) => Math.exp(x2),
      expm1: (x2) => Math.expm1(x2),
      log: (x2) => Math.log(x2),
      log1p: (x2) => Math.log1p(x2),
      sqrt: (x2) => Math.sqrt(x2),
      rsqrt: (x2) => 1 / Math.sqrt(x2),
      square: (x2) => x2 * x2,
      reciprocal: (x2) => 1 / x2,
      sin: (x2) => Math.sin(x2),
      cos: (x2) => Math.cos(x2),
      tanh: (x2) => Math.tanh(x2),
      sigmoid,
      relu: (x2) => Math.max(x2, 0),
      // NaN stays NaN, like torch.relu
      gelu: (x2) => 0.5 * x2 * (1 + erf(x2 * SQRT_HALF)),
      geluTanh: (x2) => 0.5 * x2 * (1 + Math.tanh(SQRT_2_OVER_PI * (x2 + 0.044715 * x2 * x2 * x2))),
      silu: (x2) => x2 * sigmoid(x2),
      softplus: (x2) => Math.max(x2, 0) + Math.log1p(Math.exp(-Math.abs(x2))),
      erf,
      floor: (x2) => Math.floor(x2),
      ceil: (x2) => Math.ceil(x2),
      round: roundHalfEven,
      logicalNot: (x2) => x2 === 0 ? 1 : 0
    };
    truth = (x2) => x2 !== 0;
    BINARY_FNS = {
      add: (a, b) => a + b,
      sub: (a, b) => a - b,
      mul: (a, b) => a * b,
      div: (a, b) => a / b,
      pow: powC,
      maximum: (a, b) => Math.max(a, b),
      // propagates NaN, like torch.maximum
      minimum: (a, b) => Math.min(a, b),
      mod: remainder,
      eq: (a, b) => a === b ? 1 : 0,
      ne: (a, b) => a !== b ? 1 : 0,
      lt: (a, b) => a < b ? 1 : 0,
      le: (a, b) => a <= b ? 1 : 0,
      gt: (a, b) => a > b ? 1 : 0,
      ge: (a, b) => a >= b ? 1 : 0,
      logicalAnd: (a, b) => truth(a) && truth(b) ? 1 : 0,
      logicalOr: (a, b) => truth(a) || truth(b) ? 1 : 0
    };
  }
});

// packages/kernels/src/cpu/indexing.ts
function checkIndex(kernel, i, size, dim) {
  if (!(i >= 0 && i < size)) {
    throw new RangeError(`${kernel}: index ${i} is out of range for dimension ${dim} of size ${size} (valid: 0..${size - 1})`);
  }
}
function gather(x2, dim, index, out) {
  const size = x2.shape[dim];
  const src = new Array(x2.shape.length);
  forEachIndex(out.shape, (p) => {
    const i = readAt(index, offsetOf(index, p));
    checkIndex("gather", i, size, dim);
    for (let d = 0; d < p.length; d++) src[d] = d === dim ? i : p[d];
    writeAt(out, offsetOf(out, p), readAt(x2, offsetOf(x2, src)));
  });
}
function scatterAdd(out, dim, index, src) {
  const size = out.shape[dim];
  const dst = new Array(out.shape.length);
  forEachIndex(index.shape, (p) => {
    const i = readAt(index, offsetOf(index, p));
    checkIndex("scatterAdd", i, size, dim);
    for (let d = 0; d < p.length; d++) dst[d] = d === dim ? i : p[d];
    const o = offsetOf(out, dst);
    writeAt(out, o, readAt(out, o) + readAt(src, offsetOf(src, p)));
  });
}
function readIndex1d(kernel, index, size, dim) {
  const n = index.shape.length === 0 ? 1 : index.shape[0];
  const stride = index.shape.length === 0 ? 0 : index.strides[0];
  const values = [];
  for (let j = 0; j < n; j++) {
    const i = index.buffer[index.offset + j * stride];
    checkIndex(kernel, i, size, dim);
    values.push(i);
  }
  return values;
}
function indexSelect(x2, dim, index, out) {
  const idx = readIndex1d("indexSelect", index, x2.shape[dim], dim);
  const src = new Array(x2.shape.length);
  forEachIndex(out.shape, (p) => {
    for (let d = 0; d < p.length; d++) src[d] = d === dim ? idx[p[d]] : p[d];
    writeAt(out, offsetOf(out, p), readAt(x2, offsetOf(x2, src)));
  });
}
function indexAdd(out, dim, index, src) {
  const idx = readIndex1d("indexAdd", index, out.shape[dim], dim);
  const dst = new Array(out.shape.length);
  forEachIndex(src.shape, (p) => {
    for (let d = 0; d < p.length; d++) dst[d] = d === dim ? idx[p[d]] : p[d];
    const o = offsetOf(out, dst);
    writeAt(out, o, readAt(out, o) + readAt(src, offsetOf(src, p)));
  });
}
var init_indexing = __esm({
  "packages/kernels/src/cpu/indexing.ts"() {
    "use strict";
    init_strided();
  }
});

// packages/kernels/src/cpu/layer_norm.ts
function layerNorm(x2, weight, bias, eps, out, mean2, rstd) {
  const { rows, cols: D } = rowsOf(x2.shape);
  const xs = readAll(x2);
  const w = weight ? readAll(weight) : null;
  const b = bias ? readAll(bias) : null;
  const ys = new Float64Array(xs.length);
  const means = new Float64Array(rows);
  const rstds = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * D;
    let mu = 0;
    for (let j = 0; j < D; j++) mu += xs[base + j];
    mu /= D;
    let v = 0;
    for (let j = 0; j < D; j++) v += (xs[base + j] - mu) ** 2;
    v /= D;
    const rs = 1 / Math.sqrt(v + eps);
    means[r] = mu;
    rstds[r] = rs;
    for (let j = 0; j < D; j++) {
      const xh = (xs[base + j] - mu) * rs;
      ys[base + j] = xh * (w ? w[j] : 1) + (b ? b[j] : 0);
    }
  }
  writeAll(out, ys);
  writeAll(mean2, means);
  writeAll(rstd, rstds);
}
function layerNormBackward(x2, weight, mean2, rstd, dy, dx, dweight, dbias) {
  const { rows, cols: D } = rowsOf(x2.shape);
  const xs = readAll(x2);
  const gs = readAll(dy);
  const w = weight ? readAll(weight) : null;
  const means = readAll(mean2);
  const rstds = readAll(rstd);
  const dxs = new Float64Array(xs.length);
  const dw = new Float64Array(D);
  const db = new Float64Array(D);
  const xh = new Float64Array(D);
  const g = new Float64Array(D);
  for (let r = 0; r < rows; r++) {
    const base = r * D;
    const mu = means[r];
    const rs = rstds[r];
    let meanG = 0;
    let meanGX = 0;
    for (let j = 0; j < D; j++) {
      xh[j] = (xs[base + j] - mu) * rs;
      g[j] = gs[base + j] * (w ? w[j] : 1);
      meanG += g[j];
      meanGX += g[j] * xh[j];
      dw[j] += gs[base + j] * xh[j];
      db[j] += gs[base + j];
    }
    meanG /= D;
    meanGX /= D;
    for (let j = 0; j < D; j++) dxs[base + j] = rs * (g[j] - meanG - xh[j] * meanGX);
  }
  writeAll(dx, dxs);
  if (dweight) writeAll(dweight, dw);
  if (dbias) writeAll(dbias, db);
}
var init_layer_norm = __esm({
  "packages/kernels/src/cpu/layer_norm.ts"() {
    "use strict";
    init_strided();
  }
});

// packages/kernels/src/cpu/matmul.ts
function matmul(a, b, out) {
  const r = out.shape.length;
  const M = out.shape[r - 2];
  const N = out.shape[r - 1];
  const K = a.shape[r - 1];
  const [saM, saK] = [a.strides[r - 2], a.strides[r - 1]];
  const [sbK, sbN] = [b.strides[r - 2], b.strides[r - 1]];
  const [soM, soN] = [out.strides[r - 2], out.strides[r - 1]];
  const batchShape = out.shape.slice(0, r - 2);
  forEachIndex(batchShape, (bi) => {
    let baseA = a.offset;
    let baseB = b.offset;
    let baseO = out.offset;
    for (let d = 0; d < bi.length; d++) {
      baseA += bi[d] * a.strides[d];
      baseB += bi[d] * b.strides[d];
      baseO += bi[d] * out.strides[d];
    }
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let acc = 0;
        for (let k = 0; k < K; k++) acc += a.buffer[baseA + i * saM + k * saK] * b.buffer[baseB + k * sbK + j * sbN];
        writeAt(out, baseO + i * soM + j * soN, acc);
      }
    }
  });
}
var init_matmul = __esm({
  "packages/kernels/src/cpu/matmul.ts"() {
    "use strict";
    init_strided();
  }
});

// packages/kernels/src/cpu/random.ts
function threefry2x32(k0, k1, c0, c1) {
  const ks = [k0 >>> 0, k1 >>> 0, (THREEFRY_PARITY ^ k0 ^ k1) >>> 0];
  let x0 = c0 + ks[0] >>> 0;
  let x1 = c1 + ks[1] >>> 0;
  for (let r = 0; r < 20; r++) {
    x0 = x0 + x1 >>> 0;
    x1 = rotl32(x1, THREEFRY_ROTATIONS[r % 8]);
    x1 = (x1 ^ x0) >>> 0;
    if (r % 4 === 3) {
      const s = (r + 1) / 4;
      x0 = x0 + ks[s % 3] >>> 0;
      x1 = x1 + ks[(s + 1) % 3] + s >>> 0;
    }
  }
  return [x0, x1];
}
function keyForSeed(seed) {
  return [seed >>> 0, (Math.floor(seed / TWO_POW_32) ^ THREEFRY_PARITY) >>> 0];
}
function random(out, opts) {
  const { seed, offset, distribution } = opts;
  const [k0, k1] = keyForSeed(seed);
  const offs = elementOffsets(out);
  for (let i = 0; i < offs.length; i++) {
    const n = offset + i;
    const [w0, w1] = threefry2x32(k0, k1, n >>> 0, Math.floor(n / TWO_POW_32) >>> 0);
    let value;
    if (distribution === "uniform") {
      value = (w0 >>> 8) * TWO_POW_M24;
    } else {
      const u1 = ((w0 >>> 8) + 1) * TWO_POW_M24;
      const u2 = (w1 >>> 8) * TWO_POW_M24;
      value = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
    writeAt(out, offs[i], value);
  }
}
var THREEFRY_PARITY, THREEFRY_ROTATIONS, rotl32, TWO_POW_32, TWO_POW_M24;
var init_random = __esm({
  "packages/kernels/src/cpu/random.ts"() {
    "use strict";
    init_strided();
    THREEFRY_PARITY = 466688986;
    THREEFRY_ROTATIONS = [13, 15, 26, 6, 17, 29, 16, 24];
    rotl32 = (x2, r) => (x2 << r | x2 >>> 32 - r) >>> 0;
    TWO_POW_32 = 4294967296;
    TWO_POW_M24 = 1 / 16777216;
  }
});

// packages/kernels/src/cpu/reduce.ts
function combine(op, acc, v) {
  switch (op) {
    case "sum":
      return acc + v;
    case "prod":
      return acc * v;
    // `v !== v` is true only for NaN: once the accumulator is NaN no comparison replaces it.
    case "max":
      return v > acc || v !== v ? v : acc;
    case "min":
      return v < acc || v !== v ? v : acc;
  }
}
function reduce(op, x2, axes, out) {
  const rank = x2.shape.length;
  const reduced = new Array(rank).fill(false);
  for (const a of axes) reduced[a < 0 ? a + rank : a] = true;
  const outShape = x2.shape.map((s2, d) => reduced[d] ? 1 : s2);
  const toOut = new Array(rank).fill(0);
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) {
    toOut[d] = reduced[d] ? 0 : s;
    s *= outShape[d];
  }
  const acc = new Float64Array(numel2(outShape)).fill(IDENTITY[op]);
  const xs = readAll(x2);
  forEachIndex(x2.shape, (idx, linear) => {
    let o = 0;
    for (let d = 0; d < rank; d++) o += idx[d] * toOut[d];
    acc[o] = combine(op, acc[o], xs[linear]);
  });
  writeAll(out, acc);
}
function argReduce(op, x2, axis, out) {
  const rank = x2.shape.length;
  const ax = rank === 0 ? -1 : axis < 0 ? axis + rank : axis;
  const n = ax < 0 ? 1 : x2.shape[ax];
  const step = ax < 0 ? 0 : x2.strides[ax];
  const outShape = x2.shape.map((s, d) => d === ax ? 1 : s);
  const result = new Float64Array(numel2(outShape));
  const better = op === "argmax" ? (v, best) => v > best : (v, best) => v < best;
  forEachIndex(outShape, (idx, linear) => {
    if (n === 0) return;
    const base = offsetOf(x2, idx);
    let bestIdx = 0;
    let best = x2.buffer[base];
    for (let k = 1; k < n && best === best; k++) {
      const v = x2.buffer[base + k * step];
      if (v !== v || better(v, best)) {
        best = v;
        bestIdx = k;
      }
    }
    result[linear] = bestIdx;
  });
  writeAll(out, result);
}
var IDENTITY;
var init_reduce = __esm({
  "packages/kernels/src/cpu/reduce.ts"() {
    "use strict";
    init_strided();
    IDENTITY = { sum: 0, prod: 1, max: -Infinity, min: Infinity };
  }
});

// packages/kernels/src/cpu/softmax.ts
function softmax(x2, out, log2) {
  const { rows, cols } = rowsOf(x2.shape);
  const xs = readAll(x2);
  const ys = new Float64Array(xs.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let m2 = -Infinity;
    for (let j = 0; j < cols; j++) m2 = Math.max(m2, xs[base + j]);
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.exp(xs[base + j] - m2);
    const logS = Math.log(s);
    for (let j = 0; j < cols; j++) {
      const z = xs[base + j] - m2;
      ys[base + j] = log2 ? z - logS : Math.exp(z) / s;
    }
  }
  writeAll(out, ys);
}
function softmaxBackward(y2, dy, out, log2) {
  const { rows, cols } = rowsOf(y2.shape);
  const ys = readAll(y2);
  const gs = readAll(dy);
  const dx = new Float64Array(ys.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let dot = 0;
    let sum2 = 0;
    for (let j = 0; j < cols; j++) {
      dot += gs[base + j] * ys[base + j];
      sum2 += gs[base + j];
    }
    for (let j = 0; j < cols; j++) {
      const i = base + j;
      dx[i] = log2 ? gs[i] - Math.exp(ys[i]) * sum2 : ys[i] * (gs[i] - dot);
    }
  }
  writeAll(out, dx);
}
var init_softmax = __esm({
  "packages/kernels/src/cpu/softmax.ts"() {
    "use strict";
    init_strided();
  }
});

// packages/kernels/src/cpu/index.ts
var cpuKernels;
var init_cpu = __esm({
  "packages/kernels/src/cpu/index.ts"() {
    "use strict";
    init_adamw();
    init_attention();
    init_conv();
    init_cross_entropy();
    init_elementwise();
    init_indexing();
    init_layer_norm();
    init_matmul();
    init_random();
    init_reduce();
    init_softmax();
    init_strided();
    init_elementwise();
    init_random();
    init_conv();
    cpuKernels = {
      unary,
      binary,
      where,
      copy,
      fill,
      random,
      reduce,
      argReduce,
      matmul,
      gather,
      scatterAdd,
      indexSelect,
      indexAdd,
      softmax,
      softmaxBackward,
      layerNorm,
      layerNormBackward,
      crossEntropy,
      crossEntropyBackward,
      attention,
      attentionBackward,
      im2col,
      col2im,
      pool2d,
      pool2dBackward,
      adamw
    };
  }
});

// packages/kernels/src/webgpu/errors.ts
var init_errors2 = __esm({
  "packages/kernels/src/webgpu/errors.ts"() {
    "use strict";
  }
});

// packages/kernels/src/webgpu/dtype.ts
var init_dtype = __esm({
  "packages/kernels/src/webgpu/dtype.ts"() {
    "use strict";
    init_errors2();
  }
});

// packages/kernels/src/webgpu/elementwise_ops.ts
var init_elementwise_ops = __esm({
  "packages/kernels/src/webgpu/elementwise_ops.ts"() {
    "use strict";
  }
});

// packages/kernels/src/webgpu/kernel_args.ts
var init_kernel_args = __esm({
  "packages/kernels/src/webgpu/kernel_args.ts"() {
    "use strict";
  }
});

// packages/kernels/src/webgpu/strided_codegen.ts
var init_strided_codegen = __esm({
  "packages/kernels/src/webgpu/strided_codegen.ts"() {
    "use strict";
  }
});

// packages/kernels/src/webgpu/workgroups.ts
var WGSL_LINEAR_WORKGROUP;
var init_workgroups = __esm({
  "packages/kernels/src/webgpu/workgroups.ts"() {
    "use strict";
    WGSL_LINEAR_WORKGROUP = /* wgsl */
    `
fn linear_workgroup(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y;
}
`;
  }
});

// packages/kernels/src/webgpu/elementwise.ts
var init_elementwise2 = __esm({
  "packages/kernels/src/webgpu/elementwise.ts"() {
    "use strict";
    init_dtype();
    init_elementwise_ops();
    init_kernel_args();
    init_strided_codegen();
    init_workgroups();
  }
});

// packages/kernels/src/webgpu/random.ts
var init_random2 = __esm({
  "packages/kernels/src/webgpu/random.ts"() {
    "use strict";
    init_dtype();
    init_elementwise_ops();
    init_kernel_args();
    init_strided_codegen();
    init_workgroups();
  }
});

// packages/kernels/src/webgpu/reduce.ts
var TWO_STAGE_MIN;
var init_reduce2 = __esm({
  "packages/kernels/src/webgpu/reduce.ts"() {
    "use strict";
    init_dtype();
    init_elementwise_ops();
    init_kernel_args();
    init_strided_codegen();
    init_workgroups();
    TWO_STAGE_MIN = 1 << 15;
  }
});

// packages/kernels/src/webgpu/indexing.ts
var init_indexing2 = __esm({
  "packages/kernels/src/webgpu/indexing.ts"() {
    "use strict";
    init_dtype();
    init_kernel_args();
    init_strided_codegen();
    init_workgroups();
  }
});

// packages/kernels/src/webgpu/adamw.ts
var init_adamw2 = __esm({
  "packages/kernels/src/webgpu/adamw.ts"() {
    "use strict";
    init_kernel_args();
    init_kernel_args();
    init_strided_codegen();
    init_workgroups();
  }
});

// packages/kernels/src/webgpu/matmul_select.ts
var init_matmul_select = __esm({
  "packages/kernels/src/webgpu/matmul_select.ts"() {
    "use strict";
  }
});

// packages/kernels/src/webgpu/matmul.ts
var init_matmul2 = __esm({
  "packages/kernels/src/webgpu/matmul.ts"() {
    "use strict";
    init_kernel_args();
    init_matmul_select();
    init_matmul_select();
  }
});

// packages/kernels/src/webgpu/softmax.ts
var ROW_WG, WGSL_ROWS, WGSL_ROW_MAIN;
var init_softmax2 = __esm({
  "packages/kernels/src/webgpu/softmax.ts"() {
    "use strict";
    init_elementwise2();
    init_errors2();
    init_kernel_args();
    init_workgroups();
    ROW_WG = 256;
    WGSL_ROWS = /* wgsl */
    `
${WGSL_LINEAR_WORKGROUP}
const ROW_WG: u32 = ${ROW_WG}u;
var<workgroup> red: array<vec4<f32>, ${ROW_WG}>;
struct Seg { lid: u32, lane: u32, row: u32, live: bool }
fn neg_inf() -> f32 { var bits = 0xff800000u; return bitcast<f32>(bits); }
fn first_row(wid: vec3<u32>, nwg: vec3<u32>) -> u32 { return linear_workgroup(wid, nwg) * (ROW_WG / u.tpr); }
fn seg_of(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> Seg {
  let row = first_row(wid, nwg) + lid / u.tpr;
  return Seg(lid, lid % u.tpr, row, row < u.rows);
}
// \u03A3 of v over the threads of this segment; every thread of the segment gets the total.
fn seg_sum(s: Seg, v: vec4<f32>) -> vec4<f32> {
  red[s.lid] = v;
  workgroupBarrier();
  for (var k = u.tpr >> 1u; k > 0u; k = k >> 1u) {
    if (s.lane < k) { red[s.lid] = red[s.lid] + red[s.lid + k]; }
    workgroupBarrier();
  }
  let r = red[s.lid - s.lane];
  workgroupBarrier();
  return r;
}
// max of v over the threads of this segment.
fn seg_max(s: Seg, v: f32) -> f32 {
  red[s.lid].x = v;
  workgroupBarrier();
  for (var k = u.tpr >> 1u; k > 0u; k = k >> 1u) {
    if (s.lane < k) { red[s.lid].x = max(red[s.lid].x, red[s.lid + k].x); }
    workgroupBarrier();
  }
  let r = red[s.lid - s.lane].x;
  workgroupBarrier();
  return r;
}
`;
    WGSL_ROW_MAIN = `@compute @workgroup_size(${ROW_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  if (first_row(wid, nwg) >= u.rows) { return; }
  let s = seg_of(wid, nwg, lid);
  let n = select(0u, u.d, s.live);`;
  }
});

// packages/kernels/src/webgpu/layer_norm.ts
var init_layer_norm2 = __esm({
  "packages/kernels/src/webgpu/layer_norm.ts"() {
    "use strict";
    init_kernel_args();
    init_softmax2();
    init_workgroups();
  }
});

// packages/kernels/src/webgpu/cross_entropy.ts
var init_cross_entropy2 = __esm({
  "packages/kernels/src/webgpu/cross_entropy.ts"() {
    "use strict";
    init_kernel_args();
    init_softmax2();
  }
});

// packages/kernels/src/webgpu/attention.ts
var WG, MAIN_SIG;
var init_attention2 = __esm({
  "packages/kernels/src/webgpu/attention.ts"() {
    "use strict";
    init_errors2();
    init_kernel_args();
    init_workgroups();
    WG = 64;
    MAIN_SIG = `@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {`;
  }
});

// packages/kernels/src/webgpu/conv.ts
var init_conv2 = __esm({
  "packages/kernels/src/webgpu/conv.ts"() {
    "use strict";
    init_errors2();
    init_kernel_args();
    init_workgroups();
  }
});

// packages/kernels/src/webgpu/device.ts
var init_device = __esm({
  "packages/kernels/src/webgpu/device.ts"() {
    "use strict";
    init_errors2();
  }
});

// packages/kernels/src/webgpu/buffer_pool.ts
var init_buffer_pool = __esm({
  "packages/kernels/src/webgpu/buffer_pool.ts"() {
    "use strict";
  }
});

// packages/kernels/src/webgpu/uniform_ring.ts
var init_uniform_ring = __esm({
  "packages/kernels/src/webgpu/uniform_ring.ts"() {
    "use strict";
  }
});

// packages/kernels/src/webgpu/pipeline_cache.ts
var init_pipeline_cache = __esm({
  "packages/kernels/src/webgpu/pipeline_cache.ts"() {
    "use strict";
    init_errors2();
  }
});

// packages/kernels/src/webgpu/runtime.ts
var init_runtime = __esm({
  "packages/kernels/src/webgpu/runtime.ts"() {
    "use strict";
    init_errors2();
    init_device();
    init_buffer_pool();
    init_uniform_ring();
    init_pipeline_cache();
    init_workgroups();
  }
});

// packages/kernels/src/webgpu/index.ts
var init_webgpu = __esm({
  "packages/kernels/src/webgpu/index.ts"() {
    "use strict";
    init_elementwise2();
    init_random2();
    init_reduce2();
    init_indexing2();
    init_adamw2();
    init_matmul2();
    init_softmax2();
    init_layer_norm2();
    init_cross_entropy2();
    init_attention2();
    init_conv2();
    init_runtime();
    init_errors2();
    init_dtype();
    init_workgroups();
    init_buffer_pool();
  }
});

// packages/kernels/src/wasm/js_kernels.ts
var js_kernels_exports = {};
__export(js_kernels_exports, {
  binary: () => binary3,
  coalesce: () => coalesce2,
  copy: () => copy3,
  crossEntropy: () => crossEntropy3,
  crossEntropyBackward: () => crossEntropyBackward3,
  fastErf: () => fastErf,
  fill: () => fill3,
  indexAdd: () => indexAdd3,
  indexSelect: () => indexSelect3,
  isContiguous: () => isContiguous,
  isF32: () => isF32,
  layerNormBackward: () => layerNormBackward3,
  random: () => random3,
  reduce: () => reduce3,
  softmaxBackward: () => softmaxBackward3,
  unary: () => unary3,
  where: () => where3
});
function isContiguous(v) {
  const cs = contiguousStrides2(v.shape);
  for (let d = 0; d < v.shape.length; d++) if (v.shape[d] > 1 && v.strides[d] !== cs[d]) return false;
  return true;
}
function coalesce2(shape, strides) {
  const outShape = [];
  const outStrides = strides.map(() => []);
  let size = 1;
  let cur = strides.map(() => 0);
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d];
    if (n === 1) continue;
    if (size === 1) {
      size = n;
      cur = strides.map((s) => s[d]);
      continue;
    }
    let merge = true;
    for (let k = 0; k < strides.length; k++) if (strides[k][d] !== cur[k] * size) {
      merge = false;
      break;
    }
    if (merge) {
      size *= n;
    } else {
      outShape.push(size);
      strides.forEach((_, k) => outStrides[k].push(cur[k]));
      size = n;
      cur = strides.map((s) => s[d]);
    }
  }
  outShape.push(size);
  strides.forEach((_, k) => outStrides[k].push(cur[k]));
  outShape.reverse();
  for (const s of outStrides) s.reverse();
  return { shape: outShape, strides: outStrides };
}
function forEachRow(shape, views, fn) {
  if (numel2(shape) === 0) return;
  const c = coalesce2(shape, views.map((v) => v.strides));
  const r = c.shape.length;
  const n = c.shape[r - 1];
  const inner = c.strides.map((s) => s[r - 1]);
  const base = views.map((v) => v.offset);
  if (r === 1) return fn(base, n, inner);
  const idx = new Array(r - 1).fill(0);
  const offs = base.slice();
  const rows = numel2(c.shape.slice(0, r - 1));
  for (let row = 0; row < rows; row++) {
    fn(offs, n, inner);
    for (let d = r - 2; d >= 0; d--) {
      const sd = c.shape[d];
      if (++idx[d] < sd) {
        for (let k = 0; k < offs.length; k++) offs[k] += c.strides[k][d];
        break;
      }
      idx[d] = 0;
      for (let k = 0; k < offs.length; k++) offs[k] -= c.strides[k][d] * (sd - 1);
    }
  }
}
function aliasesDifferently(x2, out) {
  if (x2.buffer.buffer !== out.buffer.buffer) return false;
  if (x2.buffer.byteOffset !== out.buffer.byteOffset || x2.offset !== out.offset) return true;
  for (let d = 0; d < x2.shape.length; d++) if (x2.shape[d] > 1 && x2.strides[d] !== out.strides[d]) return true;
  return false;
}
function detached(x2) {
  const n = numel2(x2.shape);
  const buf = new Float32Array(n);
  const dst = { buffer: buf, dtype: "float32", shape: x2.shape, strides: contiguousStrides2(x2.shape), offset: 0 };
  copyLoop(x2, dst);
  return dst;
}
function fastErf(x2) {
  if (x2 === 0 || x2 !== x2) return x2;
  const ax = x2 < 0 ? -x2 : x2;
  if (ax >= 6) return x2 < 0 ? -1 : 1;
  const i = ax * ERF_SCALE + 0.5 | 0;
  const h = ax - i / ERF_SCALE;
  const t = i * 6;
  const r = ERF_TAB[t] + ERF_TAB[t + 1] * h * (1 + h * (ERF_TAB[t + 2] + h * (ERF_TAB[t + 3] + h * (ERF_TAB[t + 4] + h * ERF_TAB[t + 5]))));
  return x2 < 0 ? -r : r;
}
function unaryRow(op, x2, px, sx, o, po, so, n) {
  switch (op) {
    case "gelu":
      for (let i = 0; i < n; i++) {
        const v = x2[px + i * sx];
        o[po + i * so] = 0.5 * v * (1 + fastErf(v * SQRT_HALF2));
      }
      return;
    case "erf":
      for (let i = 0; i < n; i++) o[po + i * so] = fastErf(x2[px + i * sx]);
      return;
    case "exp":
      for (let i = 0; i < n; i++) o[po + i * so] = Math.exp(x2[px + i * sx]);
      return;
    case "tanh":
      for (let i = 0; i < n; i++) o[po + i * so] = Math.tanh(x2[px + i * sx]);
      return;
    case "neg":
      for (let i = 0; i < n; i++) o[po + i * so] = -x2[px + i * sx];
      return;
    case "square":
      for (let i = 0; i < n; i++) {
        const v = x2[px + i * sx];
        o[po + i * so] = v * v;
      }
      return;
    case "relu":
      for (let i = 0; i < n; i++) o[po + i * so] = Math.max(x2[px + i * sx], 0);
      return;
    case "sqrt":
      for (let i = 0; i < n; i++) o[po + i * so] = Math.sqrt(x2[px + i * sx]);
      return;
    case "rsqrt":
      for (let i = 0; i < n; i++) o[po + i * so] = 1 / Math.sqrt(x2[px + i * sx]);
      return;
    case "log":
      for (let i = 0; i < n; i++) o[po + i * so] = Math.log(x2[px + i * sx]);
      return;
    default: {
      const f = UNARY_FNS[op];
      for (let i = 0; i < n; i++) o[po + i * so] = f(x2[px + i * sx]);
    }
  }
}
function unary3(op, x2, out) {
  if (!isF32(x2) || !isF32(out) || op === "logicalNot") return false;
  const src = aliasesDifferently(x2, out) ? detached(x2) : x2;
  const xb = src.buffer, ob = out.buffer;
  forEachRow(out.shape, [src, out], (offs, n, inner) => unaryRow(op, xb, offs[0], inner[0], ob, offs[1], inner[1], n));
  return true;
}
function binary3(op, a, b, out) {
  if (!isF32(a) || !isF32(b) || !(isF32(out) || out.dtype === "bool")) return false;
  const arith = out.dtype === "float32";
  if (arith === BOOL_RESULT_OPS.has(op)) return false;
  const A = aliasesDifferently(a, out) ? detached(a) : a;
  const B = aliasesDifferently(b, out) ? detached(b) : b;
  const ab = A.buffer, bb = B.buffer, ob = out.buffer;
  const f = BINARY_FNS[op];
  forEachRow(out.shape, [A, B, out], (offs, n, inner) => {
    const pa = offs[0], pb = offs[1], po = offs[2], sa = inner[0], sb = inner[1], so = inner[2];
    switch (op) {
      case "add":
        for (let i = 0; i < n; i++) ob[po + i * so] = ab[pa + i * sa] + bb[pb + i * sb];
        return;
      case "sub":
        for (let i = 0; i < n; i++) ob[po + i * so] = ab[pa + i * sa] - bb[pb + i * sb];
        return;
      case "mul":
        for (let i = 0; i < n; i++) ob[po + i * so] = ab[pa + i * sa] * bb[pb + i * sb];
        return;
      case "div":
        for (let i = 0; i < n; i++) ob[po + i * so] = ab[pa + i * sa] / bb[pb + i * sb];
        return;
      default:
        for (let i = 0; i < n; i++) ob[po + i * so] = f(ab[pa + i * sa], bb[pb + i * sb]);
    }
  });
  return true;
}
function where3(cond, a, b, out) {
  if (!isF32(a) || !isF32(b) || !isF32(out)) return false;
  const C = cond.buffer.buffer === out.buffer.buffer ? null : cond;
  if (!C) return false;
  const A = aliasesDifferently(a, out) ? detached(a) : a;
  const B = aliasesDifferently(b, out) ? detached(b) : b;
  const cb = C.buffer, ab = A.buffer, bb = B.buffer, ob = out.buffer;
  forEachRow(out.shape, [C, A, B, out], (offs, n, inner) => {
    const pc = offs[0], pa = offs[1], pb = offs[2], po = offs[3];
    const sc = inner[0], sa = inner[1], sb = inner[2], so = inner[3];
    for (let i = 0; i < n; i++) ob[po + i * so] = cb[pc + i * sc] !== 0 ? ab[pa + i * sa] : bb[pb + i * sb];
  });
  return true;
}
function copyIsAssignment(from, to2) {
  if (from.dtype === to2.dtype) return true;
  return to2.dtype === "float64" && from.dtype !== "bool" || to2.dtype === "float32" && (from.dtype === "int32" || from.dtype === "float64");
}
function copyLoop(x2, out) {
  const xb = x2.buffer, ob = out.buffer;
  forEachRow(out.shape, [x2, out], (offs, n, inner) => {
    const px = offs[0], po = offs[1], sx = inner[0], so = inner[1];
    if (sx === 1 && so === 1 && xb.constructor === ob.constructor) {
      ob.set(xb.subarray(px, px + n), po);
    } else {
      for (let i = 0; i < n; i++) ob[po + i * so] = xb[px + i * sx];
    }
  });
}
function copy3(x2, out) {
  if (!copyIsAssignment(x2, out)) return false;
  if (x2.buffer.buffer === out.buffer.buffer) {
    const n = numel2(x2.shape);
    const tmp = new x2.buffer.constructor(n);
    const t = { buffer: tmp, dtype: x2.dtype, shape: x2.shape, strides: contiguousStrides2(x2.shape), offset: 0 };
    copyLoop(x2, t);
    copyLoop(t, out);
    return true;
  }
  copyLoop(x2, out);
  return true;
}
function fill3(out, value) {
  const v = convertTo(out.dtype, value);
  const ob = out.buffer;
  forEachRow(out.shape, [out], (offs, n, inner) => {
    const po = offs[0], so = inner[0];
    if (so === 1) ob.fill(v, po, po + n);
    else for (let i = 0; i < n; i++) ob[po + i * so] = v;
  });
  return true;
}
function threefry(k0, k1, k2, c0, c1) {
  const R = THREEFRY_ROTATIONS;
  const ks0 = k0, ks1 = k1, ks2 = k2;
  let x0 = c0 + ks0 >>> 0;
  let x1 = c1 + ks1 >>> 0;
  for (let r = 0; r < 20; r++) {
    x0 = x0 + x1 >>> 0;
    const rot = R[r & 7];
    x1 = (x1 << rot | x1 >>> 32 - rot) >>> 0;
    x1 = (x1 ^ x0) >>> 0;
    if ((r & 3) === 3) {
      const s = r + 1 >> 2;
      const m2 = s % 3;
      x0 = x0 + (m2 === 0 ? ks0 : m2 === 1 ? ks1 : ks2) >>> 0;
      const m1 = (s + 1) % 3;
      x1 = x1 + (m1 === 0 ? ks0 : m1 === 1 ? ks1 : ks2) + s >>> 0;
    }
  }
  W1 = x1;
  return x0;
}
function random3(out, opts) {
  if (!isFloat(out)) return false;
  const { seed, offset, distribution } = opts;
  const [k0, k1] = keyForSeed(seed);
  const k2 = (THREEFRY_PARITY ^ k0 ^ k1) >>> 0;
  const ob = out.buffer;
  const normal2 = distribution === "normal";
  let i = 0;
  forEachRow(out.shape, [out], (offs, n, inner) => {
    const po = offs[0], so = inner[0];
    for (let j = 0; j < n; j++, i++) {
      const c = offset + i;
      const w0 = threefry(k0, k1, k2, c >>> 0, Math.floor(c / TWO_POW_322) >>> 0);
      ob[po + j * so] = normal2 ? Math.sqrt(-2 * Math.log(((w0 >>> 8) + 1) * TWO_POW_M242)) * Math.cos(TWO_PI * ((W1 >>> 8) * TWO_POW_M242)) : (w0 >>> 8) * TWO_POW_M242;
    }
  });
  return true;
}
function reduce3(op, x2, axes, out) {
  if (!isFloat(x2) || !isFloat(out)) return false;
  const rank = x2.shape.length;
  const reduced = new Array(rank).fill(false);
  for (const a of axes) reduced[a < 0 ? a + rank : a] = true;
  const outShape = x2.shape.map((s2, d) => reduced[d] ? 1 : s2);
  const nOut = numel2(outShape);
  const toOut = new Array(rank).fill(0);
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) {
    toOut[d] = reduced[d] ? 0 : s;
    s *= outShape[d];
  }
  const init = op === "sum" ? 0 : op === "prod" ? 1 : op === "max" ? -Infinity : Infinity;
  const acc = new Float64Array(nOut).fill(init);
  const xb = x2.buffer;
  const accView = { buffer: acc, dtype: "float64", shape: x2.shape, strides: toOut, offset: 0 };
  forEachRow(x2.shape, [x2, accView], (offs, n, inner) => {
    const px = offs[0], pa = offs[1], sx = inner[0], sa = inner[1];
    if (sa === 0) {
      let r = acc[pa];
      switch (op) {
        case "sum":
          for (let i = 0; i < n; i++) r += xb[px + i * sx];
          break;
        case "prod":
          for (let i = 0; i < n; i++) r *= xb[px + i * sx];
          break;
        // Once r is NaN no comparison replaces it, so NaN propagates like the reference's.
        case "max":
          for (let i = 0; i < n; i++) {
            const v = xb[px + i * sx];
            if (v > r || v !== v) r = v;
          }
          break;
        case "min":
          for (let i = 0; i < n; i++) {
            const v = xb[px + i * sx];
            if (v < r || v !== v) r = v;
          }
          break;
      }
      acc[pa] = r;
    } else {
      switch (op) {
        case "sum":
          for (let i = 0; i < n; i++) acc[pa + i * sa] += xb[px + i * sx];
          break;
        case "prod":
          for (let i = 0; i < n; i++) acc[pa + i * sa] *= xb[px + i * sx];
          break;
        case "max":
          for (let i = 0; i < n; i++) {
            const v = xb[px + i * sx], r = acc[pa + i * sa];
            if (v > r || v !== v && r === r) acc[pa + i * sa] = v;
          }
          break;
        case "min":
          for (let i = 0; i < n; i++) {
            const v = xb[px + i * sx], r = acc[pa + i * sa];
            if (v < r || v !== v && r === r) acc[pa + i * sa] = v;
          }
          break;
      }
    }
  });
  copyLoop({ buffer: acc, dtype: "float64", shape: outShape, strides: contiguousStrides2(outShape), offset: 0 }, out);
  return true;
}
function softmaxBackward3(y2, dy, out, log2) {
  if (!allF32Contiguous(y2, dy, out)) return false;
  const { rows, cols } = rowsOf(y2.shape);
  const ys = y2.buffer, gs = dy.buffer, dx = out.buffer;
  const oy = y2.offset, og = dy.offset, oo = out.offset;
  const tmp = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let dot = 0, sum2 = 0;
    for (let j = 0; j < cols; j++) {
      const g = gs[og + base + j];
      dot += g * ys[oy + base + j];
      sum2 += g;
    }
    if (log2) for (let j = 0; j < cols; j++) tmp[j] = gs[og + base + j] - Math.exp(ys[oy + base + j]) * sum2;
    else for (let j = 0; j < cols; j++) tmp[j] = ys[oy + base + j] * (gs[og + base + j] - dot);
    for (let j = 0; j < cols; j++) dx[oo + base + j] = tmp[j];
  }
  return true;
}
function layerNormBackward3(x2, weight, mean2, rstd, dy, dx, dweight, dbias) {
  if (!allF32Contiguous(x2, weight, mean2, rstd, dy, dx, dweight, dbias)) return false;
  const { rows, cols: D } = rowsOf(x2.shape);
  const xs = x2.buffer, gs = dy.buffer, out = dx.buffer, ms = mean2.buffer, rs_ = rstd.buffer;
  const ox = x2.offset, og = dy.offset, oo = dx.offset;
  const w = new Float64Array(D).fill(1);
  if (weight) for (let j = 0; j < D; j++) w[j] = weight.buffer[weight.offset + j];
  const dw = new Float64Array(D), db = new Float64Array(D), xh = new Float64Array(D), g = new Float64Array(D);
  for (let r = 0; r < rows; r++) {
    const base = r * D;
    const mu = ms[mean2.offset + r], rs = rs_[rstd.offset + r];
    let meanG = 0, meanGX = 0;
    for (let j = 0; j < D; j++) {
      const gj = gs[og + base + j];
      const h = (xs[ox + base + j] - mu) * rs;
      const gw = gj * w[j];
      xh[j] = h;
      g[j] = gw;
      meanG += gw;
      meanGX += gw * h;
      dw[j] += gj * h;
      db[j] += gj;
    }
    meanG /= D;
    meanGX /= D;
    for (let j = 0; j < D; j++) out[oo + base + j] = rs * (g[j] - meanG - xh[j] * meanGX);
  }
  if (dweight) for (let j = 0; j < D; j++) dweight.buffer[dweight.offset + j] = dw[j];
  if (dbias) for (let j = 0; j < D; j++) dbias.buffer[dbias.offset + j] = db[j];
  return true;
}
function checkTarget2(kernel, t, C, ignoreIndex) {
  if (t === ignoreIndex) return false;
  if (!(t >= 0 && t < C)) {
    throw new RangeError(`${kernel}: target ${t} is out of range for ${C} classes (valid: 0..${C - 1}, or ignoreIndex ${ignoreIndex})`);
  }
  return true;
}
function classWeights(weight, C) {
  const w = new Float64Array(C).fill(1);
  if (weight) {
    const st = weight.shape.length === 0 ? 0 : weight.strides[0];
    for (let c = 0; c < C; c++) w[c] = weight.buffer[weight.offset + c * st];
  }
  return w;
}
function crossEntropy3(logits, targets, weight, opts, loss, lse) {
  if (!allF32Contiguous(logits) || logits.shape.length !== 2 || !vec1d(targets) || !vec1d(loss) || !vec1d(lse) || weight && !vec1d(weight) || !isFloat(loss) || !isFloat(lse)) return false;
  const [N, C] = [logits.shape[0], logits.shape[1]];
  const xs = logits.buffer, ox = logits.offset;
  const w = classWeights(weight, C);
  const eps = opts.labelSmoothing;
  for (let n = 0; n < N; n++) {
    const base = ox + n * C;
    let m2 = -Infinity;
    for (let c = 0; c < C; c++) m2 = Math.max(m2, xs[base + c]);
    let l = -Infinity;
    if (m2 !== -Infinity) {
      let s = 0;
      for (let c = 0; c < C; c++) s += Math.exp(xs[base + c] - m2);
      l = m2 + Math.log(s);
    }
    lse.buffer[lse.offset + n * lse.strides[0]] = l;
    const t = targets.buffer[targets.offset + n * targets.strides[0]];
    let value = 0;
    if (checkTarget2("crossEntropy", t, C, opts.ignoreIndex)) {
      let smooth = 0;
      if (eps !== 0) for (let c = 0; c < C; c++) smooth += w[c] * (l - xs[base + c]);
      value = (1 - eps) * w[t] * (l - xs[base + t]) + eps / C * smooth;
    }
    loss.buffer[loss.offset + n * loss.strides[0]] = value;
  }
  return true;
}
function crossEntropyBackward3(logits, targets, weight, lse, dloss, opts, dlogits) {
  if (!allF32Contiguous(logits, dlogits) || logits.shape.length !== 2 || !vec1d(targets) || !vec1d(lse) || !vec1d(dloss) || weight && !vec1d(weight)) return false;
  const [N, C] = [logits.shape[0], logits.shape[1]];
  const xs = logits.buffer, ox = logits.offset, dx = dlogits.buffer, od = dlogits.offset;
  const w = classWeights(weight, C);
  let W = 0;
  for (let c = 0; c < C; c++) W += w[c];
  const eps = opts.labelSmoothing;
  const row = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    const t = targets.buffer[targets.offset + n * targets.strides[0]];
    if (!checkTarget2("crossEntropyBackward", t, C, opts.ignoreIndex)) {
      dx.fill(0, od + n * C, od + (n + 1) * C);
      continue;
    }
    const l = lse.buffer[lse.offset + n * lse.strides[0]];
    const gn = dloss.buffer[dloss.offset + n * dloss.strides[0]];
    const base = ox + n * C;
    const hardW = (1 - eps) * w[t];
    for (let c = 0; c < C; c++) {
      const p = Math.exp(xs[base + c] - l);
      const hard = hardW * (p - (c === t ? 1 : 0));
      const smooth = eps / C * (W * p - w[c]);
      row[c] = gn * (hard + smooth);
    }
    for (let c = 0; c < C; c++) dx[od + n * C + c] = row[c];
  }
  return true;
}
function checkIndex2(kernel, i, size, dim) {
  if (!(i >= 0 && i < size)) {
    throw new RangeError(`${kernel}: index ${i} is out of range for dimension ${dim} of size ${size} (valid: 0..${size - 1})`);
  }
}
function readIndex1d2(kernel, index, size, dim) {
  const n = index.shape.length === 0 ? 1 : index.shape[0];
  const stride = index.shape.length === 0 ? 0 : index.strides[0];
  const values = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const i = index.buffer[index.offset + j * stride];
    checkIndex2(kernel, i, size, dim);
    values[j] = i;
  }
  return values;
}
function indexSelect3(x2, dim, index, out) {
  if (x2.dtype !== out.dtype || !isContiguous(x2) || !isContiguous(out) || x2.buffer.buffer === out.buffer.buffer || index.dtype !== "int32") return false;
  const idx = readIndex1d2("indexSelect", index, x2.shape[dim], dim);
  const outer = numel2(x2.shape.slice(0, dim)), inner = numel2(x2.shape.slice(dim + 1));
  const S = x2.shape[dim], L = idx.length;
  const xb = x2.buffer, ob = out.buffer;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < L; j++) {
      const src = x2.offset + (o * S + idx[j]) * inner, dst = out.offset + (o * L + j) * inner;
      if (inner >= 16) ob.set(xb.subarray(src, src + inner), dst);
      else for (let k = 0; k < inner; k++) ob[dst + k] = xb[src + k];
    }
  }
  return true;
}
function indexAdd3(out, dim, index, src) {
  if (!isF32(out) || !isF32(src) || !isContiguous(out) || !isContiguous(src) || src.buffer.buffer === out.buffer.buffer || index.dtype !== "int32") return false;
  const idx = readIndex1d2("indexAdd", index, out.shape[dim], dim);
  const outer = numel2(out.shape.slice(0, dim)), inner = numel2(out.shape.slice(dim + 1));
  const S = out.shape[dim], L = idx.length;
  const ob = out.buffer, sb = src.buffer;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < L; i++) {
      const d = out.offset + (o * S + idx[i]) * inner, s = src.offset + (o * L + i) * inner;
      for (let k = 0; k < inner; k++) ob[d + k] += sb[s + k];
    }
  }
  return true;
}
var isF32, isFloat, ERF_SCALE, ERF_NODES, ERF_TAB, SQRT_HALF2, TWO_POW_322, TWO_POW_M242, TWO_PI, W1, allF32Contiguous, vec1d;
var init_js_kernels = __esm({
  "packages/kernels/src/wasm/js_kernels.ts"() {
    "use strict";
    init_elementwise();
    init_random();
    init_strided();
    init_types();
    isF32 = (v) => v.dtype === "float32" && v.buffer instanceof Float32Array;
    isFloat = (v) => v.dtype === "float32" || v.dtype === "float64";
    ERF_SCALE = 32;
    ERF_NODES = 6 * ERF_SCALE + 1;
    ERF_TAB = new Float64Array(ERF_NODES * 6);
    for (let i = 0; i < ERF_NODES; i++) {
      const x2 = i / ERF_SCALE, x22 = x2 * x2;
      ERF_TAB.set([
        erf(x2),
        1.1283791670955126 * Math.exp(-x22),
        -x2,
        (2 * x22 - 1) / 3,
        (3 * x2 - 2 * x22 * x2) / 6,
        (4 * x22 * x22 - 12 * x22 + 3) / 30
      ], i * 6);
    }
    SQRT_HALF2 = 0.7071067811865476;
    TWO_POW_322 = 4294967296;
    TWO_POW_M242 = 1 / 16777216;
    TWO_PI = 2 * Math.PI;
    W1 = 0;
    allF32Contiguous = (...vs) => vs.every((v) => v === null || isF32(v) && isContiguous(v));
    vec1d = (v) => v.shape.length === 1;
  }
});

// packages/kernels/src/wasm/elementwise_program.ts
function addBinary(m2) {
  for (const op of BINARY_FAST_OPS) {
    m2.func(
      `binary_${op}`,
      ["i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32"],
      null,
      (f, a, ia, ra, b, ib, rb, out, n, rows) => {
        const r = f.local("i32"), j = f.local("i32"), ap = f.local("i32"), bp = f.local("i32"), op_ = f.local("i32");
        const vecEnd = f.local("i32");
        const av = f.local("v128"), bv = f.local("v128");
        f.set(vecEnd, f.sub(f.get(n), f.i32(3)));
        const rowLoop = (aInner, bInner) => {
          f.forRange(r, () => f.i32(0), () => f.get(rows), 1, () => {
            f.set(ap, f.add(f.get(a), f.mul(f.get(r), f.get(ra))));
            f.set(bp, f.add(f.get(b), f.mul(f.get(r), f.get(rb))));
            f.set(op_, f.add(f.get(out), f.shl(f.mul(f.get(r), f.get(n)), f.i32(2))));
            if (!aInner) f.set(av, f.v128Load32Splat(f.get(ap)));
            if (!bInner) f.set(bv, f.v128Load32Splat(f.get(bp)));
            const at = (base) => f.add(f.get(base), f.shl(f.get(j), f.i32(2)));
            f.forRange(j, () => f.i32(0), () => f.get(vecEnd), 4, () => {
              f.v128Store(at(op_), VEC[op](f, aInner ? f.v128Load(at(ap)) : f.get(av), bInner ? f.v128Load(at(bp)) : f.get(bv)));
            });
            f.set(j, f.and(f.get(n), f.i32(~3)));
            f.block((exit) => {
              f.brIf(exit, f.geS(f.get(j), f.get(n)));
              f.loop((top) => {
                f.f32Store(at(op_), SCALAR[op](f, f.f32Load(aInner ? at(ap) : f.get(ap)), f.f32Load(bInner ? at(bp) : f.get(bp))));
                f.set(j, f.add(f.get(j), f.i32(1)));
                f.brIf(top, f.ltS(f.get(j), f.get(n)));
              });
            });
          });
        };
        f.if_(f.get(ia), () => {
          f.if_(f.get(ib), () => rowLoop(true, true), () => rowLoop(true, false));
        }, () => {
          f.if_(f.get(ib), () => rowLoop(false, true), () => rowLoop(false, false));
        });
      }
    );
  }
}
function addAdamW(m2) {
  m2.func("adamw", ["i32", "i32", "i32", "i32", "i32", "i32"], null, (f, p, g, mm, vv, n, params) => {
    const c = ADAMW_PARAMS.map((_, i2) => {
      const l = f.local("v128");
      f.set(l, f.f64x2Splat(f.f64Load(f.get(params), i2 * 8)));
      return l;
    });
    const [lrwd, b1, omb1, b2, omb2, bc1, bc2, lr, eps] = c;
    const i = f.local("i32"), off = f.local("i32");
    const P = f.local("v128"), G = f.local("v128"), Mv = f.local("v128"), Vv = f.local("v128");
    const load2 = (base) => f.f64x2PromoteLowF32x4(f.v128Load64Zero(f.add(f.get(base), f.get(off))));
    const store2 = (base, x2) => f.v128Store64Lane0(f.add(f.get(base), f.get(off)), f.f32x4DemoteF64x2Zero(f.get(x2)));
    f.forRange(i, () => f.i32(0), () => f.get(n), 2, () => {
      f.set(off, f.shl(f.get(i), f.i32(2)));
      f.set(P, load2(p));
      f.set(G, load2(g));
      f.set(P, f.f64x2Sub(f.get(P), f.f64x2Mul(f.get(lrwd), f.get(P))));
      f.set(Mv, f.f64x2Add(f.f64x2Mul(f.get(b1), load2(mm)), f.f64x2Mul(f.get(omb1), f.get(G))));
      f.set(Vv, f.f64x2Add(f.f64x2Mul(f.get(b2), load2(vv)), f.f64x2Mul(f.f64x2Mul(f.get(omb2), f.get(G)), f.get(G))));
      f.set(P, f.f64x2Sub(f.get(P), f.f64x2Div(
        f.f64x2Mul(f.get(lr), f.f64x2Div(f.get(Mv), f.get(bc1))),
        f.f64x2Add(f.f64x2Sqrt(f.f64x2Div(f.get(Vv), f.get(bc2))), f.get(eps))
      )));
      store2(p, P);
      store2(mm, Mv);
      store2(vv, Vv);
    });
  });
}
var BINARY_FAST_OPS, VEC, SCALAR, ADAMW_PARAMS;
var init_elementwise_program = __esm({
  "packages/kernels/src/wasm/elementwise_program.ts"() {
    "use strict";
    BINARY_FAST_OPS = ["add", "sub", "mul", "div"];
    VEC = {
      add: (f, a, b) => f.f32x4Add(a, b),
      sub: (f, a, b) => f.f32x4Sub(a, b),
      mul: (f, a, b) => f.f32x4Mul(a, b),
      div: (f, a, b) => f.f32x4Div(a, b)
    };
    SCALAR = {
      add: (f, a, b) => f.f32Add(a, b),
      sub: (f, a, b) => f.f32Sub(a, b),
      mul: (f, a, b) => f.f32Mul(a, b),
      div: (f, a, b) => f.f32Div(a, b)
    };
    ADAMW_PARAMS = ["lrTimesWd", "beta1", "oneMinusBeta1", "beta2", "oneMinusBeta2", "bc1", "bc2", "lr", "eps"];
  }
});

// packages/kernels/src/wasm/matmul_program.ts
function addMatmul(m2) {
  const packB = addPackB(m2);
  const packA = addPackA(m2);
  const micro = addMicroKernel(m2);
  return m2.func(
    "sgemm",
    ["i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32"],
    null,
    (f, a, rsa, csa, b, rsb, csb, c, ldc, M, N, K, scratch) => {
      const jc = f.local("i32"), pc = f.local("i32"), ic = f.local("i32"), jr = f.local("i32"), ir = f.local("i32");
      const nc = f.local("i32"), kc = f.local("i32"), mc = f.local("i32");
      const pa = f.local("i32"), pb = f.local("i32"), tile = f.local("i32"), acc = f.local("i32");
      const cTile = f.local("i32");
      f.set(pa, f.get(scratch));
      f.set(pb, f.add(f.get(scratch), f.i32(PACK_A_BYTES)));
      f.set(tile, f.add(f.get(pb), f.i32(PACK_B_BYTES)));
      f.forRange(jc, () => f.i32(0), () => f.get(N), NC, () => {
        minInto(f, nc, f.sub(f.get(N), f.get(jc)), NC);
        f.forRange(pc, () => f.i32(0), () => f.get(K), KC, () => {
          minInto(f, kc, f.sub(f.get(K), f.get(pc)), KC);
          f.set(acc, f.ne(f.get(pc), f.i32(0)));
          f.call(
            packB,
            f.add(f.add(f.get(b), f.mul(f.get(pc), f.get(rsb))), f.mul(f.get(jc), f.get(csb))),
            f.get(rsb),
            f.get(csb),
            f.get(kc),
            f.get(nc),
            f.get(pb)
          );
          f.forRange(ic, () => f.i32(0), () => f.get(M), MC, () => {
            minInto(f, mc, f.sub(f.get(M), f.get(ic)), MC);
            f.call(
              packA,
              f.add(f.add(f.get(a), f.mul(f.get(ic), f.get(rsa))), f.mul(f.get(pc), f.get(csa))),
              f.get(rsa),
              f.get(csa),
              f.get(mc),
              f.get(kc),
              f.get(pa)
            );
            f.forRange(jr, () => f.i32(0), () => f.get(nc), NR, () => {
              f.forRange(ir, () => f.i32(0), () => f.get(mc), MR, () => {
                f.set(cTile, f.add(
                  f.add(f.get(c), f.mul(f.add(f.get(ic), f.get(ir)), f.get(ldc))),
                  f.shl(f.add(f.get(jc), f.get(jr)), f.i32(2))
                ));
                f.call(
                  micro,
                  f.add(f.get(pa), f.shl(f.mul(f.get(ir), f.get(kc)), f.i32(2))),
                  f.add(f.get(pb), f.shl(f.mul(f.get(jr), f.get(kc)), f.i32(2))),
                  f.get(kc),
                  f.get(cTile),
                  f.get(ldc),
                  f.sub(f.get(mc), f.get(ir)),
                  f.sub(f.get(nc), f.get(jr)),
                  f.get(acc),
                  f.get(tile)
                );
              });
            });
          });
        });
      });
    }
  );
}
function minInto(f, dst, value, cap) {
  f.set(dst, value);
  f.if_(f.gtS(f.get(dst), f.i32(cap)), () => f.set(dst, f.i32(cap)));
}
function addPackB(m2) {
  return m2.func("sgemm_pack_b", ["i32", "i32", "i32", "i32", "i32", "i32"], null, (f, src, rs, cs, kc, nc, dst) => {
    const j0 = f.local("i32"), k = f.local("i32"), j = f.local("i32");
    const s = f.local("i32"), d = f.local("i32"), panel = f.local("i32"), width = f.local("i32");
    f.forRange(j0, () => f.i32(0), () => f.get(nc), NR, () => {
      f.set(panel, f.add(f.get(dst), f.shl(f.mul(f.get(j0), f.get(kc)), f.i32(2))));
      f.set(width, f.sub(f.get(nc), f.get(j0)));
      f.if_(f.and(f.eq(f.get(cs), f.i32(4)), f.geS(f.get(width), f.i32(NR))), () => {
        f.set(s, f.add(f.get(src), f.shl(f.get(j0), f.i32(2))));
        f.set(d, f.get(panel));
        f.forRange(k, () => f.i32(0), () => f.get(kc), 1, () => {
          f.v128Store(f.get(d), f.v128Load(f.get(s)));
          f.v128Store(f.get(d), f.v128Load(f.get(s), 16), 16);
          f.set(s, f.add(f.get(s), f.get(rs)));
          f.set(d, f.add(f.get(d), f.i32(NR * 4)));
        });
      }, () => {
        f.forRange(j, () => f.i32(0), () => f.i32(NR), 1, () => {
          f.set(d, f.add(f.get(panel), f.shl(f.get(j), f.i32(2))));
          f.if_(f.ltS(f.get(j), f.get(width)), () => {
            f.set(s, f.add(f.get(src), f.mul(f.add(f.get(j0), f.get(j)), f.get(cs))));
            f.forRange(k, () => f.i32(0), () => f.get(kc), 1, () => {
              f.f32Store(f.get(d), f.f32Load(f.get(s)));
              f.set(s, f.add(f.get(s), f.get(rs)));
              f.set(d, f.add(f.get(d), f.i32(NR * 4)));
            });
          }, () => {
            f.forRange(k, () => f.i32(0), () => f.get(kc), 1, () => {
              f.f32Store(f.get(d), f.f32(0));
              f.set(d, f.add(f.get(d), f.i32(NR * 4)));
            });
          });
        });
      });
    });
  });
}
function addPackA(m2) {
  return m2.func("sgemm_pack_a", ["i32", "i32", "i32", "i32", "i32", "i32"], null, (f, src, rs, cs, mc, kc, dst) => {
    const i0 = f.local("i32"), k = f.local("i32"), i = f.local("i32");
    const s = f.local("i32"), d = f.local("i32"), panel = f.local("i32"), height = f.local("i32");
    f.forRange(i0, () => f.i32(0), () => f.get(mc), MR, () => {
      f.set(panel, f.add(f.get(dst), f.shl(f.mul(f.get(i0), f.get(kc)), f.i32(2))));
      f.set(height, f.sub(f.get(mc), f.get(i0)));
      f.if_(f.and(f.eq(f.get(rs), f.i32(4)), f.geS(f.get(height), f.i32(MR))), () => {
        f.set(s, f.add(f.get(src), f.shl(f.get(i0), f.i32(2))));
        f.set(d, f.get(panel));
        f.forRange(k, () => f.i32(0), () => f.get(kc), 1, () => {
          f.v128Store(f.get(d), f.v128Load(f.get(s)));
          f.set(s, f.add(f.get(s), f.get(cs)));
          f.set(d, f.add(f.get(d), f.i32(MR * 4)));
        });
      }, () => {
        f.forRange(i, () => f.i32(0), () => f.i32(MR), 1, () => {
          f.set(d, f.add(f.get(panel), f.shl(f.get(i), f.i32(2))));
          f.if_(f.ltS(f.get(i), f.get(height)), () => {
            f.set(s, f.add(f.get(src), f.mul(f.add(f.get(i0), f.get(i)), f.get(rs))));
            f.forRange(k, () => f.i32(0), () => f.get(kc), 1, () => {
              f.f32Store(f.get(d), f.f32Load(f.get(s)));
              f.set(s, f.add(f.get(s), f.get(cs)));
              f.set(d, f.add(f.get(d), f.i32(MR * 4)));
            });
          }, () => {
            f.forRange(k, () => f.i32(0), () => f.get(kc), 1, () => {
              f.f32Store(f.get(d), f.f32(0));
              f.set(d, f.add(f.get(d), f.i32(MR * 4)));
            });
          });
        });
      });
    });
  });
}
function addMicroKernel(m2) {
  return m2.func(
    "sgemm_micro_4x8",
    ["i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32"],
    null,
    (f, pa, pb, kc, c, ldc, mr, nr, accumulate, tile) => {
      const acc = Array.from({ length: MR * 2 }, () => f.local("v128"));
      const b0 = f.local("v128"), b1 = f.local("v128"), av = f.local("v128");
      const k = f.local("i32"), row = f.local("i32"), i = f.local("i32"), j = f.local("i32");
      const src = f.local("i32");
      f.forRange(k, () => f.i32(0), () => f.get(kc), 1, () => {
        f.set(b0, f.v128Load(f.get(pb)));
        f.set(b1, f.v128Load(f.get(pb), 16));
        for (let r = 0; r < MR; r++) {
          f.set(av, f.v128Load32Splat(f.get(pa), r * 4));
          f.set(acc[2 * r], f.f32x4Add(f.get(acc[2 * r]), f.f32x4Mul(f.get(av), f.get(b0))));
          f.set(acc[2 * r + 1], f.f32x4Add(f.get(acc[2 * r + 1]), f.f32x4Mul(f.get(av), f.get(b1))));
        }
        f.set(pa, f.add(f.get(pa), f.i32(MR * 4)));
        f.set(pb, f.add(f.get(pb), f.i32(NR * 4)));
      });
      f.if_(f.and(f.geS(f.get(mr), f.i32(MR)), f.geS(f.get(nr), f.i32(NR))), () => {
        f.set(row, f.get(c));
        for (let r = 0; r < MR; r++) {
          for (let h = 0; h < 2; h++) {
            const a = acc[2 * r + h];
            f.if_(f.get(accumulate), () => f.set(a, f.f32x4Add(f.v128Load(f.get(row), h * 16), f.get(a))));
            f.v128Store(f.get(row), f.get(a), h * 16);
          }
          f.set(row, f.add(f.get(row), f.get(ldc)));
        }
      }, () => {
        for (let r = 0; r < MR; r++) {
          f.v128Store(f.get(tile), f.get(acc[2 * r]), r * 32);
          f.v128Store(f.get(tile), f.get(acc[2 * r + 1]), r * 32 + 16);
        }
        f.if_(f.gtS(f.get(mr), f.i32(MR)), () => f.set(mr, f.i32(MR)));
        f.if_(f.gtS(f.get(nr), f.i32(NR)), () => f.set(nr, f.i32(NR)));
        f.forRange(i, () => f.i32(0), () => f.get(mr), 1, () => {
          f.set(row, f.add(f.get(c), f.mul(f.get(i), f.get(ldc))));
          f.set(src, f.add(f.get(tile), f.shl(f.get(i), f.i32(5))));
          f.forRange(j, () => f.i32(0), () => f.get(nr), 1, () => {
            f.if_(f.get(accumulate), () => {
              f.f32Store(f.get(row), f.f32Add(f.f32Load(f.get(row)), f.f32Load(f.get(src))));
            }, () => {
              f.f32Store(f.get(row), f.f32Load(f.get(src)));
            });
            f.set(row, f.add(f.get(row), f.i32(4)));
            f.set(src, f.add(f.get(src), f.i32(4)));
          });
        });
      });
    }
  );
}
var MR, NR, KC, MC, NC, PACK_A_BYTES, PACK_B_BYTES, TILE_BYTES, SGEMM_SCRATCH_BYTES;
var init_matmul_program = __esm({
  "packages/kernels/src/wasm/matmul_program.ts"() {
    "use strict";
    MR = 4;
    NR = 8;
    KC = 256;
    MC = 128;
    NC = 1024;
    PACK_A_BYTES = MC * KC * 4;
    PACK_B_BYTES = KC * NC * 4;
    TILE_BYTES = MR * NR * 4;
    SGEMM_SCRATCH_BYTES = PACK_A_BYTES + PACK_B_BYTES + TILE_BYTES;
  }
});

// packages/kernels/src/wasm/emitter.ts
var VALTYPE_CODE, VAL, ByteWriter, ALIGN, FuncBuilder, ModuleBuilder;
var init_emitter = __esm({
  "packages/kernels/src/wasm/emitter.ts"() {
    "use strict";
    VALTYPE_CODE = { i32: 127, i64: 126, f32: 125, f64: 124, v128: 123 };
    VAL = {
      i32: { type: "i32" },
      i64: { type: "i64" },
      f32: { type: "f32" },
      f64: { type: "f64" },
      v128: { type: "v128" }
    };
    ByteWriter = class {
      buf = new Uint8Array(256);
      length = 0;
      u8(b) {
        if (this.length === this.buf.length) {
          const next = new Uint8Array(this.buf.length * 2);
          next.set(this.buf);
          this.buf = next;
        }
        this.buf[this.length++] = b & 255;
        return this;
      }
      bytes(bs) {
        for (let i = 0; i < bs.length; i++) this.u8(bs[i]);
        return this;
      }
      /** Unsigned LEB128: 7 bits per byte, low groups first, high bit set on all but the last byte. */
      u32(v) {
        let x2 = v >>> 0;
        do {
          let byte = x2 & 127;
          x2 >>>= 7;
          if (x2 !== 0) byte |= 128;
          this.u8(byte);
        } while (x2 !== 0);
        return this;
      }
      /** Signed LEB128 (32-bit): stop once the remaining bits are all copies of the sign bit. */
      s32(v) {
        let x2 = v | 0;
        for (; ; ) {
          const byte = x2 & 127;
          x2 >>= 7;
          const done = x2 === 0 && (byte & 64) === 0 || x2 === -1 && (byte & 64) !== 0;
          this.u8(done ? byte : byte | 128);
          if (done) return this;
        }
      }
      f32(v) {
        const b = new Uint8Array(4);
        new DataView(b.buffer).setFloat32(0, v, true);
        return this.bytes(b);
      }
      f64(v) {
        const b = new Uint8Array(8);
        new DataView(b.buffer).setFloat64(0, v, true);
        return this.bytes(b);
      }
      name(s) {
        const b = new TextEncoder().encode(s);
        return this.u32(b.length).bytes(b);
      }
      /** A section or body: its byte length (u32) followed by its contents. */
      sized(inner) {
        return this.u32(inner.length).bytes(inner.toBytes());
      }
      toBytes() {
        return this.buf.slice(0, this.length);
      }
    };
    ALIGN = { 1: 0, 2: 1, 4: 2, 8: 3, 16: 4 };
    FuncBuilder = class {
      code = new ByteWriter();
      params;
      localTypes = [];
      labels = [];
      constructor(params) {
        this.params = params.map((type, index) => ({ index, type }));
      }
      /** Declares a new local (zero-initialized on entry). */
      local(type) {
        const l = { index: this.params.length + this.localTypes.length, type };
        this.localTypes.push(type);
        return l;
      }
      /** The function body: locals declaration, instructions, `end`. */
      body() {
        const w = new ByteWriter();
        w.u32(this.localTypes.length);
        for (const t of this.localTypes) w.u32(1).u8(VALTYPE_CODE[t]);
        w.bytes(this.code.toBytes());
        w.u8(11);
        return w;
      }
      // ---- raw emission --------------------------------------------------------------------------
      op(byte, result) {
        this.code.u8(byte);
        return VAL[result];
      }
      simd(opcode, result) {
        this.code.u8(253).u32(opcode);
        return VAL[result];
      }
      mem(align, offset) {
        this.code.u32(align).u32(offset);
      }
      stmt(byte) {
        this.code.u8(byte);
      }
      // ---- locals and constants -----------------------------------------------------------------
      get(l) {
        this.code.u8(32).u32(l.index);
        return VAL[l.type];
      }
      set(l, _v) {
        this.code.u8(33).u32(l.index);
      }
      tee(l, _v) {
        this.code.u8(34).u32(l.index);
        return VAL[l.type];
      }
      i32(v) {
        this.code.u8(65).s32(v);
        return VAL.i32;
      }
      f32(v) {
        this.code.u8(67).f32(v);
        return VAL.f32;
      }
      f64(v) {
        this.code.u8(68).f64(v);
        return VAL.f64;
      }
      drop(_v) {
        this.stmt(26);
      }
      /** `cond ? a : b` without branching (both operands are evaluated). */
      select(_a, b, _c) {
        this.code.u8(27);
        return b;
      }
      // ---- i32 arithmetic and comparison --------------------------------------------------------
      add(_a, _b) {
        return this.op(106, "i32");
      }
      sub(_a, _b) {
        return this.op(107, "i32");
      }
      mul(_a, _b) {
        return this.op(108, "i32");
      }
      and(_a, _b) {
        return this.op(113, "i32");
      }
      shl(_a, _b) {
        return this.op(116, "i32");
      }
      shrU(_a, _b) {
        return this.op(118, "i32");
      }
      eqz(_a) {
        return this.op(69, "i32");
      }
      eq(_a, _b) {
        return this.op(70, "i32");
      }
      ne(_a, _b) {
        return this.op(71, "i32");
      }
      ltS(_a, _b) {
        return this.op(72, "i32");
      }
      gtS(_a, _b) {
        return this.op(74, "i32");
      }
      leS(_a, _b) {
        return this.op(76, "i32");
      }
      geS(_a, _b) {
        return this.op(78, "i32");
      }
      // ---- scalar floats --------------------------------------------------------------------------
      f32Add(_a, _b) {
        return this.op(146, "f32");
      }
      f32Sub(_a, _b) {
        return this.op(147, "f32");
      }
      f32Mul(_a, _b) {
        return this.op(148, "f32");
      }
      f32Div(_a, _b) {
        return this.op(149, "f32");
      }
      f32Max(_a, _b) {
        return this.op(151, "f32");
      }
      f32Min(_a, _b) {
        return this.op(150, "f32");
      }
      f32Sqrt(_a) {
        return this.op(145, "f32");
      }
      f32ConvertI32(_a) {
        return this.op(178, "f32");
      }
      f32DemoteF64(_a) {
        return this.op(182, "f32");
      }
      f64Add(_a, _b) {
        return this.op(160, "f64");
      }
      f64Sub(_a, _b) {
        return this.op(161, "f64");
      }
      f64Mul(_a, _b) {
        return this.op(162, "f64");
      }
      f64Div(_a, _b) {
        return this.op(163, "f64");
      }
      f64Sqrt(_a) {
        return this.op(159, "f64");
      }
      f64PromoteF32(_a) {
        return this.op(187, "f64");
      }
      /** The f32 whose bit pattern is the i32 (how JS passes float arguments through an Int32Array). */
      f32ReinterpretI32(_a) {
        return this.op(190, "f32");
      }
      // ---- memory (addresses are byte offsets; `offset` is a constant added by the instruction) ----
      i32Load(_addr, offset = 0) {
        this.stmt(40);
        this.mem(ALIGN[4], offset);
        return VAL.i32;
      }
      f32Load(_addr, offset = 0) {
        this.stmt(42);
        this.mem(ALIGN[4], offset);
        return VAL.f32;
      }
      f64Load(_addr, offset = 0) {
        this.stmt(43);
        this.mem(ALIGN[8], offset);
        return VAL.f64;
      }
      f32Store(_addr, _v, offset = 0) {
        this.stmt(56);
        this.mem(ALIGN[4], offset);
      }
      /** Unaligned-tolerant 16-byte load (alignment hint 4 bytes: f32 data is only 4-aligned in general). */
      v128Load(_addr, offset = 0) {
        this.code.u8(253).u32(0);
        this.mem(ALIGN[4], offset);
        return VAL.v128;
      }
      v128Store(_addr, _v, offset = 0) {
        this.code.u8(253).u32(11);
        this.mem(ALIGN[4], offset);
      }
      /** Loads one f32 and broadcasts it to all four lanes. */
      v128Load32Splat(_addr, offset = 0) {
        this.code.u8(253).u32(9);
        this.mem(ALIGN[4], offset);
        return VAL.v128;
      }
      /** Loads two f32 into the low 64 bits, zeroing the rest. */
      v128Load64Zero(_addr, offset = 0) {
        this.code.u8(253).u32(93);
        this.mem(ALIGN[4], offset);
        return VAL.v128;
      }
      /** Stores the low 64 bits (two f32) of a vector. */
      v128Store64Lane0(_addr, _v, offset = 0) {
        this.code.u8(253).u32(91);
        this.mem(ALIGN[4], offset);
        this.code.u8(0);
      }
      // ---- SIMD: f32x4, f64x2, i32x4, bitwise ------------------------------------------------------
      v128Const(lanes) {
        this.code.u8(253).u32(12);
        for (const x2 of lanes) this.code.f32(x2);
        return VAL.v128;
      }
      f32x4Splat(_a) {
        return this.simd(19, "v128");
      }
      f64x2Splat(_a) {
        return this.simd(20, "v128");
      }
      i32x4Splat(_a) {
        return this.simd(17, "v128");
      }
      f32x4ExtractLane(_a, lane) {
        this.simd(31, "f32");
        this.code.u8(lane);
        return VAL.f32;
      }
      f64x2ExtractLane(_a, lane) {
        this.simd(33, "f64");
        this.code.u8(lane);
        return VAL.f64;
      }
      f32x4Add(_a, _b) {
        return this.simd(228, "v128");
      }
      f32x4Sub(_a, _b) {
        return this.simd(229, "v128");
      }
      f32x4Mul(_a, _b) {
        return this.simd(230, "v128");
      }
      f32x4Div(_a, _b) {
        return this.simd(231, "v128");
      }
      /** IEEE-style min/max: NaN in either lane gives NaN (like Math.min/max). */
      f32x4Min(_a, _b) {
        return this.simd(232, "v128");
      }
      f32x4Max(_a, _b) {
        return this.simd(233, "v128");
      }
      f32x4Sqrt(_a) {
        return this.simd(227, "v128");
      }
      f32x4Nearest(_a) {
        return this.simd(106, "v128");
      }
      f32x4Lt(_a, _b) {
        return this.simd(67, "v128");
      }
      f32x4DemoteF64x2Zero(_a) {
        return this.simd(94, "v128");
      }
      f64x2PromoteLowF32x4(_a) {
        return this.simd(95, "v128");
      }
      f64x2Add(_a, _b) {
        return this.simd(240, "v128");
      }
      f64x2Sub(_a, _b) {
        return this.simd(241, "v128");
      }
      f64x2Mul(_a, _b) {
        return this.simd(242, "v128");
      }
      f64x2Div(_a, _b) {
        return this.simd(243, "v128");
      }
      f64x2Sqrt(_a) {
        return this.simd(239, "v128");
      }
      i32x4TruncSatF32x4S(_a) {
        return this.simd(248, "v128");
      }
      i32x4Add(_a, _b) {
        return this.simd(174, "v128");
      }
      i32x4Shl(_a, _b) {
        return this.simd(171, "v128");
      }
      v128And(_a, _b) {
        return this.simd(78, "v128");
      }
      /** a & ~b */
      v128AndNot(_a, _b) {
        return this.simd(79, "v128");
      }
      /** Per bit: mask ? a : b. */
      v128Bitselect(_a, _b, _mask) {
        return this.simd(82, "v128");
      }
      // ---- calls and structured control flow -----------------------------------------------------
      /** Calls `fn`; the arguments must already be on the stack (pass them as the rest parameters). */
      call(fn, ..._args) {
        this.code.u8(16).u32(fn.index);
        return fn.result ? VAL[fn.result] : void 0;
      }
      callImport(index, result, ..._args) {
        this.code.u8(16).u32(index);
        return result ? VAL[result] : void 0;
      }
      return_() {
        this.stmt(15);
      }
      structured(byte, kind, body) {
        const label = { kind };
        this.code.u8(byte).u8(64);
        this.labels.push(label);
        body(label);
        this.labels.pop();
        this.code.u8(11);
      }
      /** A forward branch target: `br(l)` inside jumps to the end of the block. */
      block(body) {
        this.structured(2, "block", body);
      }
      /** A backward branch target: `br(l)` inside jumps to the top of the loop. */
      loop(body) {
        this.structured(3, "loop", body);
      }
      if_(_cond, then, else_) {
        const label = { kind: "if" };
        this.code.u8(4).u8(64);
        this.labels.push(label);
        then();
        if (else_) {
          this.code.u8(5);
          else_();
        }
        this.labels.pop();
        this.code.u8(11);
      }
      depth(l) {
        const i = this.labels.lastIndexOf(l);
        if (i < 0) throw new Error("branch to a label that is not open");
        return this.labels.length - 1 - i;
      }
      br(l) {
        this.code.u8(12).u32(this.depth(l));
      }
      brIf(l, _cond) {
        this.code.u8(13).u32(this.depth(l));
      }
      /**
       * `for (i = start; i < end; i += step) body()` with signed i32 compares. `end` is re-read from
       * its local each iteration; the body may not change `i`.
       */
      forRange(i, start, end, step, body) {
        this.set(i, start());
        this.block((exit) => {
          this.brIf(exit, this.geS(this.get(i), end()));
          this.loop((top) => {
            body();
            this.set(i, this.add(this.get(i), this.i32(step)));
            this.brIf(top, this.ltS(this.get(i), end()));
          });
        });
      }
    };
    ModuleBuilder = class {
      constructor(memory2) {
        this.memory = memory2;
      }
      memory;
      types = [];
      typeSigs = [];
      imports = [];
      funcs = [];
      sealedImports = false;
      typeIndex(params, result) {
        const key = `${params.join(",")}->${result ?? ""}`;
        let i = this.types.indexOf(key);
        if (i < 0) {
          i = this.types.length;
          this.types.push(key);
          this.typeSigs.push({ params, result });
        }
        return i;
      }
      /** Imports a JS function as `env.<name>`; must come before any `func`. Returns its function index. */
      importFunc(name, params, result) {
        if (this.sealedImports) throw new Error("imports must be declared before functions");
        this.imports.push({ module: "env", name, typeIndex: this.typeIndex(params, result) });
        return this.imports.length - 1;
      }
      /**
       * Defines a function: `body` receives the builder and the parameter locals. Exported under `name`
       * unless `exported` is false.
       */
      func(name, params, result, body, exported = true) {
        this.sealedImports = true;
        const builder = new FuncBuilder(params);
        const index = this.imports.length + this.funcs.length;
        this.funcs.push({ name, typeIndex: this.typeIndex(params, result), builder, exported });
        body(builder, ...builder.params);
        return { index, name, result };
      }
      toBytes() {
        const out = new ByteWriter().bytes([0, 97, 115, 109, 1, 0, 0, 0]);
        const section = (id, fill5) => {
          const w = new ByteWriter();
          fill5(w);
          out.u8(id).sized(w);
        };
        section(1, (w) => {
          w.u32(this.typeSigs.length);
          for (const { params, result } of this.typeSigs) {
            w.u8(96).u32(params.length);
            for (const p of params) w.u8(VALTYPE_CODE[p]);
            if (result) w.u32(1).u8(VALTYPE_CODE[result]);
            else w.u32(0);
          }
        });
        section(2, (w) => {
          w.u32(this.imports.length + 1);
          for (const imp of this.imports) w.name(imp.module).name(imp.name).u8(0).u32(imp.typeIndex);
          const { initialPages, maximumPages, shared } = this.memory;
          w.name("env").name("memory").u8(2).u8(shared ? 3 : 1).u32(initialPages).u32(maximumPages);
        });
        section(3, (w) => {
          w.u32(this.funcs.length);
          for (const f of this.funcs) w.u32(f.typeIndex);
        });
        section(7, (w) => {
          const ex = this.funcs.map((f, i) => ({ f, i })).filter(({ f }) => f.exported);
          w.u32(ex.length);
          for (const { f, i } of ex) w.name(f.name).u8(0).u32(this.imports.length + i);
        });
        section(10, (w) => {
          w.u32(this.funcs.length);
          for (const f of this.funcs) w.sized(f.builder.body());
        });
        return out.toBytes();
      }
    };
  }
});

// packages/kernels/src/wasm/rows_program.ts
function emitExp(f, x2, out, t, n) {
  f.set(t, f.f32x4Min(f.f32x4Max(f.get(x2), f.v128Const(splat4(EXP_LO))), f.v128Const(splat4(EXP_HI))));
  f.set(n, f.f32x4Nearest(f.f32x4Mul(f.get(t), f.v128Const(splat4(LOG2E)))));
  f.set(t, f.f32x4Sub(f.get(t), f.f32x4Mul(f.get(n), f.v128Const(splat4(LN2_HI)))));
  f.set(t, f.f32x4Sub(f.get(t), f.f32x4Mul(f.get(n), f.v128Const(splat4(LN2_LO)))));
  const coef = [1 / 5040, 1 / 720, 1 / 120, 1 / 24, 1 / 6, 1 / 2, 1, 1];
  f.set(out, f.v128Const(splat4(coef[0])));
  for (let i = 1; i < coef.length; i++) {
    f.set(out, f.f32x4Add(f.f32x4Mul(f.get(out), f.get(t)), f.v128Const(splat4(coef[i]))));
  }
  f.set(n, f.i32x4Shl(f.i32x4Add(f.i32x4TruncSatF32x4S(f.get(n)), f.i32x4Splat(f.i32(127))), f.i32(23)));
  f.set(out, f.f32x4Mul(f.get(out), f.get(n)));
  f.set(out, f.v128AndNot(f.get(out), f.f32x4Lt(f.get(x2), f.v128Const(splat4(EXP_LO)))));
}
function hsum(f, v) {
  return f.f32Add(
    f.f32Add(f.f32x4ExtractLane(f.get(v), 0), f.f32x4ExtractLane(f.get(v), 1)),
    f.f32Add(f.f32x4ExtractLane(f.get(v), 2), f.f32x4ExtractLane(f.get(v), 3))
  );
}
function addSoftmax(m2, logImport) {
  return m2.func("softmax_rows", ["i32", "i32", "i32", "i32", "i32"], null, (f, x2, out, rows, cols, log2) => {
    const r = f.local("i32"), j = f.local("i32"), xr = f.local("i32"), yr = f.local("i32"), vecEnd = f.local("i32");
    const mx = f.local("f32"), s = f.local("f32"), ls = f.local("f32");
    const v = f.local("v128"), acc = f.local("v128"), e = f.local("v128"), t = f.local("v128"), n = f.local("v128");
    const vm = f.local("v128");
    f.set(vecEnd, f.sub(f.get(cols), f.i32(3)));
    f.forRange(r, () => f.i32(0), () => f.get(rows), 1, () => {
      f.set(xr, f.add(f.get(x2), f.shl(f.mul(f.get(r), f.get(cols)), f.i32(2))));
      f.set(yr, f.add(f.get(out), f.shl(f.mul(f.get(r), f.get(cols)), f.i32(2))));
      f.set(acc, f.v128Const(splat4(-Infinity)));
      f.forRange(j, () => f.i32(0), () => f.get(vecEnd), 4, () => {
        f.set(acc, f.f32x4Max(f.get(acc), f.v128Load(f.add(f.get(xr), f.shl(f.get(j), f.i32(2))))));
      });
      f.set(mx, f.f32Max(
        f.f32Max(f.f32x4ExtractLane(f.get(acc), 0), f.f32x4ExtractLane(f.get(acc), 1)),
        f.f32Max(f.f32x4ExtractLane(f.get(acc), 2), f.f32x4ExtractLane(f.get(acc), 3))
      ));
      tail(f, j, cols, () => f.set(mx, f.f32Max(f.get(mx), f.f32Load(f.add(f.get(xr), f.shl(f.get(j), f.i32(2)))))));
      f.set(vm, f.f32x4Splat(f.get(mx)));
      f.set(acc, f.v128Const(splat4(0)));
      f.forRange(j, () => f.i32(0), () => f.get(vecEnd), 4, () => {
        f.set(v, f.f32x4Sub(f.v128Load(f.add(f.get(xr), f.shl(f.get(j), f.i32(2)))), f.get(vm)));
        emitExp(f, v, e, t, n);
        f.if_(f.eqz(f.get(log2)), () => f.v128Store(f.add(f.get(yr), f.shl(f.get(j), f.i32(2))), f.get(e)));
        f.set(acc, f.f32x4Add(f.get(acc), f.get(e)));
      });
      f.set(s, hsum(f, acc));
      tail(f, j, cols, () => {
        f.set(v, f.f32x4Splat(f.f32Sub(f.f32Load(f.add(f.get(xr), f.shl(f.get(j), f.i32(2)))), f.get(mx))));
        emitExp(f, v, e, t, n);
        f.if_(f.eqz(f.get(log2)), () => f.f32Store(f.add(f.get(yr), f.shl(f.get(j), f.i32(2))), f.f32x4ExtractLane(f.get(e), 0)));
        f.set(s, f.f32Add(f.get(s), f.f32x4ExtractLane(f.get(e), 0)));
      });
      f.if_(f.get(log2), () => {
        f.set(ls, f.f32DemoteF64(f.callImport(logImport, "f64", f.f64PromoteF32(f.get(s)))));
        f.set(e, f.f32x4Splat(f.get(ls)));
        f.forRange(j, () => f.i32(0), () => f.get(vecEnd), 4, () => {
          f.v128Store(
            f.add(f.get(yr), f.shl(f.get(j), f.i32(2))),
            f.f32x4Sub(f.f32x4Sub(f.v128Load(f.add(f.get(xr), f.shl(f.get(j), f.i32(2)))), f.get(vm)), f.get(e))
          );
        });
        tail(f, j, cols, () => f.f32Store(
          f.add(f.get(yr), f.shl(f.get(j), f.i32(2))),
          f.f32Sub(f.f32Sub(f.f32Load(f.add(f.get(xr), f.shl(f.get(j), f.i32(2)))), f.get(mx)), f.get(ls))
        ));
      }, () => {
        f.set(v, f.f32x4Splat(f.get(s)));
        f.forRange(j, () => f.i32(0), () => f.get(vecEnd), 4, () => {
          f.v128Store(
            f.add(f.get(yr), f.shl(f.get(j), f.i32(2))),
            f.f32x4Div(f.v128Load(f.add(f.get(yr), f.shl(f.get(j), f.i32(2)))), f.get(v))
          );
        });
        tail(f, j, cols, () => f.f32Store(
          f.add(f.get(yr), f.shl(f.get(j), f.i32(2))),
          f.f32Div(f.f32Load(f.add(f.get(yr), f.shl(f.get(j), f.i32(2)))), f.get(s))
        ));
      });
    });
  });
}
function tail(f, j, cols, body) {
  f.set(j, f.and(f.get(cols), f.i32(~3)));
  f.block((exit) => {
    f.brIf(exit, f.geS(f.get(j), f.get(cols)));
    f.loop((top) => {
      body();
      f.set(j, f.add(f.get(j), f.i32(1)));
      f.brIf(top, f.ltS(f.get(j), f.get(cols)));
    });
  });
}
function addLayerNorm(m2) {
  return m2.func(
    "layernorm_rows",
    ["i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32"],
    null,
    (f, x2, w, b, out, mean2, rstd, rows, D, params) => {
      const r = f.local("i32"), j = f.local("i32"), xr = f.local("i32"), yr = f.local("i32"), vecEnd = f.local("i32");
      const mu = f.local("f32"), s = f.local("f32"), rs = f.local("f32"), d = f.local("f32"), eps = f.local("f64");
      const acc = f.local("v128"), v = f.local("v128"), vmu = f.local("v128"), vrs = f.local("v128");
      const addr = (base) => f.add(f.get(base), f.shl(f.get(j), f.i32(2)));
      f.set(eps, f.f64Load(f.get(params)));
      f.set(d, f.f32ConvertI32(f.get(D)));
      f.set(vecEnd, f.sub(f.get(D), f.i32(3)));
      f.forRange(r, () => f.i32(0), () => f.get(rows), 1, () => {
        f.set(xr, f.add(f.get(x2), f.shl(f.mul(f.get(r), f.get(D)), f.i32(2))));
        f.set(yr, f.add(f.get(out), f.shl(f.mul(f.get(r), f.get(D)), f.i32(2))));
        f.set(acc, f.v128Const(splat4(0)));
        f.forRange(j, () => f.i32(0), () => f.get(vecEnd), 4, () => f.set(acc, f.f32x4Add(f.get(acc), f.v128Load(addr(xr)))));
        f.set(s, hsum(f, acc));
        tail(f, j, D, () => f.set(s, f.f32Add(f.get(s), f.f32Load(addr(xr)))));
        f.set(mu, f.f32Div(f.get(s), f.get(d)));
        f.set(vmu, f.f32x4Splat(f.get(mu)));
        f.set(acc, f.v128Const(splat4(0)));
        f.forRange(j, () => f.i32(0), () => f.get(vecEnd), 4, () => {
          f.set(v, f.f32x4Sub(f.v128Load(addr(xr)), f.get(vmu)));
          f.set(acc, f.f32x4Add(f.get(acc), f.f32x4Mul(f.get(v), f.get(v))));
        });
        f.set(s, hsum(f, acc));
        tail(f, j, D, () => {
          f.set(v, f.f32x4Splat(f.f32Sub(f.f32Load(addr(xr)), f.get(mu))));
          f.set(s, f.f32Add(f.get(s), f.f32x4ExtractLane(f.f32x4Mul(f.get(v), f.get(v)), 0)));
        });
        f.set(rs, f.f32DemoteF64(f.f64Div(f.f64(1), f.f64Sqrt(f.f64Add(f.f64PromoteF32(f.f32Div(f.get(s), f.get(d))), f.get(eps))))));
        f.f32Store(f.add(f.get(mean2), f.shl(f.get(r), f.i32(2))), f.get(mu));
        f.f32Store(f.add(f.get(rstd), f.shl(f.get(r), f.i32(2))), f.get(rs));
        f.set(vrs, f.f32x4Splat(f.get(rs)));
        f.forRange(j, () => f.i32(0), () => f.get(vecEnd), 4, () => {
          f.v128Store(addr(yr), f.f32x4Add(
            f.f32x4Mul(f.f32x4Mul(f.f32x4Sub(f.v128Load(addr(xr)), f.get(vmu)), f.get(vrs)), f.v128Load(addr(w))),
            f.v128Load(addr(b))
          ));
        });
        tail(f, j, D, () => {
          f.f32Store(addr(yr), f.f32Add(
            f.f32Mul(f.f32Mul(f.f32Sub(f.f32Load(addr(xr)), f.get(mu)), f.get(rs)), f.f32Load(addr(w))),
            f.f32Load(addr(b))
          ));
        });
      });
    }
  );
}
var LOG2E, LN2_HI, LN2_LO, EXP_LO, EXP_HI, splat4;
var init_rows_program = __esm({
  "packages/kernels/src/wasm/rows_program.ts"() {
    "use strict";
    LOG2E = 1.4426950408889634;
    LN2_HI = 0.693359375;
    LN2_LO = -21219444e-11;
    EXP_LO = -87.33;
    EXP_HI = 88.37;
    splat4 = (c) => [c, c, c, c];
  }
});

// packages/kernels/src/wasm/module.ts
function buildKernelModule(shared) {
  const m2 = new ModuleBuilder({ initialPages: 1, maximumPages: MAX_PAGES, shared });
  const log2 = m2.importFunc("log", ["f64"], "f64");
  addMatmul(m2);
  addBinary(m2);
  addSoftmax(m2, log2);
  addLayerNorm(m2);
  addAdamW(m2);
  return m2.toBytes();
}
var WASM_EXPORTS, MAX_PAGES, WASM_IMPORTS;
var init_module = __esm({
  "packages/kernels/src/wasm/module.ts"() {
    "use strict";
    init_emitter();
    init_elementwise_program();
    init_matmul_program();
    init_rows_program();
    WASM_EXPORTS = [
      "sgemm",
      "binary_add",
      "binary_sub",
      "binary_mul",
      "binary_div",
      "softmax_rows",
      "layernorm_rows",
      "adamw"
    ];
    MAX_PAGES = 65536;
    WASM_IMPORTS = { log: Math.log };
  }
});

// packages/kernels/src/wasm/threads.ts
function canBlock() {
  if (nodeWorkers) return true;
  return typeof globalThis.WorkerGlobalScope !== "undefined";
}
function canShareMemory() {
  if (typeof SharedArrayBuffer === "undefined") return false;
  if (!nodeWorkers && !globalThis.crossOriginIsolated) return false;
  if (!nodeWorkers && typeof Worker === "undefined") return false;
  return canBlock();
}
function defaultThreadCount() {
  const fromEnv = typeof process !== "undefined" ? Number(process.env?.WEBGRAD_CPU_THREADS) : NaN;
  if (Number.isInteger(fromEnv) && fromEnv >= 1) return Math.min(fromEnv, MAX_THREADS);
  let n = 1;
  if (nodeOs) n = typeof nodeOs.availableParallelism === "function" ? nodeOs.availableParallelism() : nodeOs.cpus().length;
  else if (typeof navigator !== "undefined" && navigator.hardwareConcurrency) n = navigator.hardwareConcurrency;
  return Math.max(1, Math.min(n, MAX_THREADS));
}
var MAX_THREADS, SLOT_WORDS, HEADER, CTL_BYTES, PENDING, ERROR, READY, WORKER_SOURCE, nodeWorkers, nodeOs, isNode, nodeModulesReady, ThreadPool;
var init_threads = __esm({
  "packages/kernels/src/wasm/threads.ts"() {
    "use strict";
    MAX_THREADS = 64;
    SLOT_WORDS = 256;
    HEADER = 4;
    CTL_BYTES = MAX_THREADS * SLOT_WORDS * 4;
    PENDING = 0;
    ERROR = 1;
    READY = 2;
    WORKER_SOURCE = `
'use strict';
function start(d) {
  const inst = new WebAssembly.Instance(d.module, { env: { memory: d.memory, log: Math.log } });
  const fns = d.names.map((n) => inst.exports[n]);
  const ctl = new Int32Array(d.memory.buffer, 0, d.ctlWords);
  const base = d.slot * d.slotWords;
  Atomics.add(ctl, ${READY}, 1);
  let seen = 0;
  for (;;) {
    Atomics.wait(ctl, base, seen);
    const seq = Atomics.load(ctl, base);
    if (seq === seen) continue;
    seen = seq;
    try {
      const fn = fns[ctl[base + 1]], n = ctl[base + 2], argc = ctl[base + 3];
      for (let i = 0, p = base + ${HEADER}; i < n; i++, p += argc) fn.apply(null, ctl.subarray(p, p + argc));
    } catch (e) {
      Atomics.store(ctl, ${ERROR}, 1);
    }
    if (Atomics.sub(ctl, ${PENDING}, 1) === 1) Atomics.notify(ctl, ${PENDING});
  }
}
if (typeof process !== 'undefined' && process.versions && process.versions.node) {
  start(require('node:worker_threads').workerData);
} else {
  self.onmessage = (e) => start(e.data);
}
`;
    nodeWorkers = null;
    nodeOs = null;
    isNode = typeof process !== "undefined" && !!process.versions?.node;
    nodeModulesReady = isNode ? Promise.all([
      import(
        /* @vite-ignore */
        "node:worker_threads"
      ).then((m2) => {
        nodeWorkers = m2;
      }, () => {
      }),
      import(
        /* @vite-ignore */
        "node:os"
      ).then((m2) => {
        nodeOs = m2;
      }, () => {
      })
    ]).then(() => {
    }) : Promise.resolve();
    ThreadPool = class {
      constructor(module, memory2, names) {
        this.module = module;
        this.memory = memory2;
        this.names = names;
        this.ctl = new Int32Array(memory2.buffer, 0, CTL_BYTES / 4);
      }
      module;
      memory;
      names;
      workers = [];
      ctl;
      /** Workers started so far (the calling thread is not counted). */
      get workerCount() {
        return this.workers.length;
      }
      /** Starts workers until there are `n` (for `n + 1` threads in all). */
      ensureWorkers(n) {
        while (this.workers.length < Math.min(n, MAX_THREADS - 1)) {
          const slot = this.workers.length + 1;
          Atomics.store(this.ctl, slot * SLOT_WORDS, 0);
          const data2 = {
            module: this.module,
            memory: this.memory,
            names: this.names,
            slot,
            slotWords: SLOT_WORDS,
            ctlWords: CTL_BYTES / 4
          };
          if (nodeWorkers) {
            const w = new nodeWorkers.Worker(WORKER_SOURCE, { eval: true, workerData: data2 });
            w.unref();
            this.workers.push(w);
          } else {
            const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "text/javascript" }));
            const w = new Worker(url);
            w.postMessage(data2);
            this.workers.push(w);
          }
        }
      }
      /** Resolves once every started worker has instantiated the module (browsers should await this once). */
      async ready() {
        while (Atomics.load(this.ctl, READY) < this.workers.length) await new Promise((r) => setTimeout(r, 1));
      }
      /**
       * Runs export `fn` with the given calls on each thread: perThread[0] on the calling thread,
       * perThread[t] on worker t. Returns when all are done. Lists longer than a slot holds run in
       * several fork–join rounds.
       */
      run(fn, argc, perThread, callMain) {
        const cap = Math.floor((SLOT_WORDS - HEADER) / argc);
        const rounds = Math.max(...perThread.map((a) => Math.ceil(a.length / argc / cap)), 0);
        const ctl = this.ctl;
        for (let round = 0; round < rounds; round++) {
          const lo = round * cap * argc;
          const hi = lo + cap * argc;
          let pending = 0;
          for (let t = 1; t < perThread.length; t++) if (perThread[t].length > lo) pending++;
          Atomics.store(ctl, PENDING, pending);
          for (let t = 1; t < perThread.length; t++) {
            const list2 = perThread[t];
            if (list2.length <= lo) continue;
            const base = t * SLOT_WORDS;
            const part = list2.slice(lo, hi);
            ctl[base + 1] = fn;
            ctl[base + 2] = part.length / argc;
            ctl[base + 3] = argc;
            ctl.set(part, base + HEADER);
            Atomics.add(ctl, base, 1);
            Atomics.notify(ctl, base, 1);
          }
          const mine = perThread[0] ?? [];
          try {
            for (let p = lo; p < Math.min(hi, mine.length); p += argc) callMain(mine.slice(p, p + argc));
          } finally {
            for (let v = Atomics.load(ctl, PENDING); v !== 0; v = Atomics.load(ctl, PENDING)) Atomics.wait(ctl, PENDING, v);
          }
          if (Atomics.load(ctl, ERROR) !== 0) {
            Atomics.store(ctl, ERROR, 0);
            throw new Error(`fast cpu kernels: a worker thread failed running '${this.names[fn]}'`);
          }
        }
      }
      terminate() {
        for (const w of this.workers.splice(0)) w.terminate();
      }
    };
  }
});

// packages/kernels/src/wasm/runtime.ts
function wasmRuntime() {
  if (!runtime) runtime = new WasmRuntime(wantedThreads === null ? {} : { threads: wantedThreads });
  return runtime;
}
var PAGE, WasmRuntime, runtime, wantedThreads;
var init_runtime2 = __esm({
  "packages/kernels/src/wasm/runtime.ts"() {
    "use strict";
    init_module();
    init_threads();
    PAGE = 65536;
    WasmRuntime = class {
      shared;
      memory;
      module;
      fns;
      pool = null;
      threads;
      top = CTL_BYTES;
      f32View;
      f64View;
      constructor(opts = {}) {
        this.shared = (opts.shared ?? true) && canShareMemory();
        const initial = CTL_BYTES / PAGE + 16;
        this.memory = this.shared ? new WebAssembly.Memory({ initial, maximum: MAX_PAGES, shared: true }) : new WebAssembly.Memory({ initial, maximum: MAX_PAGES });
        this.module = new WebAssembly.Module(buildKernelModule(this.shared));
        const instance = new WebAssembly.Instance(this.module, { env: { memory: this.memory, ...WASM_IMPORTS } });
        this.fns = WASM_EXPORTS.map((n) => instance.exports[n]);
        this.threads = 1;
        this.f32View = new Float32Array(this.memory.buffer);
        this.f64View = new Float64Array(this.memory.buffer);
        this.setThreads(opts.threads ?? defaultThreadCount());
      }
      /** Threads kernels may use (1 where memory cannot be shared). */
      get numThreads() {
        return this.threads;
      }
      setThreads(n) {
        if (!Number.isInteger(n) || n < 1) throw new RangeError(`setNumThreads: expected a positive integer, got ${n}`);
        this.threads = this.shared ? Math.min(n, MAX_THREADS) : 1;
      }
      /** Resolves once the worker threads for the current thread count are running (optional in Node). */
      async ready() {
        if (this.threads > 1) {
          this.poolFor(this.threads);
          await this.pool.ready();
        }
      }
      // ---- arena -------------------------------------------------------------------------------------
      /** Forgets every allocation (call at the start of each kernel). */
      reset() {
        this.top = CTL_BYTES;
      }
      /** `bytes` of 16-byte-aligned arena memory (plus 16 bytes of slack for padded vector tails). */
      alloc(bytes) {
        const addr = this.top;
        this.top = addr + (bytes + 31 & ~15);
        const have = this.memory.buffer.byteLength;
        if (this.top > have) {
          if (this.top > MAX_PAGES * PAGE) throw new RangeError(`fast cpu kernels: working set of ${this.top} bytes exceeds 4 GiB`);
          const want = Math.min(MAX_PAGES, Math.max(Math.ceil(this.top / PAGE), Math.ceil(have * 1.5 / PAGE)));
          this.memory.grow(want - have / PAGE);
        }
        return addr;
      }
      f32() {
        if (this.f32View.byteLength !== this.memory.buffer.byteLength) this.f32View = new Float32Array(this.memory.buffer);
        return this.f32View;
      }
      f64() {
        if (this.f64View.byteLength !== this.memory.buffer.byteLength) this.f64View = new Float64Array(this.memory.buffer);
        return this.f64View;
      }
      // ---- running ------------------------------------------------------------------------------------
      /** Runs one export on this thread. */
      call(name, ...args) {
        this.fns[WASM_EXPORTS.indexOf(name)](...args);
      }
      /**
       * Runs `name` once per argument tuple, tuples grouped by thread: perThread[t] is the flat list of
       * tuples (each `argc` numbers) for thread t; thread 0 is this one.
       */
      parallel(name, argc, perThread) {
        const idx = WASM_EXPORTS.indexOf(name);
        const fn = this.fns[idx];
        const callMain = (args) => fn(...args);
        const used = perThread.length;
        if (used <= 1 || !this.shared) {
          for (const list2 of perThread) for (let p = 0; p < list2.length; p += argc) callMain(list2.slice(p, p + argc));
          return;
        }
        this.poolFor(used).run(idx, argc, perThread, callMain);
      }
      poolFor(threads) {
        if (!this.pool) this.pool = new ThreadPool(this.module, this.memory, WASM_EXPORTS);
        this.pool.ensureWorkers(threads - 1);
        return this.pool;
      }
    };
    runtime = null;
    wantedThreads = null;
    void nodeModulesReady.then(() => {
      if (runtime && !runtime.shared && canShareMemory()) runtime = null;
    });
  }
});

// packages/kernels/src/wasm/kernels.ts
function splitRange(n, parts, align) {
  const out = [];
  let prev = 0;
  for (let i = 1; i <= parts; i++) {
    const end = i === parts ? n : Math.min(n, Math.round(i * n / parts / align) * align);
    out.push([prev, Math.max(prev, end)]);
    prev = Math.max(prev, end);
  }
  return out;
}
function gcd(a, b) {
  while (b) [a, b] = [b, a % b];
  return a;
}
function copyMatrix(heap, dst, src, off, rows, cols, rs, cs) {
  const d = dst >> 2;
  const n = rows * cols;
  if ((cols === 1 || cs === 1) && (rows === 1 || rs === cols)) {
    heap.set(src.subarray(off, off + n), d);
    return [cols * 4, 4];
  }
  if ((rows === 1 || rs === 1) && (cols === 1 || cs === rows)) {
    heap.set(src.subarray(off, off + n), d);
    return [4, rows * 4];
  }
  if (cs === 1) {
    for (let i = 0; i < rows; i++) heap.set(src.subarray(off + i * rs, off + i * rs + cols), d + i * cols);
    return [cols * 4, 4];
  }
  if (rs === 1) {
    for (let j = 0; j < cols; j++) heap.set(src.subarray(off + j * cs, off + j * cs + rows), d + j * rows);
    return [4, rows * 4];
  }
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) heap[d + i * cols + j] = src[off + i * rs + j * cs];
  return [cols * 4, 4];
}
function batchOffsets(v, batchShape) {
  const offs = [];
  forEachIndex(batchShape, (bi) => {
    let o = v.offset;
    for (let d = 0; d < bi.length; d++) o += bi[d] * v.strides[d];
    offs.push(o);
  });
  if (batchShape.length === 0) offs.push(v.offset);
  return offs;
}
function matmul3(a, b, out) {
  if (!isF322(a) || !isF322(b) || !isF322(out)) return cpuKernels.matmul(a, b, out);
  const r = out.shape.length;
  const M = out.shape[r - 2], N = out.shape[r - 1], K = a.shape[r - 1];
  if (N > 1 && out.strides[r - 1] !== 1) return cpuKernels.matmul(a, b, out);
  if (M === 0 || N === 0) return;
  if (K === 0) return cpuKernels.fill(out, 0);
  const batchShape = out.shape.slice(0, r - 2);
  const nb = numel2(batchShape);
  if (nb === 0) return;
  const rt = wasmRuntime();
  rt.reset();
  const offA = batchOffsets(a, batchShape), offB = batchOffsets(b, batchShape), offO = batchOffsets(out, batchShape);
  const ptrA = /* @__PURE__ */ new Map(), ptrB = /* @__PURE__ */ new Map();
  for (const o of offA) if (!ptrA.has(o)) ptrA.set(o, rt.alloc(M * K * 4));
  for (const o of offB) if (!ptrB.has(o)) ptrB.set(o, rt.alloc(K * N * 4));
  const c = rt.alloc(nb * M * N * 4);
  const threads = M * N * K * nb >= FAST_CPU_CONFIG.matmulParallelMin ? rt.numThreads : 1;
  const scratch = rt.alloc(threads * SGEMM_SCRATCH_BYTES);
  const heap = rt.f32();
  const [saM, saK] = [a.strides[r - 2], a.strides[r - 1]];
  const [sbK, sbN] = [b.strides[r - 2], b.strides[r - 1]];
  let la = [K * 4, 4], lb = [N * 4, 4];
  for (const [o, p2] of ptrA) la = copyMatrix(heap, p2, a.buffer, o, M, K, saM, saK);
  for (const [o, p2] of ptrB) lb = copyMatrix(heap, p2, b.buffer, o, K, N, sbK, sbN);
  const [rsa, csa] = la, [rsb, csb] = lb;
  const p = threads / gcd(nb, threads);
  const alongN = N >= M;
  const parts = splitRange(alongN ? N : M, p, alongN ? NR : MR);
  const blocks = [];
  for (let bi = 0; bi < nb; bi++) {
    const ap = ptrA.get(offA[bi]), bp = ptrB.get(offB[bi]), cp = c + bi * M * N * 4;
    for (const [lo, hi] of parts) {
      const [m0, m1, n0, n1] = alongN ? [0, M, lo, hi] : [lo, hi, 0, N];
      blocks.push([ap + m0 * rsa, rsa, csa, bp + n0 * csb, rsb, csb, cp + (m0 * N + n0) * 4, N * 4, m1 - m0, n1 - n0, K]);
    }
  }
  const perThread = Array.from({ length: threads }, () => []);
  const per = blocks.length / threads;
  blocks.forEach((blk, i) => {
    const t = Math.floor(i / per);
    if (blk[8] > 0 && blk[9] > 0) perThread[t].push(...blk, scratch + t * SGEMM_SCRATCH_BYTES);
  });
  rt.parallel("sgemm", 12, perThread);
  const res = rt.f32();
  const soM = out.strides[r - 2];
  if (isContiguous2(out)) {
    out.buffer.set(res.subarray(c >> 2, (c >> 2) + nb * M * N), out.offset);
  } else {
    for (let bi = 0; bi < nb; bi++) {
      const src = (c >> 2) + bi * M * N;
      if (M === 1 || soM === N) out.buffer.set(res.subarray(src, src + M * N), offO[bi]);
      else for (let i = 0; i < M; i++) out.buffer.set(res.subarray(src + i * N, src + (i + 1) * N), offO[bi] + i * soM);
    }
  }
}
function rowPattern(v, shape, s) {
  const r = shape.length;
  const innerShape = shape.slice(s);
  const ics = contiguousStrides2(innerShape);
  let contiguous2 = true, broadcast = true;
  for (let d = s; d < r; d++) {
    if (shape[d] <= 1) continue;
    if (v.strides[d] !== ics[d - s]) contiguous2 = false;
    if (v.strides[d] !== 0) broadcast = false;
  }
  if (!contiguous2 && !broadcast) return null;
  const outer = shape.slice(0, s);
  const cs = contiguousStrides2(outer);
  let ro = null;
  for (let d = 0; d < s; d++) {
    if (outer[d] <= 1) continue;
    const st = v.strides[d];
    if (st % cs[d] !== 0) return null;
    const k = st / cs[d];
    if (ro === null) ro = k;
    else if (ro !== k) return null;
  }
  return { inner: contiguous2 ? 1 : 0, ro: ro ?? 0 };
}
function binarySlow(op, a, b, out) {
  if (!binary3(op, a, b, out)) cpuKernels.binary(op, a, b, out);
}
function binary4(op, a, b, out) {
  if (!BINARY_FAST_OPS.includes(op) || !isF322(a) || !isF322(b) || !isF322(out) || !isContiguous2(out)) {
    return binarySlow(op, a, b, out);
  }
  const total = numel2(out.shape);
  if (total === 0) return;
  const r = out.shape.length;
  let rows = 1, n = total, pa = null, pb = null;
  for (let s = 0; s < Math.max(r, 1); s++) {
    pa = rowPattern(a, out.shape, s);
    pb = rowPattern(b, out.shape, s);
    if (pa && pb) {
      n = numel2(out.shape.slice(s));
      rows = total / n;
      break;
    }
  }
  if (!pa || !pb) return binarySlow(op, a, b, out);
  const span = (p) => (rows - 1) * p.ro + (p.inner ? n : 1);
  const sa = span(pa), sb = span(pb);
  if (sa > 2 * total + 16 || sb > 2 * total + 16) return binarySlow(op, a, b, out);
  const rt = wasmRuntime();
  rt.reset();
  const ap = rt.alloc(sa * 4), bp = rt.alloc(sb * 4), op_ = rt.alloc(total * 4);
  const heap = rt.f32();
  heap.set(a.buffer.subarray(a.offset, a.offset + sa), ap >> 2);
  heap.set(b.buffer.subarray(b.offset, b.offset + sb), bp >> 2);
  const threads = total >= FAST_CPU_CONFIG.elementwiseParallelMin ? rt.numThreads : 1;
  const perThread = [];
  if (rows === 1) {
    for (const [lo, hi] of splitRange(n, threads, 4)) {
      perThread.push(hi > lo ? [ap + lo * 4 * pa.inner, pa.inner, 0, bp + lo * 4 * pb.inner, pb.inner, 0, op_ + lo * 4, hi - lo, 1] : []);
    }
  } else {
    for (const [lo, hi] of splitRange(rows, threads, 1)) {
      perThread.push(hi > lo ? [ap + lo * pa.ro * 4, pa.inner, pa.ro * 4, bp + lo * pb.ro * 4, pb.inner, pb.ro * 4, op_ + lo * n * 4, n, hi - lo] : []);
    }
  }
  rt.parallel(`binary_${op}`, 9, perThread);
  out.buffer.set(rt.f32().subarray(op_ >> 2, (op_ >> 2) + total), out.offset);
}
function rowSplit(rt, rows, cols) {
  const threads = rows * cols >= FAST_CPU_CONFIG.elementwiseParallelMin ? Math.min(rt.numThreads, rows) : 1;
  return splitRange(rows, threads, 1);
}
function softmax3(x2, out, log2) {
  if (!isF322(x2) || !isF322(out) || !isContiguous2(x2) || !isContiguous2(out)) return cpuKernels.softmax(x2, out, log2);
  const { rows, cols } = rowsOf(x2.shape);
  const total = rows * cols;
  if (total === 0) return;
  const rt = wasmRuntime();
  rt.reset();
  const xp = rt.alloc(total * 4), yp = rt.alloc(total * 4);
  rt.f32().set(x2.buffer.subarray(x2.offset, x2.offset + total), xp >> 2);
  const perThread = rowSplit(rt, rows, cols).map(([lo, hi]) => hi > lo ? [xp + lo * cols * 4, yp + lo * cols * 4, hi - lo, cols, log2 ? 1 : 0] : []);
  rt.parallel("softmax_rows", 5, perThread);
  out.buffer.set(rt.f32().subarray(yp >> 2, (yp >> 2) + total), out.offset);
}
function layerNorm3(x2, weight, bias, eps, out, mean2, rstd) {
  const ok = (v) => v === null || isF322(v) && isContiguous2(v);
  if (!isF322(x2) || !isContiguous2(x2) || !isF322(out) || !isContiguous2(out) || !ok(weight) || !ok(bias) || !isF322(mean2) || !isContiguous2(mean2) || !isF322(rstd) || !isContiguous2(rstd)) {
    return cpuKernels.layerNorm(x2, weight, bias, eps, out, mean2, rstd);
  }
  const { rows, cols: D } = rowsOf(x2.shape);
  const total = rows * D;
  if (total === 0) return;
  const rt = wasmRuntime();
  rt.reset();
  const xp = rt.alloc(total * 4), yp = rt.alloc(total * 4), wp = rt.alloc(D * 4), bp = rt.alloc(D * 4);
  const mp = rt.alloc(rows * 4), rp = rt.alloc(rows * 4), params = rt.alloc(8);
  const heap = rt.f32();
  heap.set(x2.buffer.subarray(x2.offset, x2.offset + total), xp >> 2);
  if (weight) heap.set(weight.buffer.subarray(weight.offset, weight.offset + D), wp >> 2);
  else heap.fill(1, wp >> 2, (wp >> 2) + D);
  if (bias) heap.set(bias.buffer.subarray(bias.offset, bias.offset + D), bp >> 2);
  else heap.fill(0, bp >> 2, (bp >> 2) + D);
  rt.f64()[params >> 3] = eps;
  const perThread = rowSplit(rt, rows, D).map(([lo, hi]) => hi > lo ? [xp + lo * D * 4, wp, bp, yp + lo * D * 4, mp + lo * 4, rp + lo * 4, hi - lo, D, params] : []);
  rt.parallel("layernorm_rows", 9, perThread);
  const res = rt.f32();
  out.buffer.set(res.subarray(yp >> 2, (yp >> 2) + total), out.offset);
  mean2.buffer.set(res.subarray(mp >> 2, (mp >> 2) + rows), mean2.offset);
  rstd.buffer.set(res.subarray(rp >> 2, (rp >> 2) + rows), rstd.offset);
}
function adamw3(param, grad2, m2, v, opts) {
  const views = [param, grad2, m2, v];
  if (!views.every((x2) => isF322(x2) && isContiguous2(x2))) return cpuKernels.adamw(param, grad2, m2, v, opts);
  const n = numel2(param.shape);
  if (n === 0) return;
  const rt = wasmRuntime();
  rt.reset();
  const ptrs = views.map(() => rt.alloc(n * 4));
  const params = rt.alloc(ADAMW_PARAMS.length * 8);
  const heap = rt.f32();
  views.forEach((x2, i) => heap.set(x2.buffer.subarray(x2.offset, x2.offset + n), ptrs[i] >> 2));
  const { lr, beta1, beta2, eps, weightDecay, step } = opts;
  const consts = {
    lrTimesWd: lr * weightDecay,
    beta1,
    oneMinusBeta1: 1 - beta1,
    beta2,
    oneMinusBeta2: 1 - beta2,
    bc1: 1 - Math.pow(beta1, step),
    bc2: 1 - Math.pow(beta2, step),
    lr,
    eps
  };
  rt.f64().set(ADAMW_PARAMS.map((k) => consts[k]), params >> 3);
  const threads = n >= FAST_CPU_CONFIG.elementwiseParallelMin ? rt.numThreads : 1;
  const padded = n + (n & 1);
  const perThread = splitRange(padded, threads, 2).map(([lo, hi]) => hi > lo ? [...ptrs.map((p) => p + lo * 4), hi - lo, params] : []);
  rt.parallel("adamw", 6, perThread);
  const res = rt.f32();
  for (const i of [0, 2, 3]) views[i].buffer.set(res.subarray(ptrs[i] >> 2, (ptrs[i] >> 2) + n), views[i].offset);
}
function probabilities(s, B, H, Tq, Tk, mask, opts, lseIn, lseOut) {
  const z = new Float64Array(Tk);
  const { scale, causal } = opts;
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < Tq; i++) {
    const row = ((b * H + h) * Tq + i) * Tk;
    const lim = causal ? Math.max(0, Math.min(Tk, i + (Tk - Tq) + 1)) : Tk;
    if (mask) {
      const mb = mask.buffer, ms = mask.strides, mo = mask.offset + b * ms[0] + h * ms[1] + i * ms[2], mj = ms[3];
      for (let j = 0; j < lim; j++) z[j] = s[row + j] * scale + mb[mo + j * mj];
    } else {
      for (let j = 0; j < lim; j++) z[j] = s[row + j] * scale;
    }
    let l;
    if (lseIn) {
      l = lseIn.buffer[lseIn.offset + b * lseIn.strides[0] + h * lseIn.strides[1] + i * lseIn.strides[2]];
    } else {
      let m2 = -Infinity;
      for (let j = 0; j < lim; j++) if (z[j] > m2) m2 = z[j];
      if (m2 === -Infinity) {
        l = -Infinity;
      } else {
        let sum2 = 0;
        for (let j = 0; j < lim; j++) sum2 += Math.exp(z[j] - m2);
        l = m2 + Math.log(sum2);
      }
      lseOut[(b * H + h) * Tq + i] = l;
    }
    if (l === -Infinity) {
      s.fill(0, row, row + Tk);
      continue;
    }
    for (let j = 0; j < lim; j++) s[row + j] = Math.exp(z[j] - l);
    s.fill(0, row + lim, row + Tk);
  }
}
function attentionFast(q, k, v, mask, out) {
  return q.shape.length === 4 && isF322(q) && isF322(k) && isF322(v) && isF322(out) && (mask === null || isF322(mask)) && numel2(q.shape) > 0 && numel2(k.shape) > 0 && q.shape[3] > 0 && v.shape[3] > 0;
}
function attention3(q, k, v, mask, opts, out, lse) {
  if (!attentionFast(q, k, v, mask, out) || !(lse.dtype === "float32" || lse.dtype === "float64")) {
    return cpuKernels.attention(q, k, v, mask, opts, out, lse);
  }
  const [B, H, Tq] = q.shape;
  const Tk = k.shape[2];
  const s = new Float32Array(B * H * Tq * Tk);
  matmul3(q, swapLast(k), f32View(s, [B, H, Tq, Tk]));
  const l = new Float64Array(B * H * Tq);
  probabilities(s, B, H, Tq, Tk, mask, opts, null, l);
  matmul3(f32View(s, [B, H, Tq, Tk]), v, out);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < Tq; i++) {
    lse.buffer[lse.offset + b * lse.strides[0] + h * lse.strides[1] + i * lse.strides[2]] = l[(b * H + h) * Tq + i];
  }
}
function attentionBackward3(q, k, v, mask, opts, out, lse, dout, dq, dk, dv) {
  if (!attentionFast(q, k, v, mask, out) || !isF322(dout) || !isF322(dq) || !isF322(dk) || !isF322(dv) || !(lse.dtype === "float32" || lse.dtype === "float64")) {
    return cpuKernels.attentionBackward(q, k, v, mask, opts, out, lse, dout, dq, dk, dv);
  }
  const [B, H, Tq] = q.shape;
  const Tk = k.shape[2], Dv = v.shape[3];
  const p = new Float32Array(B * H * Tq * Tk);
  matmul3(q, swapLast(k), f32View(p, [B, H, Tq, Tk]));
  probabilities(p, B, H, Tq, Tk, mask, opts, lse, new Float64Array(0));
  matmul3(f32View(p, [B, H, Tk, Tq], [H * Tq * Tk, Tq * Tk, 1, Tk]), dout, dv);
  const ds = new Float32Array(B * H * Tq * Tk);
  matmul3(dout, swapLast(v), f32View(ds, [B, H, Tq, Tk]));
  const ob = out.buffer, gb = dout.buffer, os = out.strides, gs = dout.strides;
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < Tq; i++) {
    const oo = out.offset + b * os[0] + h * os[1] + i * os[2], go = dout.offset + b * gs[0] + h * gs[1] + i * gs[2];
    let delta = 0;
    for (let c = 0; c < Dv; c++) delta += gb[go + c * gs[3]] * ob[oo + c * os[3]];
    const row = ((b * H + h) * Tq + i) * Tk;
    for (let j = 0; j < Tk; j++) ds[row + j] = p[row + j] * (ds[row + j] - delta) * opts.scale;
  }
  matmul3(f32View(ds, [B, H, Tq, Tk]), k, dq);
  matmul3(f32View(ds, [B, H, Tk, Tq], [H * Tq * Tk, Tq * Tk, 1, Tk]), q, dk);
}
function orReference(fast, ref) {
  return (...args) => {
    if (!fast(...args)) ref(...args);
  };
}
var FAST_CPU_CONFIG, isF322, isContiguous2, f32View, swapLast, fastCpuKernels;
var init_kernels = __esm({
  "packages/kernels/src/wasm/kernels.ts"() {
    "use strict";
    init_cpu();
    init_strided();
    init_js_kernels();
    init_elementwise_program();
    init_matmul_program();
    init_runtime2();
    FAST_CPU_CONFIG = {
      /** Multiply-adds below which a matmul runs on one thread. */
      matmulParallelMin: 1 << 20,
      /** Elements below which a memory-bound kernel runs on one thread. */
      elementwiseParallelMin: 1 << 17
    };
    ({ isF32: isF322, isContiguous: isContiguous2 } = js_kernels_exports);
    f32View = (buffer, shape, strides) => ({ buffer, dtype: "float32", shape, strides: strides ?? contiguousStrides2(shape), offset: 0 });
    swapLast = (v) => ({
      ...v,
      shape: [v.shape[0], v.shape[1], v.shape[3], v.shape[2]],
      strides: [v.strides[0], v.strides[1], v.strides[3], v.strides[2]]
    });
    fastCpuKernels = {
      ...cpuKernels,
      matmul: matmul3,
      binary: binary4,
      softmax: softmax3,
      layerNorm: layerNorm3,
      adamw: adamw3,
      attention: attention3,
      attentionBackward: attentionBackward3,
      unary: orReference(unary3, cpuKernels.unary),
      where: orReference(where3, cpuKernels.where),
      copy: orReference(copy3, cpuKernels.copy),
      fill: orReference(fill3, cpuKernels.fill),
      random: orReference(random3, cpuKernels.random),
      reduce: orReference(reduce3, cpuKernels.reduce),
      softmaxBackward: orReference(softmaxBackward3, cpuKernels.softmaxBackward),
      layerNormBackward: orReference(layerNormBackward3, cpuKernels.layerNormBackward),
      crossEntropy: orReference(crossEntropy3, cpuKernels.crossEntropy),
      crossEntropyBackward: orReference(crossEntropyBackward3, cpuKernels.crossEntropyBackward),
      indexSelect: orReference(indexSelect3, cpuKernels.indexSelect),
      indexAdd: orReference(indexAdd3, cpuKernels.indexAdd)
    };
  }
});

// packages/kernels/src/wasm/index.ts
var init_wasm = __esm({
  "packages/kernels/src/wasm/index.ts"() {
    "use strict";
    init_kernels();
    init_runtime2();
    init_module();
    init_emitter();
  }
});

// packages/kernels/src/index.ts
var init_src = __esm({
  "packages/kernels/src/index.ts"() {
    "use strict";
    init_types();
    init_cpu();
    init_webgpu();
    init_wasm();
  }
});

// packages/core/src/dtype.ts
function promoteTypes(a, b) {
  return RANK[a] >= RANK[b] ? a : b;
}
function promoteWithScalar(t, value) {
  if (typeof value === "boolean") return t;
  if (!Number.isInteger(value) || !Number.isFinite(value)) return isFloat2(t) ? t : "float32";
  return t === "bool" ? "int32" : t;
}
function arrayFor(dtype, length) {
  switch (dtype) {
    case "float32":
      return new Float32Array(length);
    case "float64":
      return new Float64Array(length);
    case "int32":
      return new Int32Array(length);
    case "bool":
      return new Uint8Array(length);
  }
}
function dtypeOfArray(a) {
  if (a instanceof Float32Array) return "float32";
  if (a instanceof Float64Array) return "float64";
  if (a instanceof Int32Array) return "int32";
  if (a instanceof Uint8Array) return "bool";
  throw new DTypeError(`tensor: unsupported TypedArray ${a.constructor.name}`);
}
var RANK, isFloat2;
var init_dtype2 = __esm({
  "packages/core/src/dtype.ts"() {
    "use strict";
    init_errors();
    RANK = { bool: 0, int32: 1, float32: 2, float64: 3 };
    isFloat2 = (d) => d === "float32" || d === "float64";
  }
});

// packages/core/src/ops/alloc.ts
function empty(shape, dtype, backend) {
  if (!backend.supports(dtype)) throw new DTypeError(`device '${backend.name}' does not support dtype ${dtype} (tensor of shape ${fmtShape(shape)})`);
  return new Tensor(Storage.allocate(backend, dtype, Math.max(numel(shape), 0)), shape, dtype);
}
function zerosOn(shape, dtype, backend) {
  const t = empty(shape, dtype, backend);
  backend.kernels.fill(t.view_(), 0);
  return t;
}
function broadcastView(t, shape) {
  const lead = shape.length - t.shape.length;
  const strides = shape.map((d, i) => {
    const j = i - lead;
    if (j < 0) return 0;
    return t.shape[j] === 1 && d !== 1 ? 0 : t.strides[j];
  });
  return { buffer: t.storage.buffer, dtype: t.dtype, shape, strides, offset: t.offset };
}
function scalarTensor(value, dtype, backend) {
  const t = empty([], dtype, backend);
  backend.kernels.fill(t.view_(), Number(value));
  return t;
}
function isTensor(x2) {
  return typeof x2 === "object" && x2 !== null && x2.__isTensor === true;
}
var init_alloc = __esm({
  "packages/core/src/ops/alloc.ts"() {
    "use strict";
    init_errors();
    init_shape();
    init_storage();
    init_tensor();
  }
});

// packages/core/src/autograd/grad_mode.ts
function isGradEnabled() {
  return enabled;
}
function setGradEnabled(on) {
  enabled = on;
}
function noGrad(fn) {
  const prev = enabled;
  enabled = false;
  let result;
  try {
    result = fn();
  } catch (e) {
    enabled = prev;
    throw e;
  }
  if (result instanceof Promise) {
    return result.finally(() => {
      enabled = prev;
    });
  }
  enabled = prev;
  return result;
}
var enabled;
var init_grad_mode = __esm({
  "packages/core/src/autograd/grad_mode.ts"() {
    "use strict";
    enabled = true;
  }
});

// packages/core/src/autograd/node.ts
var Node;
var init_node = __esm({
  "packages/core/src/autograd/node.ts"() {
    "use strict";
    init_errors();
    Node = class {
      constructor(op, edges, saved, backwardFn, outShape, outDtype) {
        this.op = op;
        this.edges = edges;
        this.backwardFn = backwardFn;
        this.outShape = outShape;
        this.outDtype = outDtype;
        this.#saved = saved.map((t) => ({ tensor: t, version: t.storage.version }));
        for (const e of edges) e.node?.incRef();
      }
      op;
      edges;
      backwardFn;
      outShape;
      outDtype;
      refs = 0;
      freed = false;
      /** A non-leaf output that asked to keep its gradient (`retainGrad()`). */
      retained = null;
      #saved;
      incRef() {
        this.refs++;
      }
      decRef() {
        const stack2 = [this];
        while (stack2.length) {
          const n = stack2.pop();
          if (--n.refs > 0) continue;
          n.releaseSaved();
          for (const e of n.edges) if (e.node) stack2.push(e.node);
          n.edges.length = 0;
        }
      }
      /** Saved tensors, checked against in-place changes made since they were saved. */
      unpackSaved() {
        if (this.freed) {
          throw new AutogradError(`backward through '${this.op}' a second time: its saved tensors were freed after the first backward(); pass { retainGraph: true } to the first call`);
        }
        return this.#saved.map(({ tensor: tensor2, version }, i) => {
          if (tensor2.storage.version !== version) {
            throw new AutogradError(`'${this.op}': saved tensor ${i} (shape [${tensor2.shape.join(", ")}]) was modified in place after it was saved for backward (version ${version} \u2192 ${tensor2.storage.version})`);
          }
          return tensor2;
        });
      }
      releaseSaved() {
        for (const s of this.#saved) s.tensor.dispose();
        this.#saved = [];
        this.freed = true;
      }
    };
  }
});

// packages/core/src/ops/define.ts
function defineOp(def) {
  OP_TABLE.set(def.name, def);
  return def;
}
function checkInputs(op, inputs) {
  let dev;
  for (let i = 0; i < inputs.length; i++) {
    const t = inputs[i];
    if (t.isDisposed) throw new DisposedError(`${op}: input ${i} (shape ${fmtShape(t.shape)}) was used after dispose()`);
    if (dev === void 0) dev = t.device;
    else if (t.device !== dev) {
      throw new DeviceError(`${op}: expected all tensors on one device, got ${inputs.map((x2) => `${x2.device} ${fmtShape(x2.shape)}`).join(", ")}; move them with .to(device)`);
    }
  }
}
function apply(def, inputs, attrs) {
  checkInputs(def.name, inputs);
  const recording = def.backward !== void 0 && isGradEnabled() && inputs.some((t) => t.requiresGrad);
  const saved = [];
  const originals = [];
  const save = recording ? (t) => {
    originals.push(t);
    saved.push(t.alias({ internal: true }));
  } : () => {
  };
  const prev = isGradEnabled();
  setGradEnabled(false);
  let out;
  try {
    out = def.forward(inputs, attrs, save);
  } finally {
    setGradEnabled(prev);
  }
  if (!recording) return out;
  const edges = inputs.map((t) => ({
    node: t.gradFn,
    leaf: t.gradFn ? null : t.requiresGrad ? t.leafSource ?? t : null,
    needsGrad: t.requiresGrad,
    shape: t.shape,
    dtype: t.dtype
  }));
  const meta = inputs.map((t) => ({ shape: t.shape, dtype: t.dtype }));
  const backward2 = def.backward;
  const node = new Node(def.name, edges, saved, (g, s, needs) => backward2(g, s, attrs, needs, meta), out.shape, out.dtype);
  out.requiresGrad = true;
  out.gradFn = node;
  node.incRef();
  saved.forEach((a, i) => {
    const o = originals[i];
    if (o === out) {
      a.requiresGrad = true;
      a.gradFn = node;
      a.weakGradFn = true;
      return;
    }
    if (!o.requiresGrad) return;
    a.requiresGrad = true;
    if (o.gradFn) {
      a.gradFn = o.gradFn;
      o.gradFn.incRef();
    } else a.leafSource = o.leafSource ?? o;
  });
  return out;
}
var OP_TABLE;
var init_define = __esm({
  "packages/core/src/ops/define.ts"() {
    "use strict";
    init_grad_mode();
    init_node();
    init_errors();
    OP_TABLE = /* @__PURE__ */ new Map();
  }
});

// packages/core/src/ops/cast.ts
function cast(x2, dtype) {
  if (x2.dtype === dtype) return x2;
  return apply(CAST, [x2], { dtype });
}
function contiguous(x2) {
  if (x2.isContiguous()) return x2;
  return apply(CONTIGUOUS, [x2], {});
}
function clone(x2) {
  return apply(CONTIGUOUS, [x2], {});
}
var CAST, CONTIGUOUS;
var init_cast = __esm({
  "packages/core/src/ops/cast.ts"() {
    "use strict";
    init_dtype2();
    init_alloc();
    init_define();
    CAST = defineOp({
      name: "cast",
      forward: ([x2], { dtype }) => {
        const out = empty(x2.shape, dtype, x2.backend);
        x2.backend.kernels.copy(x2.view_(), out.view_());
        return out;
      },
      backward: (g, _s, _a, _n, [x2]) => [isFloat2(x2.dtype) ? cast(g, x2.dtype) : null]
    });
    CONTIGUOUS = defineOp({
      name: "contiguous",
      forward: ([x2]) => {
        const out = empty(x2.shape, x2.dtype, x2.backend);
        x2.backend.kernels.copy(x2.view_(), out.view_());
        return out;
      },
      backward: (g) => [g],
      gradcheck: [{ inputs: [{ shape: [3, 4] }], call: (x2) => contiguous(x2.transpose(0, 1)) }]
    });
  }
});

// packages/core/src/backend/cpu.ts
function initialChoice() {
  const env = typeof process !== "undefined" ? process.env?.WEBGRAD_CPU : void 0;
  return env === "reference" ? "reference" : "fast";
}
var BYTES, KERNELS, choice, cpuBackend;
var init_cpu2 = __esm({
  "packages/core/src/backend/cpu.ts"() {
    "use strict";
    init_src();
    init_dtype2();
    BYTES = { float32: 4, float64: 8, int32: 4, bool: 1 };
    KERNELS = { reference: cpuKernels, fast: fastCpuKernels };
    choice = initialChoice();
    cpuBackend = {
      name: "cpu",
      kernels: KERNELS[choice],
      supports: () => true,
      allocate: (dtype, length) => arrayFor(dtype, length),
      free: () => {
      },
      byteSize: (dtype, length) => BYTES[dtype] * length,
      upload: (buffer, data2) => {
        buffer.set(data2);
      },
      download: async (buffer, _dtype, length) => buffer.slice(0, length),
      readSync: (buffer, _dtype, length) => buffer.slice(0, length),
      flush: () => {
      }
    };
  }
});

// packages/core/src/backend/registry.ts
function getBackend(name) {
  const b = backends.get(name);
  if (!b) {
    if (name === "webgpu") {
      throw new DeviceError(`device 'webgpu' is not initialised: call \`await initWebGPU()\` first (available: ${[...backends.keys()].join(", ")})`);
    }
    throw new DeviceError(`unknown device '${String(name)}' (available: ${[...backends.keys()].join(", ")})`);
  }
  return b;
}
function getDefaultDevice() {
  return defaultDevice;
}
var backends, defaultDevice;
var init_registry = __esm({
  "packages/core/src/backend/registry.ts"() {
    "use strict";
    init_errors();
    init_cpu2();
    backends = /* @__PURE__ */ new Map([["cpu", cpuBackend]]);
    defaultDevice = "cpu";
  }
});

// packages/core/src/ops/creation.ts
function finish(t, opts) {
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}
function flatten(data2, op) {
  const shape = [];
  let probe = data2;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
    if (probe === void 0) break;
  }
  const values = [];
  const walk = (x2, depth) => {
    if (depth === shape.length) {
      if (Array.isArray(x2)) throw new ShapeError(`${op}: ragged nested array: expected a scalar at depth ${depth} for shape ${fmtShape(shape)}`);
      if (typeof x2 !== "number" && typeof x2 !== "boolean") throw new ValueError(`${op}: expected numbers or booleans, got ${typeof x2}`);
      values.push(x2);
      return;
    }
    if (!Array.isArray(x2) || x2.length !== shape[depth]) {
      throw new ShapeError(`${op}: ragged nested array: expected length ${shape[depth]} at depth ${depth} for shape ${fmtShape(shape)}, got ${Array.isArray(x2) ? x2.length : "a scalar"}`);
    }
    for (const v of x2) walk(v, depth + 1);
  };
  walk(data2, 0);
  return { values, shape };
}
function tensor(data2, opts = {}) {
  const device = opts.device ?? getDefaultDevice();
  const backend = getBackend(device);
  let values;
  let shape;
  let dtype = opts.dtype;
  if (ArrayBuffer.isView(data2)) {
    values = data2;
    shape = opts.shape ?? [data2.length];
    dtype ??= dtypeOfArray(data2);
  } else {
    const f = flatten(data2, "tensor");
    values = f.values;
    shape = opts.shape ?? f.shape;
    if (!dtype) {
      if (f.values.length > 0 && f.values.every((v) => typeof v === "boolean")) dtype = "bool";
      else if (f.values.length > 0 && f.values.every((v) => Number.isInteger(v))) dtype = "int32";
      else dtype = "float32";
    }
  }
  checkShape("tensor", shape);
  if (numel(shape) !== values.length) {
    throw new ShapeError(`tensor: ${values.length} values cannot have shape ${fmtShape(shape)} (${numel(shape)} elements)`);
  }
  const arr = arrayFor(dtype, values.length);
  if (dtype === "bool") for (let i = 0; i < values.length; i++) arr[i] = values[i] ? 1 : 0;
  else if (ArrayBuffer.isView(values) && dtypeOfArray(values) === dtype) arr.set(values);
  else for (let i = 0; i < values.length; i++) arr[i] = Number(values[i]);
  const t = empty(shape, dtype, backend);
  backend.upload(t.storage.buffer, arr);
  return finish(t, opts);
}
function full(shape, value, opts = {}) {
  checkShape("full", shape);
  const backend = getBackend(opts.device ?? getDefaultDevice());
  const dtype = opts.dtype ?? (typeof value === "boolean" ? "bool" : "float32");
  const t = empty(shape, dtype, backend);
  backend.kernels.fill(t.view_(), Number(value));
  return finish(t, opts);
}
function arange(start, end, step = 1, opts = {}) {
  if (end === void 0) {
    end = start;
    start = 0;
  }
  if (step === 0) throw new ValueError("arange: step must be non-zero");
  const n = Math.max(0, Math.ceil((end - start) / step));
  const dtype = opts.dtype ?? ([start, end, step].every(Number.isInteger) ? "int32" : "float32");
  const arr = arrayFor(dtype, n);
  for (let i = 0; i < n; i++) arr[i] = start + i * step;
  return tensor(arr, { ...opts, dtype, shape: [n] });
}
function manualSeed(seed) {
  if (!Number.isInteger(seed) || seed < 0) throw new ValueError(`manualSeed: seed must be a non-negative integer, got ${seed}`);
  generator.seed = seed;
  generator.offset = 0;
}
function getRngState() {
  return { ...generator };
}
function setRngState(state) {
  generator.seed = state.seed;
  generator.offset = state.offset;
}
function random4(shape, distribution, opts) {
  checkShape(distribution === "uniform" ? "rand" : "randn", shape);
  const backend = getBackend(opts.device ?? getDefaultDevice());
  const dtype = opts.dtype ?? "float32";
  const t = empty(shape, dtype, backend);
  backend.kernels.random(t.view_(), { seed: generator.seed, offset: generator.offset, distribution });
  generator.offset += numel(shape);
  return finish(t, opts);
}
function randint(low, high, shape, opts = {}) {
  if (!Number.isInteger(low) || !Number.isInteger(high) || !(high > low)) {
    throw new ValueError(`randint: expected integers low < high, got [${low}, ${high})`);
  }
  return tidy(() => {
    const u = rand(shape, { device: opts.device });
    const v = minimum(floor(addScalar(mulScalar(u, high - low), low)), high - 1);
    return cast(v, opts.dtype ?? "int32");
  });
}
var zeros, ones, likeOpts, zerosLike, onesLike, generator, rand, randn;
var init_creation = __esm({
  "packages/core/src/ops/creation.ts"() {
    "use strict";
    init_registry();
    init_dtype2();
    init_errors();
    init_shape();
    init_alloc();
    init_binary();
    init_cast();
    init_unary();
    init_memory();
    zeros = (shape, opts = {}) => full(shape, 0, opts);
    ones = (shape, opts = {}) => full(shape, 1, opts);
    likeOpts = (t, opts) => ({ dtype: t.dtype, device: t.device, ...opts });
    zerosLike = (t, opts = {}) => full(t.shape, 0, likeOpts(t, opts));
    onesLike = (t, opts = {}) => full(t.shape, 1, likeOpts(t, opts));
    generator = { seed: 24301, offset: 0 };
    rand = (shape, opts = {}) => random4(shape, "uniform", opts);
    randn = (shape, opts = {}) => random4(shape, "normal", opts);
  }
});

// packages/core/src/ops/unary.ts
function defineUnary(op) {
  const spec = UNARY_SPECS[op];
  return defineOp({
    name: op,
    forward: ([x2], _a, save) => {
      const out = empty(x2.shape, op === "logicalNot" ? "bool" : x2.dtype, x2.backend);
      x2.backend.kernels.unary(op, x2.view_(), out.view_());
      if (spec.saves === "x") save(x2);
      else if (spec.saves === "y") save(out);
      return out;
    },
    backward: spec.grad ? (g, saved) => [spec.grad(g, saved[0])] : void 0,
    gradcheck: spec.grad ? [{ inputs: [{ shape: [2, 3], domain: spec.domain }], call: (x2) => unary4(op, x2) }] : void 0
  });
}
function unary4(op, x2) {
  checkInputs(op, [x2]);
  let input = x2;
  if (UNARY_SPECS[op].floatOnly && !isFloat2(x2.dtype)) input = cast(x2, "float32");
  if (op !== "logicalNot" && x2.dtype === "bool" && !UNARY_SPECS[op].floatOnly) {
    if (op === "neg") throw new DTypeError(`neg: negation of a bool tensor is not supported, use logicalNot (shape [${x2.shape.join(", ")}])`);
    input = cast(x2, "int32");
  }
  const out = apply(UNARY_DEFS[op], [input], {});
  if (input !== x2) input.dispose();
  return out;
}
var SQRT_2_OVER_PI2, INV_SQRT_2PI, UNARY_SPECS, UNARY_DEFS, neg, sign, exp, log, sqrt, sin, cos, tanh, sigmoid2, gelu, erf2, floor;
var init_unary = __esm({
  "packages/core/src/ops/unary.ts"() {
    "use strict";
    init_dtype2();
    init_errors();
    init_alloc();
    init_binary();
    init_cast();
    init_define();
    init_creation();
    SQRT_2_OVER_PI2 = Math.sqrt(2 / Math.PI);
    INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
    UNARY_SPECS = {
      neg: { saves: "none", grad: (g) => neg(g) },
      abs: { saves: "x", grad: (g, x2) => mul(g, sign(x2)), domain: "awayFromZero" },
      sign: { saves: "none", grad: (g) => zerosLike(g) },
      exp: { saves: "y", grad: (g, y2) => mul(g, y2), floatOnly: true },
      expm1: { saves: "y", grad: (g, y2) => mul(g, addScalar(y2, 1)), floatOnly: true },
      log: { saves: "x", grad: (g, x2) => div(g, x2), floatOnly: true, domain: "positive" },
      log1p: { saves: "x", grad: (g, x2) => div(g, addScalar(x2, 1)), floatOnly: true, domain: "positive" },
      sqrt: { saves: "y", grad: (g, y2) => div(mulScalar(g, 0.5), y2), floatOnly: true, domain: "positive" },
      rsqrt: { saves: "y", grad: (g, y2) => mul(mulScalar(g, -0.5), mul(y2, mul(y2, y2))), floatOnly: true, domain: "positive" },
      square: { saves: "x", grad: (g, x2) => mul(g, mulScalar(x2, 2)) },
      reciprocal: { saves: "y", grad: (g, y2) => neg(mul(g, mul(y2, y2))), floatOnly: true, domain: "awayFromZero" },
      sin: { saves: "x", grad: (g, x2) => mul(g, cos(x2)), floatOnly: true },
      cos: { saves: "x", grad: (g, x2) => neg(mul(g, sin(x2))), floatOnly: true },
      tanh: { saves: "y", grad: (g, y2) => mul(g, addScalar(neg(mul(y2, y2)), 1)), floatOnly: true },
      sigmoid: { saves: "y", grad: (g, y2) => mul(g, mul(y2, addScalar(neg(y2), 1))), floatOnly: true },
      relu: { saves: "x", grad: (g, x2) => mul(g, gt(x2, 0)), domain: "awayFromZero" },
      // d/dx x·Φ(x) = Φ(x) + x·φ(x)   (Hendrycks & Gimpel 2016)
      gelu: {
        saves: "x",
        floatOnly: true,
        grad: (g, x2) => {
          const cdf = mulScalar(addScalar(erf2(mulScalar(x2, Math.SQRT1_2)), 1), 0.5);
          const pdf = mulScalar(exp(mulScalar(mul(x2, x2), -0.5)), INV_SQRT_2PI);
          return mul(g, add(cdf, mul(x2, pdf)));
        }
      },
      // y = ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³)
      geluTanh: {
        saves: "x",
        floatOnly: true,
        grad: (g, x2) => {
          const x22 = mul(x2, x2);
          const t = tanh(mulScalar(add(x2, mulScalar(mul(x22, x2), 0.044715)), SQRT_2_OVER_PI2));
          const du = mulScalar(addScalar(mulScalar(x22, 3 * 0.044715), 1), SQRT_2_OVER_PI2);
          const left = mulScalar(addScalar(t, 1), 0.5);
          const right = mul(mulScalar(x2, 0.5), mul(addScalar(neg(mul(t, t)), 1), du));
          return mul(g, add(left, right));
        }
      },
      // d/dx x·σ(x) = σ(x)(1 + x(1 − σ(x)))
      silu: {
        saves: "x",
        floatOnly: true,
        grad: (g, x2) => {
          const s = sigmoid2(x2);
          return mul(g, mul(s, addScalar(mul(x2, addScalar(neg(s), 1)), 1)));
        }
      },
      softplus: { saves: "x", grad: (g, x2) => mul(g, sigmoid2(x2)), floatOnly: true },
      erf: { saves: "x", grad: (g, x2) => mul(g, mulScalar(exp(neg(mul(x2, x2))), 2 / Math.sqrt(Math.PI))), floatOnly: true },
      floor: { saves: "none", grad: (g) => zerosLike(g) },
      ceil: { saves: "none", grad: (g) => zerosLike(g) },
      round: { saves: "none", grad: (g) => zerosLike(g) },
      logicalNot: { saves: "none", grad: null }
    };
    UNARY_DEFS = Object.fromEntries(
      Object.keys(UNARY_SPECS).map((op) => [op, defineUnary(op)])
    );
    neg = (x2) => unary4("neg", x2);
    sign = (x2) => unary4("sign", x2);
    exp = (x2) => unary4("exp", x2);
    log = (x2) => unary4("log", x2);
    sqrt = (x2) => unary4("sqrt", x2);
    sin = (x2) => unary4("sin", x2);
    cos = (x2) => unary4("cos", x2);
    tanh = (x2) => unary4("tanh", x2);
    sigmoid2 = (x2) => unary4("sigmoid", x2);
    gelu = (x2, opts = {}) => unary4(opts.approximate === "tanh" ? "geluTanh" : "gelu", x2);
    erf2 = (x2) => unary4("erf", x2);
    floor = (x2) => unary4("floor", x2);
  }
});

// packages/core/src/ops/binary.ts
var binary_exports = {};
__export(binary_exports, {
  BINARY_SPECS: () => BINARY_SPECS,
  WHERE: () => WHERE,
  add: () => add,
  addScalar: () => addScalar,
  binary: () => binary5,
  clamp: () => clamp,
  div: () => div,
  eq: () => eq,
  ge: () => ge,
  gt: () => gt,
  le: () => le,
  logicalAnd: () => logicalAnd,
  logicalOr: () => logicalOr,
  lt: () => lt,
  maskedFill: () => maskedFill,
  maximum: () => maximum,
  minimum: () => minimum,
  mul: () => mul,
  mulScalar: () => mulScalar,
  ne: () => ne,
  pow: () => pow,
  remainder: () => remainder2,
  sub: () => sub,
  where: () => where4
});
function defineBinary(op) {
  const spec = BINARY_SPECS[op];
  const boolOut = BOOL_RESULT_OPS.has(op);
  return defineOp({
    name: op,
    forward: ([a, b], _attrs, save) => {
      const shape = broadcastShapes(op, a.shape, b.shape);
      const out = empty(shape, boolOut ? "bool" : a.dtype, a.backend);
      a.backend.kernels.binary(op, broadcastView(a, shape), broadcastView(b, shape), out.view_());
      if (spec.grad) {
        save(a);
        save(b);
        if (spec.savesOut) save(out);
      }
      return out;
    },
    backward: spec.grad ? (g, s, _a, needs) => spec.grad(g, s[0], s[1], s[2], needs) : void 0,
    gradcheck: spec.grad ? spec.samples ?? [
      { inputs: [{ shape: [2, 3] }, { shape: [2, 3] }], call: (a, b) => binary5(op, a, b) },
      { inputs: [{ shape: [2, 1, 3] }, { shape: [4, 1] }], call: (a, b) => binary5(op, a, b), label: "broadcast" }
    ] : void 0
  });
}
function operandType(op, a, b) {
  let t;
  if (isTensor(a) && isTensor(b)) t = promoteTypes(a.dtype, b.dtype);
  else if (isTensor(a)) t = promoteWithScalar(a.dtype, b);
  else if (isTensor(b)) t = promoteWithScalar(b.dtype, a);
  else throw new DTypeError(`${op}: at least one operand must be a tensor`);
  if (op === "div" && !isFloat2(t)) t = "float32";
  if (op === "pow" && t === "bool") t = "int32";
  if (!BOOL_RESULT_OPS.has(op) && t === "bool" && op !== "mul" && op !== "add" && op !== "maximum" && op !== "minimum") {
    throw new DTypeError(`${op}: not supported for bool tensors (shapes ${[a, b].map((x2) => isTensor(x2) ? fmtShape(x2.shape) : "scalar").join(", ")}); cast first`);
  }
  return t;
}
function binary5(op, a, b) {
  checkInputs(op, [a, b].filter(isTensor));
  const t = operandType(op, a, b);
  const backend = (isTensor(a) ? a : b).backend;
  const ta = isTensor(a) ? cast(a, t) : scalarTensor(a, t, backend);
  const tb = isTensor(b) ? cast(b, t) : scalarTensor(b, t, backend);
  const out = apply(BINARY_DEFS[op], [ta, tb], {});
  if (ta !== a) ta.dispose();
  if (tb !== b) tb.dispose();
  return out;
}
function where4(cond, a, b) {
  const t = isTensor(a) && isTensor(b) ? promoteTypes(a.dtype, b.dtype) : isTensor(a) ? promoteWithScalar(a.dtype, b) : isTensor(b) ? promoteWithScalar(b.dtype, a) : "float32";
  const backend = cond.backend;
  const c = cast(cond, "bool");
  const ta = isTensor(a) ? cast(a, t) : scalarTensor(a, t, backend);
  const tb = isTensor(b) ? cast(b, t) : scalarTensor(b, t, backend);
  const out = apply(WHERE, [c, ta, tb], {});
  for (const [x2, orig] of [[c, cond], [ta, a], [tb, b]]) if (x2 !== orig) x2.dispose();
  return out;
}
function clamp(x2, min2, max2) {
  let y2 = x2;
  if (min2 !== void 0 && min2 !== null) y2 = maximum(y2, min2);
  if (max2 !== void 0 && max2 !== null) {
    const z = minimum(y2, max2);
    if (y2 !== x2) y2.dispose();
    y2 = z;
  }
  return y2 === x2 ? mul(x2, 1) : y2;
}
var tieSplit, BINARY_SPECS, BINARY_DEFS, add, sub, mul, div, pow, maximum, minimum, remainder2, eq, ne, lt, le, gt, ge, logicalAnd, logicalOr, mulScalar, addScalar, WHERE, maskedFill;
var init_binary = __esm({
  "packages/core/src/ops/binary.ts"() {
    "use strict";
    init_src();
    init_dtype2();
    init_errors();
    init_shape();
    init_alloc();
    init_cast();
    init_define();
    init_unary();
    init_creation();
    tieSplit = (win, tie) => add(win, mulScalar(tie, 0.5));
    BINARY_SPECS = {
      add: { grad: (g) => [g, g] },
      sub: { grad: (g, _a, _b, _y, n) => [g, n[1] ? neg(g) : null] },
      mul: { grad: (g, a, b, _y, n) => [n[0] ? mul(g, b) : null, n[1] ? mul(g, a) : null] },
      div: { grad: (g, a, b, _y, n) => [n[0] ? div(g, b) : null, n[1] ? neg(div(mul(g, a), mul(b, b))) : null] },
      // d/da a^b = b·a^(b−1);  d/db a^b = a^b·ln a
      pow: {
        savesOut: true,
        grad: (g, a, b, y2, n) => [
          n[0] ? mul(g, mul(b, pow(a, sub(b, 1)))) : null,
          n[1] ? mul(g, mul(y2, log(a))) : null
        ],
        samples: [{ inputs: [{ shape: [2, 3], domain: "positive" }, { shape: [3] }], call: (a, b) => pow(a, b) }]
      },
      // Ties split the gradient evenly, as in PyTorch.
      maximum: { grad: (g, a, b, _y, n) => [n[0] ? mul(g, tieSplit(gt(a, b), eq(a, b))) : null, n[1] ? mul(g, tieSplit(lt(a, b), eq(a, b))) : null] },
      minimum: { grad: (g, a, b, _y, n) => [n[0] ? mul(g, tieSplit(lt(a, b), eq(a, b))) : null, n[1] ? mul(g, tieSplit(gt(a, b), eq(a, b))) : null] },
      mod: { grad: (g, a, b, _y, n) => [g, n[1] ? neg(mul(g, floor(div(a, b)))) : null] },
      eq: { grad: null },
      ne: { grad: null },
      lt: { grad: null },
      le: { grad: null },
      gt: { grad: null },
      ge: { grad: null },
      logicalAnd: { grad: null },
      logicalOr: { grad: null }
    };
    BINARY_DEFS = Object.fromEntries(
      Object.keys(BINARY_SPECS).map((op) => [op, defineBinary(op)])
    );
    add = (a, b) => binary5("add", a, b);
    sub = (a, b) => binary5("sub", a, b);
    mul = (a, b) => binary5("mul", a, b);
    div = (a, b) => binary5("div", a, b);
    pow = (a, b) => binary5("pow", a, b);
    maximum = (a, b) => binary5("maximum", a, b);
    minimum = (a, b) => binary5("minimum", a, b);
    remainder2 = (a, b) => binary5("mod", a, b);
    eq = (a, b) => binary5("eq", a, b);
    ne = (a, b) => binary5("ne", a, b);
    lt = (a, b) => binary5("lt", a, b);
    le = (a, b) => binary5("le", a, b);
    gt = (a, b) => binary5("gt", a, b);
    ge = (a, b) => binary5("ge", a, b);
    logicalAnd = (a, b) => binary5("logicalAnd", a, b);
    logicalOr = (a, b) => binary5("logicalOr", a, b);
    mulScalar = (a, s) => binary5("mul", a, s);
    addScalar = (a, s) => binary5("add", a, s);
    WHERE = defineOp({
      name: "where",
      forward: ([c, a, b], _attrs, save) => {
        const shape = broadcastShapes("where", c.shape, a.shape, b.shape);
        const out = empty(shape, a.dtype, a.backend);
        a.backend.kernels.where(broadcastView(c, shape), broadcastView(a, shape), broadcastView(b, shape), out.view_());
        save(c);
        return out;
      },
      backward: (g, [c], _a, needs) => {
        const zero = zerosLike(g);
        return [null, needs[1] ? where4(c, g, zero) : null, needs[2] ? where4(c, zero, g) : null];
      },
      gradcheck: [{ inputs: [{ shape: [2, 3], int: { high: 2 } }, { shape: [2, 3] }, { shape: [3] }], call: (c, a, b) => where4(c.gt(0), a, b) }]
    });
    maskedFill = (x2, mask, value) => where4(mask, value, x2);
  }
});

// packages/core/src/ops/views.ts
function makeView(x2, shape, strides, offset) {
  return new Tensor(x2.storage.retain(), shape, x2.dtype, { strides, offset });
}
function inferShape(op, from, shape) {
  const out = [...shape];
  const neg2 = out.indexOf(-1);
  if (neg2 !== out.lastIndexOf(-1)) throw new ShapeError(`${op}: only one dimension can be -1, got ${fmtShape(shape)}`);
  const known = out.reduce((a, d, i) => i === neg2 ? a : a * d, 1);
  if (neg2 >= 0) {
    if (known === 0 || numel(from) % known !== 0) throw new ShapeError(`${op}: cannot reshape ${fmtShape(from)} (${numel(from)} elements) into ${fmtShape(shape)}`);
    out[neg2] = numel(from) / known;
  }
  if (out.some((d) => !Number.isInteger(d) || d < 0) || numel(out) !== numel(from)) {
    throw new ShapeError(`${op}: cannot reshape ${fmtShape(from)} (${numel(from)} elements) into ${fmtShape(shape)}`);
  }
  return out;
}
function reshape(x2, shape) {
  const s = inferShape("reshape", x2.shape, shape);
  if (x2.isContiguous()) return apply(RESHAPE, [x2], { shape: s });
  const c = contiguous(x2);
  const out = apply(RESHAPE, [c], { shape: s });
  c.dispose();
  return out;
}
function view(x2, shape) {
  const s = inferShape("view", x2.shape, shape);
  if (!x2.isContiguous()) throw new ShapeError(`view: tensor of shape ${fmtShape(x2.shape)} with strides ${fmtShape(x2.strides)} is not contiguous; use reshape() or contiguous() first`);
  return apply(RESHAPE, [x2], { shape: s });
}
function permute(x2, dims) {
  if (dims.length !== x2.ndim) throw new ShapeError(`permute: got ${dims.length} dims ${fmtShape(dims)} for a tensor of rank ${x2.ndim} (shape ${fmtShape(x2.shape)})`);
  const d = dims.map((v) => normDim("permute", v, x2.ndim));
  if (new Set(d).size !== d.length) throw new IndexError(`permute: dims ${fmtShape(dims)} repeat a dimension`);
  return apply(PERMUTE, [x2], { dims: d });
}
function transpose(x2, d0 = -2, d1 = -1) {
  if (x2.ndim < 2 && d0 === -2 && d1 === -1) return permute(x2, x2.shape.map((_, i) => i));
  const a = normDim("transpose", d0, x2.ndim);
  const b = normDim("transpose", d1, x2.ndim);
  const dims = x2.shape.map((_, i) => i);
  dims[a] = b;
  dims[b] = a;
  return apply(PERMUTE, [x2], { dims });
}
function expand(x2, shape) {
  const lead = shape.length - x2.ndim;
  if (lead < 0) throw new ShapeError(`expand: target ${fmtShape(shape)} has fewer dims than the tensor's ${fmtShape(x2.shape)}`);
  const s = shape.map((d, i) => {
    const src = i < lead ? 1 : x2.shape[i - lead];
    const t = d === -1 ? src : d;
    if (i < lead && d === -1) throw new ShapeError(`expand: -1 is not allowed for a new leading dim (target ${fmtShape(shape)})`);
    if (src !== 1 && src !== t) throw new ShapeError(`expand: cannot expand ${fmtShape(x2.shape)} to ${fmtShape(shape)} (dim ${i}: ${src} vs ${t})`);
    return t;
  });
  if (shapesEqual(s, x2.shape)) return apply(RESHAPE, [x2], { shape: s });
  return apply(EXPAND, [x2], { shape: s });
}
function unsqueeze(x2, dim) {
  const d = normDim("unsqueeze", dim, x2.ndim + 1);
  const shape = [...x2.shape];
  const strides = [...x2.strides];
  shape.splice(d, 0, 1);
  strides.splice(d, 0, d < x2.ndim ? x2.strides[d] * x2.shape[d] : 1);
  return apply(STRIDED_VIEW, [x2], { shape, strides, offset: x2.offset });
}
function squeeze(x2, dim) {
  const dims = dim === void 0 ? x2.shape.map((_, i) => i).filter((i) => x2.shape[i] === 1) : (typeof dim === "number" ? [dim] : dim).map((d) => normDim("squeeze", d, x2.ndim)).filter((d) => x2.shape[d] === 1);
  const keep2 = x2.shape.map((_, i) => i).filter((i) => !dims.includes(i));
  return apply(STRIDED_VIEW, [x2], { shape: keep2.map((i) => x2.shape[i]), strides: keep2.map((i) => x2.strides[i]), offset: x2.offset });
}
function flatten2(x2, startDim = 0, endDim = -1) {
  if (x2.ndim === 0) return reshape(x2, [1]);
  const s = normDim("flatten", startDim, x2.ndim);
  const e = normDim("flatten", endDim, x2.ndim);
  if (s > e) throw new IndexError(`flatten: startDim ${startDim} comes after endDim ${endDim} for rank ${x2.ndim}`);
  const shape = [...x2.shape.slice(0, s), numel(x2.shape.slice(s, e + 1)), ...x2.shape.slice(e + 1)];
  return reshape(x2, shape);
}
function slice(x2, dim, start = 0, end, step = 1) {
  const d = normDim("slice", dim, x2.ndim);
  const n = x2.shape[d];
  if (!Number.isInteger(step) || step < 1) throw new IndexError(`slice: step must be a positive integer, got ${step}`);
  const norm = (v) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
  const s = norm(start);
  const e = end === void 0 ? n : norm(end);
  const length = Math.max(0, Math.ceil((e - s) / step));
  return apply(SLICE, [x2], { dim: d, start: s, length, step });
}
function narrow(x2, dim, start, length) {
  const d = normDim("narrow", dim, x2.ndim);
  const n = x2.shape[d];
  const s = start < 0 ? start + n : start;
  if (!Number.isInteger(s) || !Number.isInteger(length) || s < 0 || length < 0 || s + length > n) {
    throw new IndexError(`narrow: start ${start} and length ${length} are out of range for dim ${dim} of size ${n} (shape ${fmtShape(x2.shape)})`);
  }
  return apply(SLICE, [x2], { dim: d, start: s, length, step: 1 });
}
function select(x2, dim, index) {
  const d = normDim("select", dim, x2.ndim);
  const n = x2.shape[d];
  const i = index < 0 ? index + n : index;
  if (!Number.isInteger(i) || i < 0 || i >= n) throw new IndexError(`select: index ${index} is out of range for dim ${dim} of size ${n} (shape ${fmtShape(x2.shape)})`);
  const s = apply(SLICE, [x2], { dim: d, start: i, length: 1, step: 1 });
  const out = squeeze(s, d);
  s.dispose();
  return out;
}
var RESHAPE, PERMUTE, EXPAND, STRIDED_VIEW, SLICE, SLICE_SCATTER;
var init_views = __esm({
  "packages/core/src/ops/views.ts"() {
    "use strict";
    init_errors();
    init_shape();
    init_tensor();
    init_alloc();
    init_cast();
    init_define();
    RESHAPE = defineOp({
      name: "reshape",
      forward: ([x2], { shape }) => makeView(x2, shape, contiguousStrides(shape), x2.offset),
      backward: (g, _s, _a, _n, [x2]) => [reshape(g, x2.shape)],
      gradcheck: [{ inputs: [{ shape: [2, 6] }], call: (x2) => reshape(x2, [3, -1]) }]
    });
    PERMUTE = defineOp({
      name: "permute",
      forward: ([x2], { dims }) => makeView(x2, dims.map((d) => x2.shape[d]), dims.map((d) => x2.strides[d]), x2.offset),
      backward: (g, _s, { dims }) => {
        const inv = new Array(dims.length);
        dims.forEach((d, i) => {
          inv[d] = i;
        });
        return [permute(g, inv)];
      },
      gradcheck: [{ inputs: [{ shape: [2, 3, 4] }], call: (x2) => permute(x2, [2, 0, 1]) }]
    });
    EXPAND = defineOp({
      name: "expand",
      forward: ([x2], { shape }) => {
        const lead = shape.length - x2.ndim;
        const strides = shape.map((d, i) => i < lead ? 0 : x2.shape[i - lead] === 1 && d !== 1 ? 0 : x2.strides[i - lead]);
        return makeView(x2, shape, strides, x2.offset);
      },
      // The engine sums the gradient back to the input's shape.
      backward: (g) => [g],
      gradcheck: [{ inputs: [{ shape: [3, 1] }], call: (x2) => expand(x2, [2, 3, 4]) }]
    });
    STRIDED_VIEW = defineOp({
      name: "stridedView",
      forward: ([x2], a) => makeView(x2, a.shape, a.strides, a.offset),
      backward: (g, _s, _a, _n, [x2]) => [reshape(g, x2.shape)]
    });
    SLICE = defineOp({
      name: "slice",
      forward: ([x2], { dim, start, length, step }) => {
        const shape = [...x2.shape];
        shape[dim] = length;
        const strides = [...x2.strides];
        strides[dim] = x2.strides[dim] * step;
        return makeView(x2, shape, strides, x2.offset + (length > 0 ? start * x2.strides[dim] : 0));
      },
      backward: (g, _s, a, _n, [x2]) => [apply(SLICE_SCATTER, [g], { ...a, shape: [...x2.shape] })],
      gradcheck: [{ inputs: [{ shape: [5, 3] }], call: (x2) => slice(x2, 0, 1, 5, 2) }]
    });
    SLICE_SCATTER = defineOp({
      name: "sliceScatter",
      forward: ([g], { shape, dim, start, length, step }) => {
        const out = zerosOn(shape, g.dtype, g.backend);
        const strides = contiguousStrides(shape);
        const vshape = [...shape];
        vshape[dim] = length;
        const vstrides = [...strides];
        vstrides[dim] = strides[dim] * step;
        if (length > 0) {
          g.backend.kernels.copy(g.view_(), { buffer: out.storage.buffer, dtype: out.dtype, shape: vshape, strides: vstrides, offset: start * strides[dim] });
        }
        return out;
      },
      backward: (g, _s, a) => [apply(SLICE, [g], a)]
    });
  }
});

// packages/core/src/ops/reduce.ts
function reduceGrad(g, shape, x2, y2, a) {
  const gx = expand(g, shape);
  if (a.op === "sum") return gx;
  if (a.op === "prod") return div(mul(gx, y2), x2);
  const mask = cast(eq(x2, y2), g.dtype);
  const count = apply(REDUCE, [mask], { op: "sum", axes: a.axes });
  return div(mul(gx, mask), count);
}
function reduce4(op, x2, dims, opts) {
  const name = op;
  checkInputs(name, [x2]);
  const axes = normDims(name, dims, x2.ndim);
  if ((op === "max" || op === "min") && axes.some((a) => x2.shape[a] === 0)) {
    throw new ValueError(`${name}: cannot reduce over an empty dimension (shape ${fmtShape(x2.shape)}, dims ${fmtShape(axes)})`);
  }
  const input = x2.dtype === "bool" ? cast(x2, "int32") : x2;
  const kept = apply(REDUCE, [input], { op, axes });
  if (input !== x2) input.dispose();
  if (opts.keepdim) return kept;
  const out = reshape(kept, x2.shape.filter((_, i) => !axes.includes(i)));
  kept.dispose();
  return out;
}
function mean(x2, dims, opts = {}) {
  const axes = normDims("mean", dims, x2.ndim);
  const count = axes.reduce((a, d) => a * x2.shape[d], 1);
  const xf = isFloat2(x2.dtype) ? x2 : cast(x2, "float32");
  const s = sum(xf, axes, opts);
  const out = mulScalar(s, 1 / count);
  s.dispose();
  if (xf !== x2) xf.dispose();
  return out;
}
function logsumexp(x2, dims, opts = {}) {
  const axes = normDims("logsumexp", dims, x2.ndim);
  return tidy(() => {
    const m2 = noGrad(() => {
      const mx = max(x2, axes, { keepdim: true });
      return where4(eq(sub(mx, mx), 0), mx, 0);
    });
    const kept = add(log(sum(exp(sub(x2, m2)), axes, { keepdim: true })), m2);
    return opts.keepdim ? kept : reshape(kept, x2.shape.filter((_, i) => !axes.includes(i)));
  });
}
function variance(x2, dims, opts = {}) {
  const axes = normDims("var", dims, x2.ndim);
  const n = axes.reduce((a, d) => a * x2.shape[d], 1);
  return tidy(() => {
    const d = sub(x2, mean(x2, axes, { keepdim: true }));
    return mulScalar(sum(mul(d, d), axes, { keepdim: opts.keepdim }), 1 / Math.max(n - (opts.correction ?? 1), 0));
  });
}
function std(x2, dims, opts = {}) {
  return tidy(() => sqrt(variance(x2, dims, opts)));
}
function argReduce3(op, x2, dim, opts) {
  if (dim === void 0) {
    const flat = reshape(x2, [-1]);
    const r = argReduce3(op, flat, 0, {});
    flat.dispose();
    if (!opts.keepdim) return r;
    const out2 = reshape(r, x2.shape.map(() => 1));
    r.dispose();
    return out2;
  }
  const d = normDim(op, dim, x2.ndim);
  if (x2.shape[d] === 0) throw new ValueError(`${op}: cannot reduce over an empty dimension (shape ${fmtShape(x2.shape)}, dim ${dim})`);
  const kept = empty(keepShape(x2.shape, [d]), "int32", x2.backend);
  x2.backend.kernels.argReduce(op, x2.view_(), d, kept.view_());
  if (opts.keepdim) return kept;
  const out = reshape(kept, x2.shape.filter((_, i) => i !== d));
  kept.dispose();
  return out;
}
var keepShape, REDUCE, sum, prod, max, min, argmax, argmin;
var init_reduce3 = __esm({
  "packages/core/src/ops/reduce.ts"() {
    "use strict";
    init_dtype2();
    init_errors();
    init_shape();
    init_alloc();
    init_binary();
    init_cast();
    init_define();
    init_unary();
    init_views();
    init_grad_mode();
    init_memory();
    keepShape = (shape, axes) => shape.map((d, i) => axes.includes(i) ? 1 : d);
    REDUCE = defineOp({
      name: "reduce",
      forward: ([x2], { op, axes }, save) => {
        const out = empty(keepShape(x2.shape, axes), x2.dtype, x2.backend);
        x2.backend.kernels.reduce(op, x2.view_(), axes, out.view_());
        if (op !== "sum") {
          save(x2);
          save(out);
        }
        return out;
      },
      backward: (g, s, a, _n, [x2]) => [reduceGrad(g, x2.shape, s[0], s[1], a)],
      gradcheck: [
        { inputs: [{ shape: [3, 4] }], call: (x2) => sum(x2, 1), label: "sum" },
        { inputs: [{ shape: [2, 3, 4] }], call: (x2) => max(x2, [0, 2]), label: "max" },
        { inputs: [{ shape: [3, 4] }], call: (x2) => min(x2), label: "min" },
        { inputs: [{ shape: [3, 2] }], call: (x2) => prod(x2, 0), label: "prod" }
      ]
    });
    sum = (x2, dims, opts = {}) => reduce4("sum", x2, dims, opts);
    prod = (x2, dims, opts = {}) => reduce4("prod", x2, dims, opts);
    max = (x2, dims, opts = {}) => reduce4("max", x2, dims, opts);
    min = (x2, dims, opts = {}) => reduce4("min", x2, dims, opts);
    argmax = (x2, dim, opts = {}) => argReduce3("argmax", x2, dim, opts);
    argmin = (x2, dim, opts = {}) => argReduce3("argmin", x2, dim, opts);
  }
});

// packages/core/src/ops/shape_ops.ts
function cat(xs, dim = 0) {
  if (xs.length === 0) throw new ValueError("cat: expected a non-empty list of tensors");
  const d = normDim("cat", dim, xs[0].ndim);
  for (const x2 of xs) {
    if (x2.ndim !== xs[0].ndim || x2.shape.some((s, i) => i !== d && s !== xs[0].shape[i])) {
      throw new ShapeError(`cat: shapes ${xs.map((t2) => fmtShape(t2.shape)).join(", ")} must match except in dim ${dim}`);
    }
  }
  const t = xs.map((x2) => x2.dtype).reduce(promoteTypes);
  return tidy(() => apply(CAT, xs.map((x2) => cast(x2, t)), { dim: d }));
}
function split(x2, sizes, dim = 0) {
  const d = normDim("split", dim, x2.ndim);
  const n = x2.shape[d];
  let list2;
  if (typeof sizes === "number") {
    if (!Number.isInteger(sizes) || sizes <= 0) throw new ValueError(`split: size must be a positive integer, got ${sizes}`);
    list2 = [];
    for (let i = 0; i < n; i += sizes) list2.push(Math.min(sizes, n - i));
  } else {
    list2 = [...sizes];
    if (list2.reduce((a, b) => a + b, 0) !== n) throw new ShapeError(`split: sizes ${fmtShape(list2)} do not sum to ${n} (dim ${dim} of shape ${fmtShape(x2.shape)})`);
  }
  let off = 0;
  return list2.map((len) => {
    const v = narrow(x2, d, off, len);
    off += len;
    return v;
  });
}
function chunk(x2, chunks, dim = 0) {
  const d = normDim("chunk", dim, x2.ndim);
  if (!Number.isInteger(chunks) || chunks <= 0) throw new ValueError(`chunk: chunks must be a positive integer, got ${chunks}`);
  return split(x2, Math.max(1, Math.ceil(x2.shape[d] / chunks)), d);
}
function pad(x2, pads, value = 0) {
  if (pads.length % 2 !== 0 || pads.length / 2 > x2.ndim) {
    throw new ShapeError(`pad: expected (before, after) pairs for at most ${x2.ndim} dims, got ${fmtShape(pads)} for shape ${fmtShape(x2.shape)}`);
  }
  if (pads.some((p) => !Number.isInteger(p) || p < 0)) throw new ValueError(`pad: pads must be non-negative integers, got ${fmtShape(pads)}`);
  const before = new Array(x2.ndim).fill(0);
  const after = new Array(x2.ndim).fill(0);
  for (let i = 0; i < pads.length / 2; i++) {
    before[x2.ndim - 1 - i] = pads[2 * i];
    after[x2.ndim - 1 - i] = pads[2 * i + 1];
  }
  return apply(PAD, [x2], { before, after, value });
}
function triangle(op, x2, diagonal) {
  if (x2.ndim < 2) throw new ShapeError(`${op}: expected a tensor with at least 2 dims, got shape ${fmtShape(x2.shape)}`);
  const n = x2.shape[x2.ndim - 2], m2 = x2.shape[x2.ndim - 1];
  return tidy(() => {
    const rows = arange(n, void 0, 1, { device: x2.device }).reshape([n, 1]);
    const cols = arange(m2, void 0, 1, { device: x2.device });
    const diff = sub(cols, rows);
    const keep2 = op === "tril" ? le(diff, diagonal) : ge(diff, diagonal);
    return where4(keep2, x2, 0);
  });
}
var CAT, PAD, tril, triu;
var init_shape_ops = __esm({
  "packages/core/src/ops/shape_ops.ts"() {
    "use strict";
    init_dtype2();
    init_errors();
    init_shape();
    init_alloc();
    init_cast();
    init_define();
    init_views();
    init_creation();
    init_binary();
    init_memory();
    CAT = defineOp({
      name: "cat",
      forward: (xs, { dim }) => {
        const shape = [...xs[0].shape];
        shape[dim] = xs.reduce((a, x2) => a + x2.shape[dim], 0);
        const out = empty(shape, xs[0].dtype, xs[0].backend);
        const strides = contiguousStrides(shape);
        let off = 0;
        for (const x2 of xs) {
          if (x2.shape[dim] > 0 && x2.size > 0) {
            x2.backend.kernels.copy(x2.view_(), { buffer: out.storage.buffer, dtype: out.dtype, shape: x2.shape, strides, offset: off * strides[dim] });
          }
          off += x2.shape[dim];
        }
        return out;
      },
      backward: (g, _s, { dim }, needs, inputs) => {
        let off = 0;
        return inputs.map((x2, i) => {
          const len = x2.shape[dim];
          const r = needs[i] ? narrow(g, dim, off, len) : null;
          off += len;
          return r;
        });
      },
      gradcheck: [{ inputs: [{ shape: [2, 3] }, { shape: [2, 1] }], call: (a, b) => cat([a, b], 1) }]
    });
    PAD = defineOp({
      name: "pad",
      forward: ([x2], { before, after, value }) => {
        const shape = x2.shape.map((s, i) => s + before[i] + after[i]);
        const out = empty(shape, x2.dtype, x2.backend);
        x2.backend.kernels.fill(out.view_(), value);
        const strides = contiguousStrides(shape);
        if (x2.size > 0) {
          const offset = before.reduce((a, b, i) => a + b * strides[i], 0);
          x2.backend.kernels.copy(x2.view_(), { buffer: out.storage.buffer, dtype: out.dtype, shape: x2.shape, strides, offset });
        }
        return out;
      },
      backward: (g, _s, { before }, _n, [x2]) => {
        let r = g;
        x2.shape.forEach((s, i) => {
          if (before[i] !== 0 || s !== g.shape[i]) r = narrow(r, i, before[i], s);
        });
        return [r];
      },
      gradcheck: [{ inputs: [{ shape: [2, 3] }], call: (x2) => pad(x2, [1, 0, 0, 2], 0.5) }]
    });
    tril = (x2, diagonal = 0) => triangle("tril", x2, diagonal);
    triu = (x2, diagonal = 0) => triangle("triu", x2, diagonal);
  }
});

// packages/core/src/ops/indexing.ts
function checkIndex3(op, index, size, what) {
  if (index.dtype !== "int32") throw new DTypeError(`${op}: indices must be int32, got ${index.dtype} (shape ${fmtShape(index.shape)})`);
  const read = index.backend.readSync;
  if (!read || index.size === 0) return;
  const c = index.isContiguous() ? index : index.contiguous();
  const vals = read(c.storage.buffer, "int32", c.storage.length).subarray(c.offset, c.offset + c.size);
  if (c !== index) c.dispose();
  for (const v of vals) {
    if (v < 0 || v >= size) throw new IndexError(`${op}: index ${v} is out of range for ${what} of size ${size} (valid: 0..${size - 1})`);
  }
}
function zerosOf(shape, like) {
  return zerosOn(shape, like.dtype, like.backend);
}
function gather3(x2, dim, index) {
  const d = normDim("gather", dim, x2.ndim);
  if (index.ndim !== x2.ndim || index.shape.some((s, i) => i !== d && s > x2.shape[i])) {
    throw new ShapeError(`gather: index of shape ${fmtShape(index.shape)} does not fit input ${fmtShape(x2.shape)} along dim ${dim}`);
  }
  checkIndex3("gather", index, x2.shape[d], `dim ${dim} of input ${fmtShape(x2.shape)}`);
  return apply(GATHER, [x2, index], { dim: d });
}
function scatterAdd3(x2, dim, index, src) {
  const d = normDim("scatterAdd", dim, x2.ndim);
  if (index.ndim !== x2.ndim || src.ndim !== x2.ndim || index.shape.some((s, i) => s > src.shape[i] || i !== d && s > x2.shape[i])) {
    throw new ShapeError(`scatterAdd: index ${fmtShape(index.shape)}, src ${fmtShape(src.shape)} and input ${fmtShape(x2.shape)} are incompatible along dim ${dim}`);
  }
  checkIndex3("scatterAdd", index, x2.shape[d], `dim ${dim} of input ${fmtShape(x2.shape)}`);
  return tidy(() => apply(SCATTER_ADD, [x2, index, cast(src, x2.dtype)], { dim: d }));
}
function indexSelect4(x2, dim, index) {
  const d = normDim("indexSelect", dim, x2.ndim);
  if (index.ndim !== 1) throw new ShapeError(`indexSelect: index must be 1-D, got shape ${fmtShape(index.shape)}`);
  checkIndex3("indexSelect", index, x2.shape[d], `dim ${dim} of input ${fmtShape(x2.shape)}`);
  return apply(INDEX_SELECT, [x2, index], { dim: d });
}
function embedding(weight, ids) {
  if (weight.ndim !== 2) throw new ShapeError(`embedding: weight must be [numEmbeddings, dim], got ${fmtShape(weight.shape)}`);
  if (ids.dtype !== "int32") throw new DTypeError(`embedding: ids must be int32, got ${ids.dtype} (shape ${fmtShape(ids.shape)})`);
  checkIndex3("embedding", ids, weight.shape[0], `an embedding table ${fmtShape(weight.shape)}`);
  return tidy(() => reshape(indexSelect4(weight, 0, reshape(ids, [-1])), [...ids.shape, weight.shape[1]]));
}
var GATHER, SCATTER_ADD, INDEX_SELECT, INDEX_ADD;
var init_indexing3 = __esm({
  "packages/core/src/ops/indexing.ts"() {
    "use strict";
    init_errors();
    init_shape();
    init_alloc();
    init_cast();
    init_define();
    init_views();
    init_creation();
    init_binary();
    init_memory();
    GATHER = defineOp({
      name: "gather",
      forward: ([x2, index], { dim }, save) => {
        const out = empty(index.shape, x2.dtype, x2.backend);
        x2.backend.kernels.gather(x2.view_(), dim, index.view_(), out.view_());
        save(index);
        return out;
      },
      backward: (g, [index], { dim }, _n, [x2]) => [scatterAdd3(zerosOf(x2.shape, g), dim, index, g), null],
      gradcheck: [{ inputs: [{ shape: [3, 4] }, { shape: [3, 2], int: { high: 4 } }], call: (x2, i) => gather3(x2, 1, i) }]
    });
    SCATTER_ADD = defineOp({
      name: "scatterAdd",
      forward: ([x2, index, src], { dim }, save) => {
        const out = empty(x2.shape, x2.dtype, x2.backend);
        x2.backend.kernels.copy(x2.view_(), out.view_());
        x2.backend.kernels.scatterAdd(out.view_(), dim, index.view_(), src.view_());
        save(index);
        return out;
      },
      backward: (g, [index], { dim }, needs) => [needs[0] ? g : null, null, needs[2] ? gather3(g, dim, index) : null],
      gradcheck: [{ inputs: [{ shape: [3, 4] }, { shape: [3, 2], int: { high: 4 } }, { shape: [3, 2] }], call: (x2, i, s) => scatterAdd3(x2, 1, i, s) }]
    });
    INDEX_SELECT = defineOp({
      name: "indexSelect",
      forward: ([x2, index], { dim }, save) => {
        const shape = [...x2.shape];
        shape[dim] = index.shape[0];
        const out = empty(shape, x2.dtype, x2.backend);
        x2.backend.kernels.indexSelect(x2.view_(), dim, index.view_(), out.view_());
        save(index);
        return out;
      },
      backward: (g, [index], { dim }, _n, [x2]) => [apply(INDEX_ADD, [g, index], { dim, shape: [...x2.shape] }), null],
      gradcheck: [{ inputs: [{ shape: [4, 3] }, { shape: [5], int: { high: 4 } }], call: (x2, i) => indexSelect4(x2, 0, i) }]
    });
    INDEX_ADD = defineOp({
      name: "indexAdd",
      forward: ([src, index], { dim, shape }, save) => {
        const out = zerosOn(shape, src.dtype, src.backend);
        src.backend.kernels.indexAdd(out.view_(), dim, index.view_(), src.view_());
        save(index);
        return out;
      },
      backward: (g, [index], { dim }) => [indexSelect4(g, dim, index), null]
    });
  }
});

// packages/core/src/ops/device.ts
function detach(x2) {
  return new Tensor(x2.storage.retain(), x2.shape, x2.dtype, { strides: x2.strides, offset: x2.offset });
}
function copyTo(x2, device, data2) {
  const backend = getBackend(device);
  const out = empty(x2.shape, x2.dtype, backend);
  backend.upload(out.storage.buffer, data2);
  if (x2.requiresGrad && x2.isLeaf) out.requiresGrad = true;
  return out;
}
function to(x2, target) {
  if (isDType(target)) return cast(x2, target);
  if (target === x2.device) return x2;
  const read = x2.backend.readSync;
  if (!read) throw new DeviceError(`to('${target}'): reading a ${x2.device} tensor of shape ${fmtShape(x2.shape)} is asynchronous; use \`await t.toAsync('${target}')\``);
  const c = contiguous(x2);
  const data2 = read(c.storage.buffer, c.dtype, c.storage.length).subarray(c.offset, c.offset + c.size);
  if (c !== x2) c.dispose();
  return copyTo(x2, target, data2);
}
async function toAsync(x2, target) {
  if (isDType(target) || target === x2.device) return to(x2, target);
  return copyTo(x2, target, await data(x2));
}
async function data(x2) {
  const c = contiguous(x2);
  try {
    const all = await c.backend.download(c.storage.buffer, c.dtype, c.offset + c.size);
    return all.slice(c.offset, c.offset + c.size);
  } finally {
    if (c !== x2) c.dispose();
  }
}
function dataSync(x2) {
  const read = x2.backend.readSync;
  if (!read) throw new DeviceError(`dataSync: tensors on '${x2.device}' are read asynchronously; use \`await t.data()\``);
  const c = contiguous(x2);
  const out = read(c.storage.buffer, c.dtype, c.offset + c.size).slice(c.offset, c.offset + c.size);
  if (c !== x2) c.dispose();
  return out;
}
function nest(flat, shape, dtype) {
  const conv = (v) => dtype === "bool" ? v !== 0 : v;
  if (shape.length === 0) return conv(flat[0]);
  const build = (dim, off) => {
    const n = shape[dim];
    const stride = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
    const out = [];
    for (let i = 0; i < n; i++) out.push(dim === shape.length - 1 ? conv(flat[off + i]) : build(dim + 1, off + i * stride));
    return out;
  };
  return build(0, 0);
}
async function array(x2) {
  return nest(await data(x2), x2.shape, x2.dtype);
}
async function item(x2) {
  if (x2.size !== 1) throw new DTypeError(`item: only a tensor with one element can be read as a number, got shape ${fmtShape(x2.shape)}`);
  return (await data(x2))[0];
}
var isDType;
var init_device2 = __esm({
  "packages/core/src/ops/device.ts"() {
    "use strict";
    init_registry();
    init_errors();
    init_tensor();
    init_alloc();
    init_cast();
    init_src();
    isDType = (s) => DTYPES.includes(s);
  }
});

// packages/core/src/ops/inplace.ts
function guard(op, t, others = []) {
  checkInputs(op, [t, ...others]);
  if (isGradEnabled() && t.requiresGrad) {
    throw new AutogradError(`${op}: in-place change to a tensor that requires grad (shape ${fmtShape(t.shape)}${t.name ? `, ${t.name}` : ""}); wrap it in noGrad(() => ...)`);
  }
}
function copy_(t, src) {
  guard("copy_", t, [src]);
  const shape = broadcastShapes("copy_", t.shape, src.shape);
  if (!shapesEqual(shape, t.shape)) throw new ShapeError(`copy_: source ${fmtShape(src.shape)} cannot be broadcast to destination ${fmtShape(t.shape)}`);
  t.backend.kernels.copy(broadcastView(src, t.shape), t.view_());
  t.storage.version++;
  return t;
}
function fill_(t, value) {
  guard("fill_", t);
  if (t.isContiguous()) t.backend.kernels.fill(t.view_(), value);
  else {
    const s = scalarTensor(value, t.dtype, t.backend);
    t.backend.kernels.copy(broadcastView(s, t.shape), t.view_());
    s.dispose();
  }
  t.storage.version++;
  return t;
}
function binary_(op, t, other) {
  guard(`${op}_`, t, isTensor(other) ? [other] : []);
  const o = isTensor(other) ? other : scalarTensor(other, t.dtype, t.backend);
  const shape = broadcastShapes(`${op}_`, t.shape, o.shape);
  if (!shapesEqual(shape, t.shape)) throw new ShapeError(`${op}_: operand ${fmtShape(o.shape)} cannot be broadcast to the destination ${fmtShape(t.shape)}`);
  if (t.isContiguous() && o.dtype === t.dtype) {
    t.backend.kernels.binary(op, t.view_(), broadcastView(o, t.shape), t.view_());
  } else {
    const r = binary5(op, t, o);
    t.backend.kernels.copy(r.view_(), t.view_());
    r.dispose();
  }
  if (o !== other) o.dispose();
  t.storage.version++;
  return t;
}
var zero_, add_, sub_, mul_, div_;
var init_inplace = __esm({
  "packages/core/src/ops/inplace.ts"() {
    "use strict";
    init_grad_mode();
    init_errors();
    init_shape();
    init_alloc();
    init_define();
    init_binary();
    init_errors();
    zero_ = (t) => fill_(t, 0);
    add_ = (t, o) => binary_("add", t, o);
    sub_ = (t, o) => binary_("sub", t, o);
    mul_ = (t, o) => binary_("mul", t, o);
    div_ = (t, o) => binary_("div", t, o);
  }
});

// packages/core/src/ops/matmul.ts
function matmul4(a, b) {
  checkInputs("matmul", [a, b]);
  if (a.ndim === 0 || b.ndim === 0) {
    throw new ShapeError(`matmul: both arguments need at least 1 dimension, got shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  if (a.dtype === "bool" || b.dtype === "bool") throw new DTypeError(`matmul: bool tensors are not supported (shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)})`);
  const ka = a.shape[a.ndim - 1];
  const kb = b.ndim === 1 ? b.shape[0] : b.shape[b.ndim - 2];
  if (ka !== kb) {
    throw new ShapeError(`matmul: shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} cannot be multiplied (${ka} vs ${kb} in the contracted dim)`);
  }
  return tidy(() => {
    const t = promoteTypes(a.dtype, b.dtype);
    const A = a.ndim === 1 ? unsqueeze(cast(a, t), 0) : cast(a, t);
    const B = b.ndim === 1 ? unsqueeze(cast(b, t), 1) : cast(b, t);
    let out = apply(MATMUL, [A, B], {});
    if (a.ndim === 1 && b.ndim === 1) return reshape(out, []);
    if (a.ndim === 1) out = squeeze(out, -2);
    if (b.ndim === 1) out = squeeze(out, -1);
    return out;
  });
}
var MATMUL;
var init_matmul3 = __esm({
  "packages/core/src/ops/matmul.ts"() {
    "use strict";
    init_dtype2();
    init_errors();
    init_shape();
    init_alloc();
    init_cast();
    init_define();
    init_views();
    init_memory();
    MATMUL = defineOp({
      name: "matmul",
      forward: ([a, b], _attrs, save) => {
        const M = a.shape[a.ndim - 2], K = a.shape[a.ndim - 1], N = b.shape[b.ndim - 1];
        const batch = broadcastShapes("matmul", a.shape.slice(0, -2), b.shape.slice(0, -2));
        const out = empty([...batch, M, N], a.dtype, a.backend);
        a.backend.kernels.matmul(broadcastView(a, [...batch, M, K]), broadcastView(b, [...batch, K, N]), out.view_());
        save(a);
        save(b);
        return out;
      },
      // dA = G·Bᵀ, dB = Aᵀ·G (batch broadcasting is summed back by the engine).
      backward: (g, [a, b], _attrs, needs) => [
        needs[0] ? matmul4(g, transpose(b, -2, -1)) : null,
        needs[1] ? matmul4(transpose(a, -2, -1), g) : null
      ],
      gradcheck: [
        { inputs: [{ shape: [3, 4] }, { shape: [4, 2] }], call: (a, b) => matmul4(a, b), label: "2d" },
        { inputs: [{ shape: [2, 1, 3, 4] }, { shape: [3, 4, 2] }], call: (a, b) => matmul4(a, b), label: "batched broadcast" },
        { inputs: [{ shape: [4] }, { shape: [4] }], call: (a, b) => matmul4(a, b), label: "dot" },
        { inputs: [{ shape: [3, 4] }, { shape: [4] }], call: (a, b) => matmul4(a, b), label: "matrix-vector" }
      ]
    });
  }
});

// packages/core/src/ops/softmax.ts
function rowwise(x2, dim, log2) {
  const d = normDim(log2 ? "logSoftmax" : "softmax", dim, x2.ndim);
  return tidy(() => {
    const xf = isFloat2(x2.dtype) ? x2 : cast(x2, "float32");
    if (xf.ndim === 0) return apply(SOFTMAX, [contiguous(xf.reshape([1]))], { log: log2 }).reshape([]);
    const last = d === xf.ndim - 1;
    const input = contiguous(last ? xf : transpose(xf, d, -1));
    const y2 = apply(SOFTMAX, [input], { log: log2 });
    return last ? y2 : transpose(y2, d, -1);
  });
}
var SOFTMAX, softmax4, logSoftmax;
var init_softmax3 = __esm({
  "packages/core/src/ops/softmax.ts"() {
    "use strict";
    init_dtype2();
    init_shape();
    init_alloc();
    init_cast();
    init_define();
    init_views();
    init_binary();
    init_unary();
    init_reduce3();
    init_grad_mode();
    init_memory();
    SOFTMAX = defineOp({
      name: "softmax",
      forward: ([x2], { log: log2 }, save) => {
        const out = empty(x2.shape, x2.dtype, x2.backend);
        x2.backend.kernels.softmax(x2.view_(), out.view_(), log2);
        save(out);
        return out;
      },
      // First-order only: differentiate softmaxDecomposed for higher orders.
      backward: (g, [y2], { log: log2 }) => {
        const dy = contiguous(g);
        const dx = empty(y2.shape, y2.dtype, y2.backend);
        y2.backend.kernels.softmaxBackward(y2.view_(), dy.view_(), dx.view_(), log2);
        if (dy !== g) dy.dispose();
        return [dx];
      },
      gradcheck: [
        { inputs: [{ shape: [3, 5] }], call: (x2) => softmax4(x2, -1), label: "softmax" },
        { inputs: [{ shape: [4, 3] }], call: (x2) => logSoftmax(x2, 0), label: "logSoftmax dim 0" }
      ]
    });
    softmax4 = (x2, dim = -1) => rowwise(x2, dim, false);
    logSoftmax = (x2, dim = -1) => rowwise(x2, dim, true);
  }
});

// packages/core/src/autograd/engine.ts
function sumToShape(g, shape) {
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  if (lead < 0) throw new ShapeError(`autograd: gradient of shape ${fmtShape(g.shape)} cannot be reduced to ${fmtShape(shape)}`);
  const axes = [];
  for (let i = 0; i < g.ndim; i++) if (i < lead || shape[i - lead] === 1 && g.shape[i] !== 1) axes.push(i);
  return tidy(() => reshape(sum(g, axes, { keepdim: true }), shape));
}
function accumulateLeaf(leaf, g) {
  if (leaf.isDisposed) return;
  if (leaf.grad === null || leaf.grad.isDisposed) {
    leaf.grad = keep(g.isContiguous() && g.storage.refs === 1 && g.isLeaf ? g : clone(g));
    return;
  }
  const old = leaf.grad;
  leaf.grad = keep(add(old, g));
  old.dispose();
}
function runBackward(roots, opts, capture) {
  const captured = /* @__PURE__ */ new Map();
  const captureLeaf = new Set(capture?.filter((t) => t.isLeaf));
  const captureNode = /* @__PURE__ */ new Map();
  for (const t of capture ?? []) if (t.gradFn) captureNode.set(t.gradFn, t);
  const prevGrad = isGradEnabled();
  setGradEnabled(!!opts.createGraph);
  try {
    const grads = /* @__PURE__ */ new Map();
    const deps = /* @__PURE__ */ new Map();
    const seedNodes = [];
    const deliver = (node, leaf, g) => {
      if (node) {
        const prev = grads.get(node);
        if (prev) {
          grads.set(node, add(prev, g));
          prev.dispose();
          g.dispose();
        } else grads.set(node, g);
      } else if (leaf) {
        if (capture) {
          if (captureLeaf.has(leaf)) {
            const prev = captured.get(leaf);
            captured.set(leaf, prev ? add(prev, g) : g);
            if (prev) {
              prev.dispose();
              g.dispose();
            }
          } else g.dispose();
        } else {
          accumulateLeaf(leaf, g);
          if (leaf.grad !== g) g.dispose();
        }
      } else g.dispose();
    };
    for (const { tensor: tensor2, grad: grad2 } of roots) {
      if (tensor2.isDisposed) throw new DisposedError(`backward: the output tensor of shape ${fmtShape(tensor2.shape)} was disposed`);
      if (!tensor2.requiresGrad) {
        throw new AutogradError(`backward: tensor of shape ${fmtShape(tensor2.shape)} does not require grad and has no graph (did you compute it under noGrad, or forget requiresGrad on the inputs?)`);
      }
      if (grad2 === null && tensor2.size !== 1) {
        throw new AutogradError(`backward: output of shape ${fmtShape(tensor2.shape)} is not a scalar; pass a gradient of the same shape, e.g. t.backward(onesLike(t))`);
      }
      if (grad2 && !shapesEqual(grad2.shape, tensor2.shape)) {
        throw new AutogradError(`backward: gradient shape ${fmtShape(grad2.shape)} does not match the output's ${fmtShape(tensor2.shape)}`);
      }
      const seed = grad2 ? grad2.dtype === tensor2.dtype ? clone(grad2) : cast(grad2, tensor2.dtype) : onesLike(tensor2);
      if (tensor2.gradFn) {
        seedNodes.push(tensor2.gradFn);
        deliver(tensor2.gradFn, null, seed);
      } else deliver(null, tensor2, seed);
    }
    const stack2 = [...new Set(seedNodes)];
    const seen = new Set(stack2);
    while (stack2.length) {
      const n = stack2.pop();
      for (const e of n.edges) {
        if (!e.needsGrad || !e.node) continue;
        deps.set(e.node, (deps.get(e.node) ?? 0) + 1);
        if (!seen.has(e.node)) {
          seen.add(e.node);
          stack2.push(e.node);
        }
      }
    }
    const ready = [...new Set(seedNodes)].filter((n) => !deps.get(n));
    while (ready.length) {
      const node = ready.pop();
      const g = grads.get(node);
      grads.delete(node);
      const edges = [...node.edges];
      if (g) {
        const cap = captureNode.get(node);
        if (cap) captured.set(cap, keep(g.alias()));
        const retained = capture ? void 0 : node.retained?.deref();
        if (retained && !retained.isDisposed) accumulateLeaf(retained, g.alias());
        const saved = node.unpackSaved();
        const needs = edges.map((e) => e.needsGrad);
        const results = tidy(() => node.backwardFn(g, saved, needs).map((r, i) => {
          if (!r || !needs[i]) return null;
          const e = edges[i];
          let out = sumToShape(r, e.shape);
          if (out.dtype !== e.dtype) out = cast(out, e.dtype);
          if (out === g) out = g.alias();
          return out;
        }));
        g.dispose();
        if (!opts.retainGraph) node.releaseSaved();
        results.forEach((r, i) => {
          if (r) deliver(edges[i].node, edges[i].leaf, r);
        });
      }
      for (const e of edges) {
        if (!e.needsGrad || !e.node) continue;
        const left = deps.get(e.node) - 1;
        deps.set(e.node, left);
        if (left === 0) ready.push(e.node);
      }
    }
    for (const g of grads.values()) g.dispose();
  } finally {
    setGradEnabled(prevGrad);
  }
  for (const g of captured.values()) keep(g);
  return captured;
}
var init_engine = __esm({
  "packages/core/src/autograd/engine.ts"() {
    "use strict";
    init_errors();
    init_memory();
    init_shape();
    init_grad_mode();
    init_binary();
    init_cast();
    init_creation();
    init_reduce3();
    init_views();
  }
});

// packages/core/src/autograd/api.ts
function backward(output, grad2, opts = {}) {
  runBackward([{ tensor: output, grad: grad2 ?? null }], opts);
}
var init_api = __esm({
  "packages/core/src/autograd/api.ts"() {
    "use strict";
    init_errors();
    init_engine();
    init_define();
    init_device2();
  }
});

// packages/core/src/tensor_methods.ts
var T, binaryNames, unaryNames;
var init_tensor_methods = __esm({
  "packages/core/src/tensor_methods.ts"() {
    "use strict";
    init_tensor();
    init_binary();
    init_unary();
    init_reduce3();
    init_views();
    init_shape_ops();
    init_indexing3();
    init_device2();
    init_inplace();
    init_cast();
    init_matmul3();
    init_softmax3();
    init_api();
    T = Tensor.prototype;
    binaryNames = ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "remainder", "eq", "ne", "lt", "le", "gt", "ge", "logicalAnd", "logicalOr"];
    for (const n of binaryNames) T[n] = function(o) {
      return binary_exports[n](this, o);
    };
    unaryNames = ["neg", "abs", "sign", "exp", "expm1", "log", "log1p", "sqrt", "rsqrt", "square", "reciprocal", "sin", "cos", "tanh", "sigmoid", "relu", "silu", "softplus", "erf", "floor", "ceil", "round", "logicalNot"];
    for (const n of unaryNames) T[n] = function() {
      return unary4(n, this);
    };
    Object.assign(T, {
      gelu(o) {
        return gelu(this, o);
      },
      clamp(lo, hi) {
        return clamp(this, lo, hi);
      },
      maskedFill(m2, v) {
        return maskedFill(this, m2, v);
      },
      sum(d, o) {
        return sum(this, d, o);
      },
      mean(d, o) {
        return mean(this, d, o);
      },
      prod(d, o) {
        return prod(this, d, o);
      },
      max(d, o) {
        return max(this, d, o);
      },
      min(d, o) {
        return min(this, d, o);
      },
      argmax(d, o) {
        return argmax(this, d, o);
      },
      argmin(d, o) {
        return argmin(this, d, o);
      },
      logsumexp(d, o) {
        return logsumexp(this, d, o);
      },
      var(d, o) {
        return variance(this, d, o);
      },
      std(d, o) {
        return std(this, d, o);
      },
      reshape(s) {
        return reshape(this, s);
      },
      view(s) {
        return view(this, s);
      },
      transpose(a, b) {
        return transpose(this, a, b);
      },
      permute(d) {
        return permute(this, d);
      },
      expand(s) {
        return expand(this, s);
      },
      squeeze(d) {
        return squeeze(this, d);
      },
      unsqueeze(d) {
        return unsqueeze(this, d);
      },
      flatten(s, e) {
        return flatten2(this, s, e);
      },
      narrow(d, s, l) {
        return narrow(this, d, s, l);
      },
      slice(d, s, e, st) {
        return slice(this, d, s, e, st);
      },
      select(d, i) {
        return select(this, d, i);
      },
      split(s, d) {
        return split(this, s, d);
      },
      chunk(c, d) {
        return chunk(this, c, d);
      },
      tril(k) {
        return tril(this, k);
      },
      triu(k) {
        return triu(this, k);
      },
      contiguous() {
        return contiguous(this);
      },
      clone() {
        return clone(this);
      },
      matmul(o) {
        return matmul4(this, o);
      },
      gather(d, i) {
        return gather3(this, d, i);
      },
      scatterAdd(d, i, s) {
        return scatterAdd3(this, d, i, s);
      },
      indexSelect(d, i) {
        return indexSelect4(this, d, i);
      },
      softmax(d) {
        return softmax4(this, d);
      },
      logSoftmax(d) {
        return logSoftmax(this, d);
      },
      to(t) {
        return to(this, t);
      },
      toAsync(t) {
        return toAsync(this, t);
      },
      float() {
        return cast(this, "float32");
      },
      double() {
        return cast(this, "float64");
      },
      int() {
        return cast(this, "int32");
      },
      bool() {
        return cast(this, "bool");
      },
      detach() {
        return detach(this);
      },
      data() {
        return data(this);
      },
      dataSync() {
        return dataSync(this);
      },
      array() {
        return array(this);
      },
      item() {
        return item(this);
      },
      backward(g, o) {
        backward(this, g, o);
      },
      retainGrad() {
        this.retainsGrad = true;
        if (this.gradFn) this.gradFn.retained = new WeakRef(this);
        return this;
      },
      copy_(s) {
        return copy_(this, s);
      },
      fill_(v) {
        return fill_(this, v);
      },
      zero_() {
        return zero_(this);
      },
      add_(o) {
        return add_(this, o);
      },
      sub_(o) {
        return sub_(this, o);
      },
      mul_(o) {
        return mul_(this, o);
      },
      div_(o) {
        return div_(this, o);
      }
    });
    Object.defineProperty(T, "mT", { get() {
      return transpose(this, -2, -1);
    } });
  }
});

// packages/core/src/backend/webgpu.ts
var init_webgpu2 = __esm({
  "packages/core/src/backend/webgpu.ts"() {
    "use strict";
    init_src();
    init_dtype2();
    init_errors();
    init_registry();
  }
});

// packages/core/src/ops/cross_entropy.ts
function crossEntropy4(logits, targets, opts = {}) {
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const labelSmoothing = opts.labelSmoothing ?? 0;
  const reduction = opts.reduction ?? "mean";
  if (targets.dtype !== "int32") throw new DTypeError(`crossEntropy: targets must be int32 class indices, got ${targets.dtype} (shape ${fmtShape(targets.shape)})`);
  if (logits.ndim < 1) throw new ShapeError(`crossEntropy: logits must have a class dim, got shape ${fmtShape(logits.shape)}`);
  if (labelSmoothing < 0 || labelSmoothing >= 1) throw new ValueError(`crossEntropy: labelSmoothing must be in [0, 1), got ${labelSmoothing}`);
  const C = logits.ndim === 1 ? logits.shape[0] : logits.shape[1];
  const expected = logits.ndim === 1 ? [] : [logits.shape[0], ...logits.shape.slice(2)];
  if (targets.ndim !== expected.length || targets.shape.some((s, i) => s !== expected[i])) {
    throw new ShapeError(`crossEntropy: logits ${fmtShape(logits.shape)} expect targets of shape ${fmtShape(expected)}, got ${fmtShape(targets.shape)}`);
  }
  if (opts.weight && (opts.weight.ndim !== 1 || opts.weight.shape[0] !== C)) {
    throw new ShapeError(`crossEntropy: weight must have shape [${C}], got ${fmtShape(opts.weight.shape)}`);
  }
  checkTargets(targets, C, ignoreIndex);
  return tidy(() => {
    const x2 = logits.ndim <= 2 ? logits : permute(logits, [0, ...logits.shape.slice(2).map((_, i) => i + 2), 1]);
    const rows = contiguous(reshape(cast(x2, logits.dtype === "float64" ? "float64" : "float32"), [-1, C]));
    const t = contiguous(reshape(targets, [-1]));
    const w = opts.weight ? contiguous(cast(opts.weight, rows.dtype)) : void 0;
    const attrs = { ignoreIndex, labelSmoothing, hasWeight: !!w };
    const perRow = apply(CROSS_ENTROPY, w ? [rows, t, w] : [rows, t], attrs);
    if (reduction === "none") return reshape(perRow, targets.shape);
    const total = sum(perRow);
    if (reduction === "sum") return total;
    const denom = noGrad(() => {
      const valid = ne(t, ignoreIndex);
      if (!w) return sum(cast(valid, rows.dtype));
      const safe = where4(valid, t, 0);
      return sum(where4(valid, indexSelect4(w, 0, safe), 0));
    });
    return div(total, denom);
  });
}
function checkTargets(targets, C, ignoreIndex) {
  const read = targets.backend.readSync;
  if (!read || targets.size === 0) return;
  const c = targets.isContiguous() ? targets : targets.contiguous();
  const vals = read(c.storage.buffer, "int32", c.storage.length).subarray(c.offset, c.offset + c.size);
  if (c !== targets) c.dispose();
  for (const v of vals) {
    if (v !== ignoreIndex && (v < 0 || v >= C)) {
      throw new IndexError(`crossEntropy: target ${v} is out of range for ${C} classes (ignoreIndex ${ignoreIndex})`);
    }
  }
}
var CROSS_ENTROPY;
var init_cross_entropy3 = __esm({
  "packages/core/src/ops/cross_entropy.ts"() {
    "use strict";
    init_errors();
    init_alloc();
    init_cast();
    init_define();
    init_views();
    init_binary();
    init_unary();
    init_indexing3();
    init_reduce3();
    init_softmax3();
    init_grad_mode();
    init_memory();
    init_views();
    init_errors();
    CROSS_ENTROPY = defineOp({
      name: "crossEntropy",
      forward: ([logits, targets, weight], a, save) => {
        const n = logits.shape[0];
        const loss = empty([n], logits.dtype, logits.backend);
        const lse = empty([n], logits.dtype, logits.backend);
        logits.backend.kernels.crossEntropy(logits.view_(), targets.view_(), weight ? weight.view_() : null, a, loss.view_(), lse.view_());
        save(logits);
        save(targets);
        save(lse);
        if (weight) save(weight);
        lse.dispose();
        return loss;
      },
      // First-order only: differentiate crossEntropyDecomposed for higher orders.
      backward: (g, [logits, targets, lse, weight], a) => {
        const dloss = contiguous(g);
        const dx = empty(logits.shape, logits.dtype, logits.backend);
        logits.backend.kernels.crossEntropyBackward(logits.view_(), targets.view_(), weight?.view_() ?? null, lse.view_(), dloss.view_(), a, dx.view_());
        if (dloss !== g) dloss.dispose();
        return [dx, null, null];
      },
      gradcheck: [
        { inputs: [{ shape: [4, 5] }, { shape: [4], int: { high: 5 } }], call: (x2, t) => crossEntropy4(x2, t), label: "plain" },
        { inputs: [{ shape: [4, 5] }, { shape: [4], int: { high: 5 } }, { shape: [5], domain: "positive", constant: true }], call: (x2, t, w) => crossEntropy4(x2, t, { weight: w, labelSmoothing: 0.1 }), label: "weighted, smoothed" }
      ]
    });
  }
});

// packages/core/src/ops/layer_norm.ts
function layerNorm4(x2, normalizedShape, weight, bias, eps = 1e-5) {
  const k = normalizedShape.length;
  if (k === 0 || k > x2.ndim || normalizedShape.some((d, i) => d !== x2.shape[x2.ndim - k + i])) {
    throw new ShapeError(`layerNorm: normalizedShape ${fmtShape(normalizedShape)} does not match the trailing dims of input ${fmtShape(x2.shape)}`);
  }
  const D = numel(normalizedShape);
  for (const [name, p] of [["weight", weight], ["bias", bias]]) {
    if (p && numel(p.shape) !== D) throw new ShapeError(`layerNorm: ${name} of shape ${fmtShape(p.shape)} does not match normalizedShape ${fmtShape(normalizedShape)}`);
  }
  return tidy(() => {
    const rows = contiguous(reshape(x2, [-1, D]));
    const wb = [weight, bias].filter((t) => !!t).map((t) => contiguous(reshape(t, [D])));
    const y2 = apply(LAYER_NORM, [rows, ...wb], { eps, hasWeight: !!weight, hasBias: !!bias });
    return reshape(y2, x2.shape);
  });
}
var LAYER_NORM;
var init_layer_norm3 = __esm({
  "packages/core/src/ops/layer_norm.ts"() {
    "use strict";
    init_errors();
    init_shape();
    init_alloc();
    init_cast();
    init_define();
    init_views();
    init_binary();
    init_reduce3();
    init_unary();
    init_memory();
    LAYER_NORM = defineOp({
      name: "layerNorm",
      forward: ([x2, ...wb], a, save) => {
        const weight = a.hasWeight ? wb[0] : null;
        const bias = a.hasBias ? wb[a.hasWeight ? 1 : 0] : null;
        const rows = x2.shape[0];
        const out = empty(x2.shape, x2.dtype, x2.backend);
        const mu = empty([rows], x2.dtype, x2.backend);
        const rstd = empty([rows], x2.dtype, x2.backend);
        x2.backend.kernels.layerNorm(x2.view_(), weight?.view_() ?? null, bias?.view_() ?? null, a.eps, out.view_(), mu.view_(), rstd.view_());
        save(x2);
        save(mu);
        save(rstd);
        if (weight) save(weight);
        mu.dispose();
        rstd.dispose();
        return out;
      },
      // One kernel writes dx, dweight and dbias. (Fused ops give first-order gradients; differentiate
      // layerNormDecomposed for higher orders.)
      backward: (g, [x2, mu, rstd, weight], a) => {
        const D = x2.shape[1];
        const dy = contiguous(g);
        const dx = empty(x2.shape, x2.dtype, x2.backend);
        const dw = a.hasWeight ? empty([D], x2.dtype, x2.backend) : null;
        const db = a.hasBias ? empty([D], x2.dtype, x2.backend) : null;
        x2.backend.kernels.layerNormBackward(x2.view_(), weight?.view_() ?? null, mu.view_(), rstd.view_(), dy.view_(), dx.view_(), dw?.view_() ?? null, db?.view_() ?? null);
        if (dy !== g) dy.dispose();
        return [dx, ...dw ? [dw] : [], ...db ? [db] : []];
      },
      gradcheck: [
        { inputs: [{ shape: [3, 6] }, { shape: [6] }, { shape: [6] }], call: (x2, w, b) => layerNorm4(x2, [6], w, b), label: "affine" },
        { inputs: [{ shape: [2, 2, 3] }], call: (x2) => layerNorm4(x2, [2, 3]), label: "two normalized dims" }
      ]
    });
  }
});

// packages/core/src/ops/attention.ts
function checkAttention(q, k, v, mask) {
  const shapes = `q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)}`;
  if (q.ndim !== 4 || k.ndim !== 4 || v.ndim !== 4) throw new ShapeError(`scaledDotProductAttention: expected (B, H, T, D) tensors, got ${shapes}`);
  if (q.shape[0] !== k.shape[0] || q.shape[1] !== k.shape[1] || k.shape[0] !== v.shape[0] || k.shape[1] !== v.shape[1]) {
    throw new ShapeError(`scaledDotProductAttention: batch and head dims must match: ${shapes}`);
  }
  if (q.shape[3] !== k.shape[3] || k.shape[2] !== v.shape[2]) {
    throw new ShapeError(`scaledDotProductAttention: q and k need the same head size and k and v the same length: ${shapes}`);
  }
  if (q.dtype !== k.dtype || q.dtype !== v.dtype) throw new DTypeError(`scaledDotProductAttention: q, k, v dtypes differ (${q.dtype}, ${k.dtype}, ${v.dtype})`);
  if (mask) broadcastShapes("scaledDotProductAttention mask", mask.shape, [q.shape[0], q.shape[1], q.shape[2], k.shape[2]]);
}
function scaledDotProductAttention(q, k, v, opts = {}) {
  checkAttention(q, k, v, opts.mask);
  const scale = opts.scale ?? 1 / Math.sqrt(q.shape[3]);
  return tidy(() => {
    let mask = opts.mask ?? null;
    if (mask && mask.dtype === "bool") mask = where4(mask, 0, -Infinity);
    else if (mask) mask = cast(mask, q.dtype);
    const ins = [contiguous(q), contiguous(k), contiguous(v), ...mask ? [mask] : []];
    return apply(ATTENTION, ins, { scale, causal: !!opts.isCausal, hasMask: !!mask });
  });
}
var ATTENTION;
var init_attention3 = __esm({
  "packages/core/src/ops/attention.ts"() {
    "use strict";
    init_errors();
    init_shape();
    init_alloc();
    init_cast();
    init_define();
    init_binary();
    init_matmul3();
    init_softmax3();
    init_views();
    init_creation();
    init_shape_ops();
    init_memory();
    ATTENTION = defineOp({
      name: "scaledDotProductAttention",
      forward: ([q, k, v, mask], a, save) => {
        const [B, H, Tq] = q.shape;
        const Dv = v.shape[3];
        const out = empty([B, H, Tq, Dv], q.dtype, q.backend);
        const lse = empty([B, H, Tq], q.dtype, q.backend);
        const mv = mask ? broadcastView(mask, [B, H, Tq, k.shape[2]]) : null;
        q.backend.kernels.attention(q.view_(), k.view_(), v.view_(), mv, { scale: a.scale, causal: a.causal }, out.view_(), lse.view_());
        save(q);
        save(k);
        save(v);
        save(out);
        save(lse);
        if (mask) save(mask);
        lse.dispose();
        return out;
      },
      // First-order only: differentiate attentionDecomposed for higher orders.
      backward: (g, [q, k, v, out, lse, mask], a) => {
        const dout = contiguous(g);
        const dq = empty(q.shape, q.dtype, q.backend);
        const dk = empty(k.shape, k.dtype, k.backend);
        const dv = empty(v.shape, v.dtype, v.backend);
        const [B, H, Tq] = q.shape;
        const mv = mask ? broadcastView(mask, [B, H, Tq, k.shape[2]]) : null;
        q.backend.kernels.attentionBackward(
          q.view_(),
          k.view_(),
          v.view_(),
          mv,
          { scale: a.scale, causal: a.causal },
          out.view_(),
          lse.view_(),
          dout.view_(),
          dq.view_(),
          dk.view_(),
          dv.view_()
        );
        if (dout !== g) dout.dispose();
        return [dq, dk, dv, null];
      },
      gradcheck: [
        { inputs: [{ shape: [1, 2, 3, 4] }, { shape: [1, 2, 5, 4] }, { shape: [1, 2, 5, 4] }], call: (q, k, v) => scaledDotProductAttention(q, k, v), label: "cross" },
        { inputs: [{ shape: [2, 1, 4, 4] }, { shape: [2, 1, 4, 4] }, { shape: [2, 1, 4, 4] }], call: (q, k, v) => scaledDotProductAttention(q, k, v, { isCausal: true }), label: "causal" }
      ]
    });
  }
});

// packages/core/src/ops/dropout.ts
function dropout(x2, p = 0.5, training = true) {
  if (!(p >= 0 && p <= 1)) throw new ValueError(`dropout: p must be in [0, 1], got ${p}`);
  if (!training || p === 0) return x2;
  return tidy(() => {
    if (p === 1) return mulScalar(x2, 0);
    const keep2 = cast(ge(rand(x2.shape, { device: x2.device }), p), x2.dtype);
    return mulScalar(mul(x2, keep2), 1 / (1 - p));
  });
}
var init_dropout = __esm({
  "packages/core/src/ops/dropout.ts"() {
    "use strict";
    init_errors();
    init_binary();
    init_creation();
    init_cast();
    init_memory();
  }
});

// packages/core/src/ops/conv.ts
function convOutSize(size, k, s, p, d) {
  return Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;
}
function outHW(x2, g) {
  return [convOutSize(x2[2], g.kernel[0], g.stride[0], g.padding[0], g.dilation[0]), convOutSize(x2[3], g.kernel[1], g.stride[1], g.padding[1], g.dilation[1])];
}
function geometry(kernel, o) {
  return { kernel, stride: pair(o.stride ?? 1), padding: pair(o.padding ?? 0), dilation: pair(o.dilation ?? 1) };
}
function pool(op, x2, kernel, opts) {
  const name = op === "max" ? "maxPool2d" : "avgPool2d";
  if (x2.ndim !== 4) throw new ShapeError(`${name}: expected input (N, C, H, W), got ${fmtShape(x2.shape)}`);
  const k = pair(kernel);
  const g = { kernel: k, stride: pair(opts.stride ?? kernel), padding: pair(opts.padding ?? 0), dilation: [1, 1] };
  if (g.padding[0] * 2 > k[0] || g.padding[1] * 2 > k[1]) throw new ValueError(`${name}: padding ${g.padding} must be at most half the kernel ${k}`);
  const [Ho, Wo] = outHW(x2.shape, g);
  if (Ho <= 0 || Wo <= 0) throw new ShapeError(`${name}: kernel ${k} does not fit input ${fmtShape(x2.shape)}`);
  return tidy(() => apply(POOL2D, [contiguous(x2)], { op, g }));
}
var pair, IM2COL, COL2IM, POOL2D, maxPool2d, avgPool2d;
var init_conv3 = __esm({
  "packages/core/src/ops/conv.ts"() {
    "use strict";
    init_errors();
    init_alloc();
    init_cast();
    init_define();
    init_binary();
    init_matmul3();
    init_shape_ops();
    init_views();
    init_memory();
    pair = (v) => typeof v === "number" ? [v, v] : v;
    IM2COL = defineOp({
      name: "im2col",
      forward: ([x2], { g }) => {
        const [N, C] = x2.shape;
        const [Ho, Wo] = outHW(x2.shape, g);
        const cols = empty([N, C * g.kernel[0] * g.kernel[1], Ho * Wo], x2.dtype, x2.backend);
        x2.backend.kernels.im2col(x2.view_(), g, cols.view_());
        return cols;
      },
      backward: (gr, _s, a) => [apply(COL2IM, [contiguous(gr)], a)],
      gradcheck: [{ inputs: [{ shape: [1, 2, 4, 5] }], call: (x2) => apply(IM2COL, [x2], { g: geometry([2, 3], { stride: [1, 2], padding: 1 }), inShape: [1, 2, 4, 5] }) }]
    });
    COL2IM = defineOp({
      name: "col2im",
      forward: ([cols], { g, inShape }) => {
        const dx = zerosOn(inShape, cols.dtype, cols.backend);
        cols.backend.kernels.col2im(cols.view_(), g, dx.view_());
        return dx;
      },
      backward: (gr, _s, a) => [apply(IM2COL, [contiguous(gr)], a)]
    });
    POOL2D = defineOp({
      name: "pool2d",
      forward: ([x2], { op, g }, save) => {
        const [N, C] = x2.shape;
        const [Ho, Wo] = outHW(x2.shape, g);
        const out = empty([N, C, Ho, Wo], x2.dtype, x2.backend);
        const arg = op === "max" ? empty([N, C, Ho, Wo], "int32", x2.backend) : null;
        x2.backend.kernels.pool2d(op, x2.view_(), g, out.view_(), arg?.view_() ?? null);
        if (arg) {
          save(arg);
          arg.dispose();
        }
        return out;
      },
      backward: (gr, [arg], { op, g }, _n, [x2]) => {
        const dy = contiguous(gr);
        const dx = zerosOn(x2.shape, gr.dtype, gr.backend);
        gr.backend.kernels.pool2dBackward(op, dy.view_(), arg?.view_() ?? null, g, dx.view_());
        if (dy !== gr) dy.dispose();
        return [dx];
      },
      gradcheck: [
        { inputs: [{ shape: [1, 2, 5, 5] }], call: (x2) => maxPool2d(x2, 2, { stride: 2, padding: 1 }), label: "max" },
        { inputs: [{ shape: [1, 2, 5, 4] }], call: (x2) => avgPool2d(x2, 3, { stride: 1, padding: 1 }), label: "avg" }
      ]
    });
    maxPool2d = (x2, kernel, opts = {}) => pool("max", x2, kernel, opts);
    avgPool2d = (x2, kernel, opts = {}) => pool("avg", x2, kernel, opts);
  }
});

// packages/core/src/index.ts
var init_src2 = __esm({
  "packages/core/src/index.ts"() {
    "use strict";
    init_tensor_methods();
    init_tensor();
    init_errors();
    init_dtype2();
    init_shape();
    init_registry();
    init_cpu2();
    init_webgpu2();
    init_memory();
    init_grad_mode();
    init_api();
    init_define();
    init_creation();
    init_cast();
    init_unary();
    init_binary();
    init_reduce3();
    init_views();
    init_shape_ops();
    init_matmul3();
    init_indexing3();
    init_softmax3();
    init_cross_entropy3();
    init_layer_norm3();
    init_attention3();
    init_dropout();
    init_conv3();
    init_device2();
    init_inplace();
    init_engine();
  }
});

// packages/nn/src/safetensors/errors.ts
var SafetensorsError;
var init_errors3 = __esm({
  "packages/nn/src/safetensors/errors.ts"() {
    "use strict";
    SafetensorsError = class extends Error {
      code;
      /** File path (or caller-given label) of the data; undefined for anonymous buffers. */
      source;
      /** Tensor the problem concerns, if any. */
      tensor;
      constructor(code, detail, init = {}) {
        const where5 = `safetensors ${init.source !== void 0 ? `file "${init.source}"` : "<bytes>"}`;
        const what = init.tensor !== void 0 ? `, tensor ${JSON.stringify(init.tensor)}` : "";
        super(`${where5}${what}: ${detail}`, init.cause !== void 0 ? { cause: init.cause } : void 0);
        this.name = "SafetensorsError";
        this.code = code;
        this.source = init.source;
        this.tensor = init.tensor;
      }
    };
  }
});

// packages/nn/src/safetensors/dtypes.ts
function isSafeDType(x2) {
  return typeof x2 === "string" && Object.prototype.hasOwnProperty.call(ITEM_SIZE, x2);
}
function dtypeItemSize(dtype) {
  return ITEM_SIZE[dtype];
}
function dtypeRank(dtype) {
  return DTYPE_RANK[dtype];
}
var DTYPE_RANK, ITEM_SIZE, SAFE_DTYPES;
var init_dtypes = __esm({
  "packages/nn/src/safetensors/dtypes.ts"() {
    "use strict";
    DTYPE_RANK = {
      BOOL: 0,
      U8: 1,
      I8: 2,
      F8_E5M2: 3,
      F8_E4M3: 4,
      I16: 5,
      U16: 6,
      F16: 7,
      BF16: 8,
      I32: 9,
      U32: 10,
      F32: 11,
      F64: 12,
      I64: 13,
      U64: 14
    };
    ITEM_SIZE = {
      BOOL: 1,
      U8: 1,
      I8: 1,
      F8_E5M2: 1,
      F8_E4M3: 1,
      I16: 2,
      U16: 2,
      F16: 2,
      BF16: 2,
      I32: 4,
      U32: 4,
      F32: 4,
      F64: 8,
      I64: 8,
      U64: 8
    };
    SAFE_DTYPES = Object.keys(ITEM_SIZE);
  }
});

// packages/nn/src/safetensors/half.ts
function roundHalfEven2(x2) {
  const r = Math.floor(x2);
  const d = x2 - r;
  if (d > 0.5) return r + 1;
  if (d < 0.5) return r;
  return r % 2 === 0 ? r : r + 1;
}
function encodeIeee(x2, expBits, mantBits, nanBits) {
  const bias = (1 << expBits - 1) - 1;
  const expMask = (1 << expBits) - 1;
  const signBit = 1 << expBits + mantBits;
  if (Number.isNaN(x2)) return nanBits;
  const sign2 = x2 < 0 || Object.is(x2, -0) ? signBit : 0;
  const a = Math.abs(x2);
  const inf = sign2 | expMask << mantBits;
  if (a === Infinity) return inf;
  const emin = 1 - bias;
  const overflow = (2 - Math.pow(2, -(mantBits + 1))) * Math.pow(2, bias);
  if (a >= overflow) return inf;
  if (a < Math.pow(2, emin)) {
    return sign2 | roundHalfEven2(a * Math.pow(2, mantBits - emin));
  }
  let e = Math.floor(Math.log2(a));
  if (Math.pow(2, e) > a) e -= 1;
  else if (Math.pow(2, e + 1) <= a) e += 1;
  let m2 = roundHalfEven2((a / Math.pow(2, e) - 1) * Math.pow(2, mantBits));
  if (m2 === 1 << mantBits) {
    m2 = 0;
    e += 1;
  }
  if (e > bias) return inf;
  return sign2 | e + bias << mantBits | m2;
}
function decodeIeee(bits, expBits, mantBits) {
  const bias = (1 << expBits - 1) - 1;
  const expMask = (1 << expBits) - 1;
  const sign2 = bits >> expBits + mantBits & 1 ? -1 : 1;
  const e = bits >> mantBits & expMask;
  const m2 = bits & (1 << mantBits) - 1;
  if (e === 0) return sign2 * m2 * Math.pow(2, 1 - bias - mantBits);
  if (e === expMask) return m2 !== 0 ? NaN : sign2 * Infinity;
  return sign2 * (1 + m2 / (1 << mantBits)) * Math.pow(2, e - bias);
}
function f16ToF32(bits) {
  return decodeIeee(bits & 65535, 5, 10);
}
function f32ToF16(x2) {
  return encodeIeee(x2, 5, 10, 32256);
}
function f32ToBf16(x2) {
  return encodeIeee(x2, 8, 7, 32704);
}
function f8e5m2ToF32(bits) {
  return decodeIeee(bits & 255, 5, 2);
}
function f8e4m3ToF32(bits) {
  const b = bits & 255;
  const sign2 = b & 128 ? -1 : 1;
  const e = b >> 3 & 15;
  const m2 = b & 7;
  if (e === 15 && m2 === 7) return NaN;
  if (e === 0) return sign2 * m2 * Math.pow(2, -9);
  return sign2 * (1 + m2 / 8) * Math.pow(2, e - 7);
}
var init_half = __esm({
  "packages/nn/src/safetensors/half.ts"() {
    "use strict";
  }
});

// packages/nn/src/safetensors/codec.ts
function swapInPlace(bytes, itemSize) {
  if (itemSize === 1) return;
  for (let i = 0; i + itemSize <= bytes.length; i += itemSize) {
    for (let a = i, b = i + itemSize - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}
function leBytesOf(arr, itemSize) {
  const out = new Uint8Array(arr.buffer.slice(arr.byteOffset, arr.byteOffset + arr.byteLength));
  if (!LITTLE_ENDIAN_HOST) swapInPlace(out, itemSize);
  return out;
}
function numel3(shape) {
  let p = 1;
  for (const d of shape) p *= d;
  return p;
}
function nativeMatches(dtype, data2) {
  switch (dtype) {
    case "F64":
      return data2 instanceof Float64Array;
    case "F32":
      return data2 instanceof Float32Array;
    case "I32":
      return data2 instanceof Int32Array;
    case "I16":
      return data2 instanceof Int16Array;
    case "I8":
      return data2 instanceof Int8Array;
    case "U32":
      return data2 instanceof Uint32Array;
    case "U16":
    case "F16":
    case "BF16":
      return data2 instanceof Uint16Array;
    // F16/BF16: raw bit patterns
    case "I64":
      return data2 instanceof BigInt64Array;
    case "U64":
      return data2 instanceof BigUint64Array;
    case "U8":
    case "BOOL":
      return data2 instanceof Uint8Array || data2 instanceof Uint8ClampedArray;
    default:
      return false;
  }
}
function encodeTensorData(dtype, values, where5 = {}) {
  const n = values.length;
  const bad = (i, why) => {
    throw new SafetensorsError("value_out_of_range", `element ${i} (${String(values[i])}) ${why} for dtype ${dtype}`, where5);
  };
  const num = (i) => {
    const v = values[i];
    if (typeof v === "number") return v;
    if (typeof v === "bigint") return Number(v);
    if (typeof v === "boolean") return v ? 1 : 0;
    return bad(i, "is not a number");
  };
  switch (dtype) {
    case "F64": {
      const a = new Float64Array(n);
      for (let i = 0; i < n; i++) a[i] = num(i);
      return leBytesOf(a, 8);
    }
    case "F32": {
      const a = new Float32Array(n);
      for (let i = 0; i < n; i++) a[i] = num(i);
      return leBytesOf(a, 4);
    }
    case "F16":
    case "BF16": {
      const a = new Uint16Array(n);
      const enc = dtype === "F16" ? f32ToF16 : f32ToBf16;
      for (let i = 0; i < n; i++) a[i] = enc(num(i));
      return leBytesOf(a, 2);
    }
    case "I64":
    case "U64": {
      const a = dtype === "I64" ? new BigInt64Array(n) : new BigUint64Array(n);
      const lo = dtype === "I64" ? -(1n << 63n) : 0n;
      const hi = dtype === "I64" ? (1n << 63n) - 1n : (1n << 64n) - 1n;
      for (let i = 0; i < n; i++) {
        const v = values[i];
        let b;
        if (typeof v === "bigint") b = v;
        else {
          const x2 = num(i);
          if (!Number.isInteger(x2) || Math.abs(x2) > 2 ** 53) bad(i, "is not an integer with |v| <= 2^53");
          b = BigInt(x2);
        }
        if (b < lo || b > hi) bad(i, "is out of range");
        a[i] = b;
      }
      return leBytesOf(a, 8);
    }
    case "BOOL": {
      const a = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const x2 = num(i);
        if (x2 !== 0 && x2 !== 1) bad(i, "is not a boolean (0/1)");
        a[i] = x2;
      }
      return a;
    }
    case "F8_E4M3":
    case "F8_E5M2":
      throw new SafetensorsError("unsupported_conversion", `dtype ${dtype} can only be written from raw bytes (a Uint8Array)`, where5);
    default: {
      const [lo, hi] = INT_RANGE[dtype];
      const size = dtypeItemSize(dtype);
      const a = dtype === "I32" ? new Int32Array(n) : dtype === "I16" ? new Int16Array(n) : dtype === "I8" ? new Int8Array(n) : dtype === "U32" ? new Uint32Array(n) : dtype === "U16" ? new Uint16Array(n) : new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const x2 = num(i);
        if (!Number.isInteger(x2)) bad(i, "is not an integer");
        if (x2 < lo || x2 > hi) bad(i, "is out of range");
        a[i] = x2;
      }
      return leBytesOf(a, size);
    }
  }
}
function tensorBytes(dtype, shape, data2, where5 = {}) {
  const count = numel3(shape);
  const nbytes = count * dtypeItemSize(dtype);
  if (data2 instanceof Uint8Array && dtype !== "U8" && dtype !== "BOOL") {
    if (data2.length !== nbytes) {
      throw new SafetensorsError(
        "size_mismatch",
        `raw data has ${data2.length} bytes but shape [${shape.join(", ")}] of ${dtype} needs ${nbytes}`,
        where5
      );
    }
    return data2;
  }
  if (data2.length !== count) {
    throw new SafetensorsError(
      "size_mismatch",
      `data has ${data2.length} elements but shape [${shape.join(", ")}] has ${count}`,
      where5
    );
  }
  if (!Array.isArray(data2) && nativeMatches(dtype, data2)) {
    if (dtype === "BOOL") {
      const d = data2;
      for (let i = 0; i < d.length; i++) {
        if (d[i] > 1) throw new SafetensorsError("value_out_of_range", `element ${i} (${d[i]}) is not a boolean (0/1) for dtype BOOL`, where5);
      }
    }
    if (data2 instanceof Uint8Array) return data2;
    return leBytesOf(data2, dtypeItemSize(dtype));
  }
  return encodeTensorData(dtype, data2, where5);
}
function alignedCopy(t) {
  const size = dtypeItemSize(t.dtype);
  const expected = numel3(t.shape) * size;
  if (t.data.length !== expected) {
    throw new SafetensorsError("size_mismatch", `tensor has ${t.data.length} bytes but shape [${t.shape.join(", ")}] of ${t.dtype} needs ${expected}`);
  }
  const copy4 = t.data.slice();
  if (!LITTLE_ENDIAN_HOST) swapInPlace(copy4, size);
  return copy4.buffer;
}
function decodeTensor(t) {
  const buf = alignedCopy(t);
  switch (t.dtype) {
    case "F64":
      return new Float64Array(buf);
    case "F32":
      return new Float32Array(buf);
    case "F16": {
      const bits = new Uint16Array(buf);
      const out = new Float32Array(bits.length);
      for (let i = 0; i < bits.length; i++) out[i] = f16ToF32(bits[i]);
      return out;
    }
    case "BF16": {
      const bits = new Uint16Array(buf);
      const out = new Uint32Array(bits.length);
      for (let i = 0; i < bits.length; i++) out[i] = bits[i] << 16;
      return new Float32Array(out.buffer);
    }
    case "F8_E4M3":
    case "F8_E5M2": {
      const bits = new Uint8Array(buf);
      const dec = t.dtype === "F8_E4M3" ? f8e4m3ToF32 : f8e5m2ToF32;
      const out = new Float32Array(bits.length);
      for (let i = 0; i < bits.length; i++) out[i] = dec(bits[i]);
      return out;
    }
    case "I64":
      return new BigInt64Array(buf);
    case "U64":
      return new BigUint64Array(buf);
    case "I32":
      return new Int32Array(buf);
    case "U32":
      return new Uint32Array(buf);
    case "I16":
      return new Int16Array(buf);
    case "U16":
      return new Uint16Array(buf);
    case "I8":
      return new Int8Array(buf);
    case "U8":
    case "BOOL":
      return new Uint8Array(buf);
  }
}
function decodeToFloat64(t, where5 = {}) {
  const d = decodeTensor(t);
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) {
    const out = new Float64Array(d.length);
    for (let i = 0; i < d.length; i++) {
      const v = d[i];
      if (v > MAX_EXACT || v < -MAX_EXACT) {
        throw new SafetensorsError("value_out_of_range", `${t.dtype} element ${i} (${v}) exceeds 2^53 and cannot be represented exactly as a number`, where5);
      }
      out[i] = Number(v);
    }
    return out;
  }
  return d instanceof Float64Array ? d : Float64Array.from(d);
}
function decodeToFloat32(t, where5 = {}) {
  if (t.dtype === "F32" || t.dtype === "F16" || t.dtype === "BF16" || t.dtype === "F8_E4M3" || t.dtype === "F8_E5M2") {
    return decodeTensor(t);
  }
  return Float32Array.from(decodeToFloat64(t, where5));
}
function decodeToInt32(t, where5 = {}) {
  switch (t.dtype) {
    case "F64":
    case "F32":
    case "F16":
    case "BF16":
    case "F8_E4M3":
    case "F8_E5M2":
      throw new SafetensorsError("unsupported_conversion", `cannot decode floating-point dtype ${t.dtype} to Int32Array`, where5);
    case "I32":
      return decodeTensor(t);
    default: {
      const d = decodeToFloat64(t, where5);
      const out = new Int32Array(d.length);
      for (let i = 0; i < d.length; i++) {
        const v = d[i];
        if (v < -2147483648 || v > 2147483647) {
          throw new SafetensorsError("value_out_of_range", `${t.dtype} element ${i} (${v}) does not fit in int32`, where5);
        }
        out[i] = v;
      }
      return out;
    }
  }
}
var LITTLE_ENDIAN_HOST, INT_RANGE, MAX_EXACT;
var init_codec = __esm({
  "packages/nn/src/safetensors/codec.ts"() {
    "use strict";
    init_dtypes();
    init_errors3();
    init_half();
    LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
    INT_RANGE = {
      I32: [-2147483648, 2147483647],
      I16: [-32768, 32767],
      I8: [-128, 127],
      U32: [0, 4294967295],
      U16: [0, 65535],
      U8: [0, 255]
    };
    MAX_EXACT = 2n ** 53n;
  }
});

// packages/nn/src/safetensors/json_header.ts
function parseStrictJson(text) {
  let i = 0;
  const n = text.length;
  const fail = (what) => {
    throw new JsonSyntaxError(`${what} at character ${i}`);
  };
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  const parseString = () => {
    i++;
    let out = "";
    let start = i;
    while (true) {
      if (i >= n) fail("unterminated string");
      const c = text.charCodeAt(i);
      if (c === 34) {
        out += text.slice(start, i);
        i++;
        return out;
      }
      if (c < 32) fail("unescaped control character in string");
      if (c === 92) {
        out += text.slice(start, i);
        i++;
        if (i >= n) fail("unterminated escape");
        const e = text[i];
        i++;
        switch (e) {
          case '"':
            out += '"';
            break;
          case "\\":
            out += "\\";
            break;
          case "/":
            out += "/";
            break;
          case "b":
            out += "\b";
            break;
          case "f":
            out += "\f";
            break;
          case "n":
            out += "\n";
            break;
          case "r":
            out += "\r";
            break;
          case "t":
            out += "	";
            break;
          case "u": {
            const hex = text.slice(i, i + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail("invalid \\u escape");
            out += String.fromCharCode(parseInt(hex, 16));
            i += 4;
            break;
          }
          default:
            i--;
            fail(`invalid escape \\${e}`);
        }
        start = i;
        continue;
      }
      i++;
    }
  };
  const parseNumber = () => {
    const m2 = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m2) return fail("invalid number");
    i += m2[0].length;
    const v2 = Number(m2[0]);
    if (!Number.isFinite(v2)) fail(`number ${m2[0]} out of range`);
    if (m2[2] === void 0 && m2[3] === void 0 && !Number.isSafeInteger(v2)) {
      return NaN;
    }
    return v2;
  };
  const parseValue = (depth) => {
    if (depth > MAX_DEPTH) fail("nesting too deep");
    ws();
    if (i >= n) fail("unexpected end of input");
    const c = text[i];
    if (c === "{") {
      i++;
      const obj = /* @__PURE__ */ new Map();
      ws();
      if (text[i] === "}") {
        i++;
        return obj;
      }
      while (true) {
        ws();
        if (text[i] !== '"') fail("expected a string key");
        const keyAt = i;
        const key = parseString();
        ws();
        if (text[i] !== ":") fail("expected ':'");
        i++;
        const v2 = parseValue(depth + 1);
        if (obj.has(key)) {
          i = keyAt;
          fail(`duplicate key ${JSON.stringify(key)}`);
        }
        obj.set(key, v2);
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return obj;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      const arr = [];
      ws();
      if (text[i] === "]") {
        i++;
        return arr;
      }
      while (true) {
        arr.push(parseValue(depth + 1));
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return arr;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return parseString();
    if (c === "-" || c >= "0" && c <= "9") return parseNumber();
    if (text.startsWith("true", i)) {
      i += 4;
      return true;
    }
    if (text.startsWith("false", i)) {
      i += 5;
      return false;
    }
    if (text.startsWith("null", i)) {
      i += 4;
      return null;
    }
    return fail(`unexpected character ${JSON.stringify(c)}`);
  };
  const v = parseValue(0);
  ws();
  if (i < n) fail("trailing characters after JSON value");
  return v;
}
var JsonSyntaxError, MAX_DEPTH;
var init_json_header = __esm({
  "packages/nn/src/safetensors/json_header.ts"() {
    "use strict";
    JsonSyntaxError = class extends Error {
      name = "JsonSyntaxError";
    };
    MAX_DEPTH = 64;
  }
});

// packages/nn/src/safetensors/format.ts
function compareCodePoints(a, b) {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  while (true) {
    const x2 = ia.next();
    const y2 = ib.next();
    if (x2.done) return y2.done ? 0 : -1;
    if (y2.done) return 1;
    const cx = x2.value.codePointAt(0);
    const cy = y2.value.codePointAt(0);
    if (cx !== cy) return cx - cy;
  }
}
function checkShape2(shape, where5) {
  if (!Array.isArray(shape)) throw new SafetensorsError("invalid_shape", `shape must be an array of non-negative integers, got ${describe(shape)}`, where5);
  for (const d of shape) {
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) {
      throw new SafetensorsError("invalid_shape", `shape must be an array of non-negative integers, got ${describe(shape)}`, where5);
    }
  }
  const n = numel3(shape);
  if (!Number.isSafeInteger(n)) throw new SafetensorsError("invalid_shape", `shape [${shape.join(", ")}] has too many elements`, where5);
  return shape.slice();
}
function describe(v) {
  if (v instanceof Map) return "an object";
  if (typeof v === "number" && Number.isNaN(v)) return "an integer beyond 2^53";
  try {
    const s = JSON.stringify(v);
    return s === void 0 ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return String(v);
  }
}
function serializeSafetensors(tensors, metadata, options = {}) {
  const source = options.source;
  const entries = [];
  for (const name of Object.keys(tensors)) {
    const where5 = { source, tensor: name };
    if (name === METADATA_KEY) throw new SafetensorsError("invalid_name", `the name "${METADATA_KEY}" is reserved for metadata`, where5);
    if (LONE_SURROGATE.test(name)) throw new SafetensorsError("invalid_name", "name contains an unpaired UTF-16 surrogate", where5);
    const t = tensors[name];
    if (!isSafeDType(t.dtype)) throw new SafetensorsError("invalid_dtype", `unknown dtype ${describe(t.dtype)}`, where5);
    const shape = checkShape2(t.shape, where5);
    const bytes = tensorBytes(t.dtype, shape, t.data, where5);
    entries.push({ name, dtype: t.dtype, shape, bytes });
  }
  entries.sort((a, b) => dtypeRank(b.dtype) - dtypeRank(a.dtype) || compareCodePoints(a.name, b.name));
  const parts = [];
  if (metadata !== void 0) {
    const keys = Object.keys(metadata).sort(compareCodePoints);
    const kv = [];
    for (const k of keys) {
      const v = metadata[k];
      if (typeof v !== "string") throw new SafetensorsError("invalid_metadata", `metadata value for key ${JSON.stringify(k)} must be a string, got ${describe(v)}`, { source });
      if (LONE_SURROGATE.test(k) || LONE_SURROGATE.test(v)) throw new SafetensorsError("invalid_metadata", `metadata entry ${JSON.stringify(k)} contains an unpaired UTF-16 surrogate`, { source });
      kv.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
    }
    parts.push(`"${METADATA_KEY}":{${kv.join(",")}}`);
  }
  let offset = 0;
  for (const e of entries) {
    const end = offset + e.bytes.length;
    parts.push(`${JSON.stringify(e.name)}:{"dtype":"${e.dtype}","shape":[${e.shape.join(",")}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  const headerLen = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLen + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen), true);
  out.set(json, 8);
  out.fill(32, 8 + json.length, 8 + headerLen);
  let pos = 8 + headerLen;
  for (const e of entries) {
    out.set(e.bytes, pos);
    pos += e.bytes.length;
  }
  return out;
}
function parseSafetensors(bytes, options = {}) {
  const source = options.source;
  const err = (code, detail, tensor2) => new SafetensorsError(code, detail, { source, tensor: tensor2 });
  if (!(bytes instanceof Uint8Array)) throw err("invalid_data", "input must be a Uint8Array");
  if (bytes.length < 8) throw err("header_too_small", `file is ${bytes.length} bytes, shorter than the 8-byte header length prefix`);
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) throw err("header_too_large", `header length ${n64} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(n64);
  if (8 + n > bytes.length) throw err("invalid_header_length", `header length ${n} runs past the end of the ${bytes.length}-byte file`);
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + n));
  } catch (cause) {
    throw new SafetensorsError("invalid_utf8", "header is not valid UTF-8", { source, cause });
  }
  let root;
  try {
    root = parseStrictJson(text);
  } catch (cause) {
    const msg = cause instanceof JsonSyntaxError ? cause.message : String(cause);
    throw new SafetensorsError("invalid_json", `header is not valid JSON: ${msg}`, { source, cause });
  }
  if (!(root instanceof Map)) throw err("invalid_header", `header must be a JSON object, got ${describe(root)}`);
  const dataOffset = 8 + n;
  const dataLen = bytes.length - dataOffset;
  const metadata = /* @__PURE__ */ Object.create(null);
  const infos = [];
  for (const [name, value] of root) {
    if (name === METADATA_KEY) {
      if (value === null) continue;
      if (!(value instanceof Map)) throw err("invalid_metadata", `"${METADATA_KEY}" must be an object of strings, got ${describe(value)}`);
      for (const [k, v] of value) {
        if (typeof v !== "string") throw err("invalid_metadata", `"${METADATA_KEY}" value for key ${JSON.stringify(k)} must be a string, got ${describe(v)}`);
        metadata[k] = v;
      }
      continue;
    }
    if (!(value instanceof Map)) throw err("invalid_header", `entry must be an object with dtype, shape and data_offsets, got ${describe(value)}`, name);
    const dtype = value.get("dtype");
    if (dtype === void 0) throw err("invalid_dtype", 'missing "dtype"', name);
    if (!isSafeDType(dtype)) throw err("invalid_dtype", `unknown dtype ${describe(dtype)}`, name);
    if (!value.has("shape")) throw err("invalid_shape", 'missing "shape"', name);
    const shape = checkShape2(value.get("shape"), { source, tensor: name });
    const offs = value.get("data_offsets");
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => typeof o === "number" && Number.isSafeInteger(o) && o >= 0)) {
      throw err("invalid_offsets", `data_offsets must be [begin, end] non-negative integers, got ${describe(offs)}`, name);
    }
    const [begin, end] = offs;
    if (end < begin) throw err("invalid_offsets", `data_offsets [${begin}, ${end}] end before begin`, name);
    if (end > dataLen) throw err("invalid_offsets", `data_offsets [${begin}, ${end}] run past the end of the ${dataLen}-byte data buffer`, name);
    const nbytes = numel3(shape) * dtypeItemSize(dtype);
    if (end - begin !== nbytes) {
      throw err("size_mismatch", `data_offsets [${begin}, ${end}] span ${end - begin} bytes but shape [${shape.join(", ")}] of ${dtype} needs ${nbytes}`, name);
    }
    infos.push({ name, dtype, shape, begin, end });
  }
  infos.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev;
  for (const t of infos) {
    if (t.begin < pos) throw err("overlapping_offsets", `data_offsets [${t.begin}, ${t.end}] overlap tensor ${JSON.stringify(prev)} (which ends at ${pos})`, t.name);
    if (t.begin > pos) {
      throw err(
        "incomplete_buffer",
        prev === void 0 ? `data_offsets [${t.begin}, ${t.end}] leave bytes [0, ${t.begin}) of the data buffer uncovered` : `data_offsets [${t.begin}, ${t.end}] leave a gap [${pos}, ${t.begin}) after tensor ${JSON.stringify(prev)}`,
        t.name
      );
    }
    pos = t.end;
    prev = t.name;
  }
  if (pos !== dataLen) throw err("incomplete_buffer", `tensors cover ${pos} bytes but the data buffer has ${dataLen} bytes`);
  const tensors = /* @__PURE__ */ Object.create(null);
  for (const t of infos) {
    tensors[t.name] = { dtype: t.dtype, shape: t.shape, data: bytes.subarray(dataOffset + t.begin, dataOffset + t.end) };
  }
  return { tensors, names: infos.map((t) => t.name), metadata, headerLength: n, dataOffset };
}
var MAX_HEADER_BYTES, METADATA_KEY, LONE_SURROGATE;
var init_format = __esm({
  "packages/nn/src/safetensors/format.ts"() {
    "use strict";
    init_codec();
    init_dtypes();
    init_errors3();
    init_json_header();
    MAX_HEADER_BYTES = 1e8;
    METADATA_KEY = "__metadata__";
    LONE_SURROGATE = /\p{Cs}/u;
  }
});

// packages/nn/src/safetensors/node_io.ts
function describeCause(cause) {
  return cause instanceof Error ? cause.message : String(cause);
}
async function writeFileAtomic(path, bytes, options = {}) {
  const fs = await loadFs();
  const nodePath = await loadPath();
  const doSync = options.fsync ?? true;
  const dir = nodePath.dirname(path);
  const base = nodePath.basename(path);
  const tmp = nodePath.join(dir, `.${base}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`);
  let handle;
  try {
    handle = await fs.open(tmp, "wx", 420);
    let written = 0;
    while (written < bytes.length) {
      const { bytesWritten } = await handle.write(bytes, written, bytes.length - written, null);
      written += bytesWritten;
    }
    if (doSync) await handle.sync();
    await handle.close();
    handle = void 0;
    if (options.beforeRename) await options.beforeRename(tmp);
    await fs.rename(tmp, path);
  } catch (cause) {
    if (handle) await handle.close().catch(() => void 0);
    await fs.rm(tmp, { force: true }).catch(() => void 0);
    if (cause instanceof SafetensorsError) throw cause;
    throw new SafetensorsError("io", `writing failed: ${describeCause(cause)}`, { source: path, cause });
  }
  if (doSync) {
    try {
      const dh = await fs.open(dir, "r");
      try {
        await dh.sync();
      } finally {
        await dh.close();
      }
    } catch {
    }
  }
}
async function writeSafetensorsFile(path, tensors, metadata, options = {}) {
  const bytes = serializeSafetensors(tensors, metadata, { source: path });
  await writeFileAtomic(path, bytes, options);
}
async function readSafetensorsFile(path) {
  const fs = await loadFs();
  let buf;
  try {
    buf = await fs.readFile(path);
  } catch (cause) {
    throw new SafetensorsError("io", `reading failed: ${describeCause(cause)}`, { source: path, cause });
  }
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  return parseSafetensors(bytes, { source: path });
}
var nodeModule, loadFs, loadPath;
var init_node_io = __esm({
  "packages/nn/src/safetensors/node_io.ts"() {
    "use strict";
    init_errors3();
    init_format();
    nodeModule = (name) => import(name);
    loadFs = async () => await nodeModule("node:fs/promises");
    loadPath = async () => await nodeModule("node:path");
  }
});

// packages/nn/src/safetensors/index.ts
var init_safetensors = __esm({
  "packages/nn/src/safetensors/index.ts"() {
    "use strict";
    init_errors3();
    init_dtypes();
    init_half();
    init_codec();
    init_format();
    init_node_io();
  }
});

// packages/nn/src/serialization.ts
var serialization_exports = {};
__export(serialization_exports, {
  fromSafetensorsBytes: () => fromSafetensorsBytes,
  loadModule: () => loadModule,
  saveModule: () => saveModule,
  toSafetensorsBytes: () => toSafetensorsBytes
});
async function toInputs(model) {
  const out = {};
  const cache = /* @__PURE__ */ new Map();
  for (const [name, t] of Object.entries(model.stateDict())) {
    let entry = cache.get(t);
    if (!entry) {
      entry = { dtype: SAFE_OF[t.dtype], shape: [...t.shape], data: await t.data() };
      cache.set(t, entry);
    }
    out[name] = entry;
  }
  return out;
}
async function toSafetensorsBytes(model, opts = {}) {
  return serializeSafetensors(await toInputs(model), { format: "webgrad", ...opts.metadata });
}
function decodeFor(view2, dtype, where5) {
  switch (dtype) {
    case "float32":
      return decodeToFloat32(view2, where5);
    case "float64":
      return decodeToFloat64(view2, where5);
    case "int32":
      return decodeToInt32(view2, where5);
    case "bool": {
      const d = decodeTensor(view2);
      if (d instanceof BigInt64Array || d instanceof BigUint64Array) return Uint8Array.from(d, (v) => v !== 0n ? 1 : 0);
      return Uint8Array.from(d, (v) => v !== 0 ? 1 : 0);
    }
  }
}
function loadParsed(model, parsed, source, opts) {
  const strict = opts.strict ?? true;
  const own = model.stateDict();
  const names = Object.keys(parsed.tensors);
  const missingKeys = Object.keys(own).filter((k) => !(k in parsed.tensors));
  const unexpectedKeys = names.filter((k) => !(k in own));
  const mismatched = [];
  for (const [k, t] of Object.entries(own)) {
    const v = parsed.tensors[k];
    if (v && (v.shape.length !== t.shape.length || v.shape.some((d, i) => d !== t.shape[i]))) mismatched.push({ key: k, expected: t.shape, got: v.shape });
  }
  const problems = [];
  if (mismatched.length) problems.push(`shape mismatch for ${mismatched.map((m2) => `'${m2.key}' (model [${m2.expected.join(", ")}], file [${m2.got.join(", ")}])`).join(", ")}`);
  if (strict && missingKeys.length) problems.push(`missing keys ${missingKeys.map((k) => `'${k}'`).join(", ")}`);
  if (strict && unexpectedKeys.length) problems.push(`unexpected keys ${unexpectedKeys.map((k) => `'${k}'`).join(", ")}`);
  if (problems.length) {
    const kinds = [mismatched.length && "shape", strict && missingKeys.length && "missing", strict && unexpectedKeys.length && "unexpected"].filter(Boolean);
    throw new StateDictError(
      `loading ${model.constructor.name} from ${source}: ${problems.join("; ")}`,
      kinds.length === 1 ? kinds[0] : "mixed",
      strict ? missingKeys : [],
      strict ? unexpectedKeys : [],
      mismatched
    );
  }
  const sd = {};
  try {
    for (const [k, t] of Object.entries(own)) {
      const v = parsed.tensors[k];
      if (!v) continue;
      let values;
      try {
        values = decodeFor(v, t.dtype, { source, tensor: k });
      } catch (e) {
        if (e instanceof SafetensorsError) throw e;
        throw new SafetensorsError("unsupported_conversion", `cannot load ${v.dtype} into a ${t.dtype} tensor: ${e.message}`, { source, tensor: k, cause: e });
      }
      sd[k] = tensor(values, { shape: t.shape, dtype: t.dtype, device: "cpu" });
    }
    return model.loadStateDict(sd, { strict: false });
  } finally {
    for (const t of Object.values(sd)) t.dispose();
  }
}
function fromSafetensorsBytes(model, bytes, opts = {}) {
  const source = opts.source ?? "<bytes>";
  return loadParsed(model, parseSafetensors(bytes, { source }), source, opts);
}
async function saveModule(model, path, opts = {}) {
  await writeSafetensorsFile(path, await toInputs(model), { format: "webgrad", ...opts.metadata });
}
async function loadModule(model, path, opts = {}) {
  loadParsed(model, await readSafetensorsFile(path), path, opts);
  return model;
}
var SAFE_OF;
var init_serialization = __esm({
  "packages/nn/src/serialization.ts"() {
    "use strict";
    init_src2();
    init_safetensors();
    init_module2();
    SAFE_OF = { float32: "F32", float64: "F64", int32: "I32", bool: "BOOL" };
  }
});

// packages/nn/src/module.ts
function parameter(t, requiresGrad = true) {
  const p = t.isLeaf ? t : detach(t);
  keep(p);
  p.requiresGrad = requiresGrad && (p.dtype === "float32" || p.dtype === "float64");
  return p;
}
function sameShape(a, b) {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
function list(keys) {
  const shown = keys.slice(0, 20).map((k) => `'${k}'`).join(", ");
  return keys.length > 20 ? `${shown} \u2026 (${keys.length} in all)` : shown;
}
var StateDictError, IDENT, Module;
var init_module2 = __esm({
  "packages/nn/src/module.ts"() {
    "use strict";
    init_src2();
    StateDictError = class extends WebgradError {
      constructor(message, kind, missingKeys = [], unexpectedKeys = [], mismatched = []) {
        super(message);
        this.kind = kind;
        this.missingKeys = missingKeys;
        this.unexpectedKeys = unexpectedKeys;
        this.mismatched = mismatched;
      }
      kind;
      missingKeys;
      unexpectedKeys;
      mismatched;
    };
    IDENT = /^[A-Za-z_$][\w$]*$/;
    Module = class _Module {
      #params = /* @__PURE__ */ new Map();
      #buffers = /* @__PURE__ */ new Map();
      #nonPersistent = /* @__PURE__ */ new Set();
      #modules = /* @__PURE__ */ new Map();
      #training = true;
      /** Same as `forward` (PyTorch's `module(x)`). */
      call(...args) {
        return this.forward(...args);
      }
      get training() {
        return this.#training;
      }
      // ---- registration --------------------------------------------------------------------------
      #checkName(kind, name) {
        if (typeof name !== "string" || name === "" || name.includes(".")) {
          throw new ValueError(`${this.constructor.name}.${kind}: name must be a non-empty string without '.', got '${name}'`);
        }
        const taken = this.#params.has(name) ? "parameter" : this.#buffers.has(name) ? "buffer" : this.#modules.has(name) ? "module" : null;
        const want = kind === "registerParameter" ? "parameter" : kind === "registerBuffer" ? "buffer" : "module";
        if (taken && taken !== want) throw new ValueError(`${this.constructor.name}.${kind}: '${name}' is already registered as a ${taken}`);
      }
      #defineAccessor(name, get, set) {
        if (!IDENT.test(name)) return;
        const own = Object.getOwnPropertyDescriptor(this, name);
        if (own && own.get) return;
        if (!own && name in this) return;
        Object.defineProperty(this, name, { get, set, enumerable: true, configurable: true });
      }
      /** Register (or replace) a parameter. The tensor is kept and made a leaf requiring grad
       *  (pass `{requiresGrad: false}` to register it frozen). Returns the registered tensor. */
      registerParameter(name, t, opts = {}) {
        this.#checkName("registerParameter", name);
        const p = t === null ? null : parameter(t, opts.requiresGrad ?? true);
        if (p && !p.name) p.name = name;
        this.#params.set(name, p);
        this.#defineAccessor(name, () => this.#params.get(name), (v) => {
          if (v !== null && !(v instanceof Tensor)) throw new ValueError(`${this.constructor.name}.${name}: a parameter can only be set to a Tensor or null`);
          this.#params.set(name, v === null ? null : parameter(v, true));
        });
        return p;
      }
      /** Register (or replace) a buffer: kept, never requires grad. Non-persistent buffers are left out
       *  of stateDict (e.g. a cached causal mask or rotary table). Returns it. */
      registerBuffer(name, t, opts = {}) {
        this.#checkName("registerBuffer", name);
        if (t) keep(t);
        this.#buffers.set(name, t);
        if (opts.persistent === false) this.#nonPersistent.add(name);
        else this.#nonPersistent.delete(name);
        this.#defineAccessor(name, () => this.#buffers.get(name), (v) => {
          if (v) keep(v);
          this.#buffers.set(name, v);
        });
        return t;
      }
      /** Register (or replace) a child module. Returns it. */
      registerModule(name, m2) {
        this.#checkName("registerModule", name);
        if (m2 !== null && !(m2 instanceof _Module)) throw new ValueError(`${this.constructor.name}.registerModule('${name}'): not a Module`);
        this.#modules.set(name, m2);
        this.#defineAccessor(name, () => this.#modules.get(name), (v) => {
          this.#modules.set(name, v);
        });
        return m2;
      }
      /** The registered parameter `name` of this module (not of children), or undefined. */
      getParameter(name) {
        return this.#params.get(name);
      }
      getBuffer(name) {
        return this.#buffers.get(name);
      }
      getModule(name) {
        return this.#modules.get(name);
      }
      // ---- traversal -----------------------------------------------------------------------------
      /** Direct children with their names (registration order). */
      *namedChildren() {
        for (const [n, m2] of this.#modules) if (m2) yield [n, m2];
      }
      *children() {
        for (const [, m2] of this.namedChildren()) yield m2;
      }
      /** This module ('' name) and every descendant, each once, depth-first in registration order. */
      *namedModules(prefix = "", seen = /* @__PURE__ */ new Set()) {
        if (seen.has(this)) return;
        seen.add(this);
        yield [prefix, this];
        for (const [n, m2] of this.namedChildren()) yield* m2.namedModules(prefix ? `${prefix}.${n}` : n, seen);
      }
      *modules() {
        for (const [, m2] of this.namedModules()) yield m2;
      }
      /** Every parameter with its dotted name; a tensor registered under several names appears once. */
      *namedParameters(opts = {}) {
        const seen = /* @__PURE__ */ new Set();
        const mods = opts.recurse === false ? [[opts.prefix ?? "", this]] : this.namedModules(opts.prefix ?? "");
        for (const [mn, m2] of mods) {
          for (const [n, p] of m2.#params) {
            if (!p || seen.has(p)) continue;
            seen.add(p);
            yield [mn ? `${mn}.${n}` : n, p];
          }
        }
      }
      parameters(opts = {}) {
        return [...this.namedParameters(opts)].map(([, p]) => p);
      }
      *namedBuffers(opts = {}) {
        const seen = /* @__PURE__ */ new Set();
        const mods = opts.recurse === false ? [[opts.prefix ?? "", this]] : this.namedModules(opts.prefix ?? "");
        for (const [mn, m2] of mods) {
          for (const [n, b] of m2.#buffers) {
            if (!b || seen.has(b)) continue;
            seen.add(b);
            yield [mn ? `${mn}.${n}` : n, b];
          }
        }
      }
      buffers(opts = {}) {
        return [...this.namedBuffers(opts)].map(([, b]) => b);
      }
      /** Name → tensor for every parameter and persistent buffer, under every name it is registered
       *  as (tied weights appear under each name and share storage). The tensors are the module's own,
       *  not copies: do not dispose them. */
      stateDict() {
        const out = {};
        for (const [mn, m2] of this.namedModules()) {
          const pre = mn ? `${mn}.` : "";
          for (const [n, p] of m2.#params) if (p) out[pre + n] = p;
          for (const [n, b] of m2.#buffers) if (b && !m2.#nonPersistent.has(n)) out[pre + n] = b;
        }
        return out;
      }
      /** Copy values from `sd` into this module's tensors in place (under noGrad; dtypes are converted).
       *  With `strict` (default), missing or unexpected keys throw a StateDictError listing all of them;
       *  a shape mismatch always throws. Nothing is written unless every check passes. Source tensors on
       *  another device must be readable synchronously (move them first with toAsync otherwise). */
      loadStateDict(sd, opts = {}) {
        const strict = opts.strict ?? true;
        const own = this.stateDict();
        const missingKeys = Object.keys(own).filter((k) => !(k in sd));
        const unexpectedKeys = Object.keys(sd).filter((k) => !(k in own));
        const mismatched = [];
        for (const [k, t] of Object.entries(own)) {
          const s = sd[k];
          if (s && !sameShape(s.shape, t.shape)) mismatched.push({ key: k, expected: t.shape, got: s.shape });
        }
        const who = this.constructor.name;
        const problems = [];
        if (mismatched.length) problems.push(`shape mismatch for ${mismatched.map((m2) => `'${m2.key}' (model ${fmtShape(m2.expected)}, given ${fmtShape(m2.got)})`).join(", ")}`);
        if (strict && missingKeys.length) problems.push(`missing keys ${list(missingKeys)}`);
        if (strict && unexpectedKeys.length) problems.push(`unexpected keys ${list(unexpectedKeys)}`);
        if (problems.length) {
          const kinds = [mismatched.length ? "shape" : null, strict && missingKeys.length ? "missing" : null, strict && unexpectedKeys.length ? "unexpected" : null].filter(Boolean);
          const kind = kinds.length === 1 ? kinds[0] : "mixed";
          throw new StateDictError(`${who}.loadStateDict: ${problems.join("; ")}`, kind, strict ? missingKeys : [], strict ? unexpectedKeys : [], mismatched);
        }
        noGrad(() => {
          const done = /* @__PURE__ */ new Set();
          for (const [k, t] of Object.entries(own)) {
            const s = sd[k];
            if (!s || s === t) continue;
            if (done.has(t)) continue;
            done.add(t);
            const src = s.device === t.device ? s : s.to(t.device);
            t.copy_(src);
            if (src !== s) src.dispose();
          }
        });
        return { missingKeys, unexpectedKeys };
      }
      // ---- modes, devices, gradients ---------------------------------------------------------------
      /** Set training mode on this module and every descendant. Returns this. */
      train(mode = true) {
        for (const m2 of this.modules()) m2.#training = mode;
        return this;
      }
      eval() {
        return this.train(false);
      }
      /** Turn gradients on or off for every parameter (freeze with `requiresGrad_(false)`). Returns this. */
      requiresGrad_(requiresGrad = true) {
        for (const p of this.parameters()) p.requiresGrad = requiresGrad && (p.dtype === "float32" || p.dtype === "float64");
        return this;
      }
      /** Number of parameter elements (tied weights counted once). */
      numParameters(opts = {}) {
        let n = 0;
        for (const p of this.parameters()) if (!opts.trainableOnly || p.requiresGrad) n += p.size;
        return n;
      }
      /** Release every parameter's gradient (PyTorch's `zero_grad(set_to_none=True)`). */
      zeroGrad() {
        for (const p of this.parameters()) {
          if (p.grad) {
            p.grad.dispose();
            p.grad = null;
          }
        }
      }
      /** Apply `fn` to every module, children first (like PyTorch's `apply`, e.g. for custom init). */
      apply(fn) {
        for (const c of this.children()) c.apply(fn);
        fn(this);
        return this;
      }
      #replaceAll(convert) {
        const memo = /* @__PURE__ */ new Map();
        const conv = (t) => {
          let r = memo.get(t);
          if (!r) {
            r = convert(t);
            memo.set(t, r);
          }
          return r;
        };
        for (const m2 of this.modules()) {
          for (const [n, p] of m2.#params) {
            if (!p) continue;
            const q = conv(p);
            if (q !== p) {
              keep(q);
              q.name = p.name;
              q.requiresGrad = p.requiresGrad;
              m2.#params.set(n, q);
            }
          }
          for (const [n, b] of m2.#buffers) {
            if (!b) continue;
            const q = conv(b);
            if (q !== b) {
              keep(q);
              q.name = b.name;
              m2.#buffers.set(n, q);
            }
          }
        }
        for (const [old, neu] of memo) {
          if (old !== neu) {
            if (old.grad) {
              old.grad.dispose();
              old.grad = null;
            }
            old.dispose();
          }
        }
      }
      /** Move every parameter and buffer to `device` (synchronously; gradients are dropped). Tied
       *  tensors stay tied. Moving off a device that is read asynchronously needs `toAsync`. Returns this. */
      to(device) {
        this.#replaceAll((t) => t.device === device ? t : t.to(device));
        return this;
      }
      /** `to(device)` for any source device: reads asynchronously when needed. */
      async toAsync(device) {
        const moved = /* @__PURE__ */ new Map();
        for (const t of [...this.parameters(), ...this.buffers()]) {
          if (t.device !== device && !moved.has(t)) moved.set(t, await t.toAsync(device));
        }
        this.#replaceAll((t) => moved.get(t) ?? t);
        return this;
      }
      /** Convert every floating-point parameter and buffer to `dtype` (e.g. 'float64' for gradient
       *  checks). Returns this. */
      toDType(dtype) {
        this.#replaceAll((t) => t.dtype === dtype || t.dtype !== "float32" && t.dtype !== "float64" ? t : noGrad(() => t.to(dtype)));
        return this;
      }
      /** Dispose every parameter, gradient and buffer of this module tree. The module is unusable after. */
      dispose() {
        const all = /* @__PURE__ */ new Set();
        for (const m2 of this.modules()) {
          for (const p of m2.#params.values()) if (p) all.add(p);
          for (const b of m2.#buffers.values()) if (b) all.add(b);
        }
        for (const t of all) {
          if (t.grad) {
            t.grad.dispose();
            t.grad = null;
          }
          t.dispose();
        }
      }
      /** Write the stateDict to a safetensors file (Node); see serialization.ts. */
      async save(path, opts = {}) {
        const { saveModule: saveModule2 } = await Promise.resolve().then(() => (init_serialization(), serialization_exports));
        await saveModule2(this, path, opts);
      }
      /** Load a safetensors file (Node) into this module in place. Returns this. */
      async load(path, opts = {}) {
        const { loadModule: loadModule2 } = await Promise.resolve().then(() => (init_serialization(), serialization_exports));
        return loadModule2(this, path, opts);
      }
      /** Extra text for toString (e.g. `in=4, out=8`). */
      extraRepr() {
        return "";
      }
      toString() {
        const kids = [...this.namedChildren()];
        const head = `${this.constructor.name}(${this.extraRepr()}`;
        if (!kids.length) return `${head})`;
        const body = kids.map(([n, m2]) => `  (${n}): ${m2.toString().split("\n").join("\n  ")}`).join("\n");
        return `${head}
${body}
)`;
      }
    };
  }
});

// prof_gpt.ts
init_src2();

// packages/nn/src/metrics/squad.ts
var PUNCTUATION = new Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~");

// packages/nn/src/index.ts
init_safetensors();
init_module2();

// packages/nn/src/containers.ts
init_src2();
init_module2();
var ModuleList = class extends Module {
  #list = [];
  constructor(modules = []) {
    super();
    for (const m2 of modules) this.append(m2);
  }
  append(m2) {
    this.registerModule(String(this.#list.length), m2);
    this.#list.push(m2);
    return this;
  }
  get length() {
    return this.#list.length;
  }
  at(i) {
    const m2 = this.#list.at(i);
    if (!m2) throw new IndexError(`ModuleList.at: index ${i} out of range for ${this.#list.length} modules`);
    return m2;
  }
  [Symbol.iterator]() {
    return this.#list[Symbol.iterator]();
  }
  forward() {
    throw new ValueError("ModuleList has no forward; iterate over its modules");
  }
};

// packages/nn/src/init.ts
init_src2();
function calculateGain(nonlinearity, param) {
  switch (nonlinearity) {
    case "linear":
    case "conv1d":
    case "conv2d":
    case "conv3d":
    case "sigmoid":
      return 1;
    case "tanh":
      return 5 / 3;
    case "relu":
      return Math.SQRT2;
    case "leakyRelu": {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case "selu":
      return 3 / 4;
    default:
      throw new ValueError(`calculateGain: unknown nonlinearity '${String(nonlinearity)}'`);
  }
}
function computeFans(shape) {
  if (shape.length < 2) throw new ShapeError(`init: fan in and fan out need a tensor with at least 2 dims, got ${fmtShape(shape)}`);
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}
function fill4(t, make) {
  noGrad(() => tidy(() => {
    t.copy_(make());
  }));
  return t;
}
function uniform(t, a = 0, b = 1) {
  return fill4(t, () => rand(t.shape, { dtype: t.dtype, device: t.device }).mul(b - a).add(a));
}
function normal(t, mean2 = 0, std2 = 1) {
  return fill4(t, () => randn(t.shape, { dtype: t.dtype, device: t.device }).mul(std2).add(mean2));
}
function constant(t, value) {
  noGrad(() => t.fill_(value));
  return t;
}
var zeros2 = (t) => constant(t, 0);
function kaimingStd(t, opts) {
  const fans = computeFans(t.shape);
  const fan = (opts.mode ?? "fanIn") === "fanIn" ? fans.fanIn : fans.fanOut;
  return calculateGain(opts.nonlinearity ?? "leakyRelu", opts.a ?? 0) / Math.sqrt(fan);
}
function kaimingUniform(t, opts = {}) {
  const bound = Math.sqrt(3) * kaimingStd(t, opts);
  return uniform(t, -bound, bound);
}

// packages/nn/src/layers/linear.ts
init_src2();
init_module2();
var Linear = class extends Module {
  constructor(inFeatures, outFeatures, opts = {}) {
    super();
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    const f = { dtype: opts.dtype ?? "float32", device: opts.device };
    this.registerParameter("weight", zeros([outFeatures, inFeatures], f));
    this.registerParameter("bias", opts.bias === false ? null : zeros([outFeatures], f));
    this.resetParameters();
  }
  inFeatures;
  outFeatures;
  resetParameters() {
    kaimingUniform(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const bound = this.inFeatures > 0 ? 1 / Math.sqrt(this.inFeatures) : 0;
      uniform(this.bias, -bound, bound);
    }
  }
  /** (*, in) → (*, out) */
  forward(x2) {
    return tidy(() => {
      const y2 = matmul4(x2, this.weight.mT);
      return this.bias ? y2.add(this.bias) : y2;
    });
  }
  extraRepr() {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
};

// packages/nn/src/layers/embedding.ts
init_src2();
init_module2();
var Embedding = class extends Module {
  constructor(numEmbeddings, embeddingDim, opts = {}) {
    super();
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    let p = opts.paddingIdx ?? null;
    if (p !== null) {
      if (!Number.isInteger(p) || p < -numEmbeddings || p >= numEmbeddings) {
        throw new ValueError(`Embedding: paddingIdx ${p} out of range for ${numEmbeddings} embeddings`);
      }
      if (p < 0) p += numEmbeddings;
    }
    this.paddingIdx = p;
    this.registerParameter("weight", zeros([numEmbeddings, embeddingDim], { dtype: opts.dtype ?? "float32", device: opts.device }));
    this.resetParameters();
  }
  numEmbeddings;
  embeddingDim;
  paddingIdx;
  resetParameters() {
    normal(this.weight);
    if (this.paddingIdx !== null) noGrad(() => this.weight.select(0, this.paddingIdx).zero_());
  }
  /** ids (*) int32 → (*, embeddingDim) */
  forward(ids) {
    return tidy(() => {
      const out = embedding(this.weight, ids);
      if (this.paddingIdx === null || !out.requiresGrad) return out;
      const keepGrad = ne(ids, this.paddingIdx).unsqueeze(-1);
      return where4(keepGrad, out, out.detach());
    });
  }
  extraRepr() {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx !== null ? `, paddingIdx=${this.paddingIdx}` : ""}`;
  }
};

// packages/nn/src/layers/norm.ts
init_src2();
init_module2();
var asShape = (s) => typeof s === "number" ? [s] : [...s];
var LayerNorm = class extends Module {
  normalizedShape;
  constructor(normalizedShape, opts = {}) {
    super();
    this.normalizedShape = asShape(normalizedShape);
    this.eps = opts.eps ?? 1e-5;
    const f = { dtype: opts.dtype ?? "float32", device: opts.device };
    const affine = opts.elementwiseAffine ?? true;
    this.registerParameter("weight", affine ? ones(this.normalizedShape, f) : null);
    this.registerParameter("bias", affine && opts.bias !== false ? zeros(this.normalizedShape, f) : null);
  }
  eps;
  forward(x2) {
    return layerNorm4(x2, this.normalizedShape, this.weight, this.bias, this.eps);
  }
  extraRepr() {
    return `[${this.normalizedShape.join(", ")}], eps=${this.eps}`;
  }
};

// packages/nn/src/layers/activation.ts
init_src2();
init_module2();
var GELU = class extends Module {
  approximate;
  constructor(opts = {}) {
    super();
    this.approximate = opts.approximate ?? "none";
  }
  forward(x2) {
    return x2.gelu({ approximate: this.approximate });
  }
  extraRepr() {
    return `approximate='${this.approximate}'`;
  }
};
var Dropout = class extends Module {
  constructor(p = 0.5) {
    super();
    this.p = p;
  }
  p;
  forward(x2) {
    return dropout(x2, this.p, this.training);
  }
  extraRepr() {
    return `p=${this.p}`;
  }
};

// packages/nn/src/layers/positional.ts
init_src2();
init_module2();
function checkRange(who, offset, T2, maxLen) {
  if (!Number.isInteger(offset) || offset < 0 || offset + T2 > maxLen) {
    throw new IndexError(`${who}: positions ${offset}..${offset + T2 - 1} exceed the table of ${maxLen} positions`);
  }
}
var LearnedPositionalEmbedding = class extends Embedding {
  constructor(maxLen, dim, opts = {}) {
    super(maxLen, dim, opts);
    this.maxLen = maxLen;
  }
  maxLen;
  positions(T2, offset = 0) {
    checkRange("LearnedPositionalEmbedding", offset, T2, this.maxLen);
    return tidy(() => super.forward(arange(offset, offset + T2, 1, { device: this.weight.device })));
  }
  forward(T2, offset = 0) {
    return typeof T2 === "number" ? this.positions(T2, offset) : super.forward(T2);
  }
};

// packages/nn/src/layers/transformer_block.ts
init_src2();
init_module2();
var KVCache = class {
  layers;
  constructor(nLayer) {
    this.layers = Array.from({ length: nLayer }, () => ({ k: null, v: null }));
  }
  /** Number of cached positions. */
  get length() {
    return this.layers[0]?.k?.shape[2] ?? 0;
  }
  reset() {
    for (const l of this.layers) {
      l.k?.dispose();
      l.v?.dispose();
      l.k = null;
      l.v = null;
    }
  }
  dispose() {
    this.reset();
  }
  [Symbol.dispose]() {
    this.reset();
  }
};
var CausalSelfAttention = class extends Module {
  nHead;
  nEmbd;
  constructor(cfg) {
    super();
    if (cfg.nEmbd % cfg.nHead !== 0) throw new ValueError(`CausalSelfAttention: nEmbd ${cfg.nEmbd} is not divisible by nHead ${cfg.nHead}`);
    this.nHead = cfg.nHead;
    this.nEmbd = cfg.nEmbd;
    const f = { bias: cfg.bias ?? true, dtype: cfg.dtype, device: cfg.device };
    this.registerModule("cAttn", new Linear(cfg.nEmbd, 3 * cfg.nEmbd, f));
    this.registerModule("cProj", new Linear(cfg.nEmbd, cfg.nEmbd, f));
    this.registerModule("residDropout", new Dropout(cfg.dropout ?? 0));
  }
  /** x (B, T, C) → (B, T, C). With `cache`, the new keys/values are appended to it and queries
   *  attend to every cached position (queries sit at positions cache.length..). */
  forward(x2, cache, rotary) {
    const [B, T2, C] = x2.shape;
    const nh = this.nHead;
    const hs = C / nh;
    return tidy(() => {
      const qkv = this.cAttn.forward(x2);
      const [q0, k0, v0] = qkv.split(C, 2);
      let q = q0.reshape([B, T2, nh, hs]).transpose(1, 2);
      let k = k0.reshape([B, T2, nh, hs]).transpose(1, 2);
      let v = v0.reshape([B, T2, nh, hs]).transpose(1, 2);
      const offset = cache?.k ? cache.k.shape[2] : 0;
      if (rotary) [q, k] = rotary.forward(q, k, offset);
      if (cache) {
        if (cache.k && cache.v) {
          k = cat([cache.k, k], 2);
          v = cat([cache.v, v], 2);
        }
        const nk = keep(k.detach());
        const nv = keep(v.detach());
        cache.k?.dispose();
        cache.v?.dispose();
        cache.k = nk;
        cache.v = nv;
      }
      const y2 = scaledDotProductAttention(q, k, v, { isCausal: true });
      const merged = y2.transpose(1, 2).reshape([B, T2, C]);
      return this.residDropout.forward(this.cProj.forward(merged));
    });
  }
};
var MLP = class extends Module {
  constructor(cfg) {
    super();
    const f = { bias: cfg.bias ?? true, dtype: cfg.dtype, device: cfg.device };
    const hidden = (cfg.mlpRatio ?? 4) * cfg.nEmbd;
    this.registerModule("cFc", new Linear(cfg.nEmbd, hidden, f));
    this.registerModule("act", new GELU({ approximate: cfg.gelu ?? "none" }));
    this.registerModule("cProj", new Linear(hidden, cfg.nEmbd, f));
    this.registerModule("dropout", new Dropout(cfg.dropout ?? 0));
  }
  forward(x2) {
    return tidy(() => this.dropout.forward(this.cProj.forward(this.act.forward(this.cFc.forward(x2)))));
  }
};
var Block = class extends Module {
  constructor(cfg) {
    super();
    const ln = { bias: cfg.bias ?? true, dtype: cfg.dtype, device: cfg.device };
    this.registerModule("ln1", new LayerNorm(cfg.nEmbd, ln));
    this.registerModule("attn", new CausalSelfAttention(cfg));
    this.registerModule("ln2", new LayerNorm(cfg.nEmbd, ln));
    this.registerModule("mlp", new MLP(cfg));
  }
  /** x (B, T, C) → (B, T, C). */
  forward(x2, cache, rotary) {
    return tidy(() => {
      const h = x2.add(this.attn.forward(this.ln1.forward(x2), cache, rotary));
      return h.add(this.mlp.forward(this.ln2.forward(h)));
    });
  }
};

// packages/nn/src/losses.ts
init_src2();
init_src2();

// packages/nn/src/models/gpt.ts
init_src2();
init_module2();

// packages/nn/src/models/sampling.ts
init_src2();
function argmaxOf(row) {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}
function samplingDistribution(logits, opts) {
  const V = logits.length;
  const temperature = opts.temperature ?? 1;
  if (!(temperature > 0)) throw new ValueError(`sampling: temperature must be > 0 (use greedy), got ${temperature}`);
  const z = new Float64Array(V);
  for (let i = 0; i < V; i++) z[i] = logits[i] / temperature;
  if (opts.topK != null) {
    if (!Number.isInteger(opts.topK) || opts.topK < 1) throw new ValueError(`sampling: topK must be a positive integer, got ${opts.topK}`);
    if (opts.topK < V) {
      const kth = Float64Array.from(z).sort().reverse()[opts.topK - 1];
      for (let i = 0; i < V; i++) if (z[i] < kth) z[i] = -Infinity;
    }
  }
  let m2 = -Infinity;
  for (let i = 0; i < V; i++) m2 = Math.max(m2, z[i]);
  const p = new Float64Array(V);
  let total = 0;
  for (let i = 0; i < V; i++) {
    p[i] = Math.exp(z[i] - m2);
    total += p[i];
  }
  for (let i = 0; i < V; i++) p[i] /= total;
  const topP = opts.topP ?? 1;
  if (!(topP > 0 && topP <= 1)) throw new ValueError(`sampling: topP must be in (0, 1], got ${topP}`);
  if (topP < 1) {
    const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => p[b] - p[a] || a - b);
    let cum = 0;
    let kept = 0;
    const keep2 = new Uint8Array(V);
    for (const i of order) {
      if (cum >= topP && kept > 0) break;
      keep2[i] = 1;
      cum += p[i];
      kept++;
    }
    let s = 0;
    for (let i = 0; i < V; i++) {
      if (!keep2[i]) p[i] = 0;
      s += p[i];
    }
    for (let i = 0; i < V; i++) p[i] /= s;
  }
  return p;
}
function sampleToken(logits, opts, u) {
  if (opts.greedy || opts.temperature === 0) return argmaxOf(logits);
  const p = samplingDistribution(logits, opts);
  let cum = 0;
  let last = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] <= 0) continue;
    cum += p[i];
    last = i;
    if (u < cum) return i;
  }
  return last;
}

// packages/nn/src/models/gpt.ts
var GPT = class _GPT extends Module {
  config;
  constructor(cfg) {
    super();
    for (const k of ["vocabSize", "blockSize", "nLayer", "nHead", "nEmbd"]) {
      if (!Number.isInteger(cfg[k]) || cfg[k] <= 0) throw new ValueError(`GPT: config.${k} must be a positive integer, got ${cfg[k]}`);
    }
    this.config = { dropout: 0, bias: true, dtype: "float32", ...cfg };
    const { vocabSize, blockSize, nLayer, nEmbd, dropout: dropout2, bias } = this.config;
    const f = { dtype: this.config.dtype, device: cfg.device };
    this.registerModule("wte", new Embedding(vocabSize, nEmbd, f));
    this.registerModule("wpe", new LearnedPositionalEmbedding(blockSize, nEmbd, f));
    this.registerModule("drop", new Dropout(dropout2));
    this.registerModule("h", new ModuleList(Array.from({ length: nLayer }, () => new Block({ ...this.config, ...f }))));
    this.registerModule("lnF", new LayerNorm(nEmbd, { ...f, bias }));
    this.registerModule("lmHead", new Linear(nEmbd, vocabSize, { ...f, bias: false }));
    const untied = this.lmHead.weight;
    this.lmHead.weight = this.wte.weight;
    untied.dispose();
    this.#initWeights();
  }
  static fromConfig(cfg) {
    return new _GPT(cfg);
  }
  #initWeights() {
    const std2 = 0.02;
    for (const m2 of this.modules()) {
      if (m2 instanceof Linear) {
        normal(m2.weight, 0, std2);
        if (m2.bias) zeros2(m2.bias);
      } else if (m2 instanceof Embedding) {
        normal(m2.weight, 0, std2);
      }
    }
    const residStd = std2 / Math.sqrt(2 * this.config.nLayer);
    for (const b of this.h) {
      normal(b.attn.cProj.weight, 0, residStd);
      normal(b.mlp.cProj.weight, 0, residStd);
    }
  }
  /** idx (B, T) int32 → logits (B, T, V), and the mean cross-entropy when targets (B, T) are given
   *  (targets of −100 are ignored). */
  forward(idx, targets, opts = {}) {
    if (idx.ndim !== 2 || idx.dtype !== "int32") throw new ShapeError(`GPT.forward: idx must be int32 (B, T), got ${idx.dtype} ${fmtShape(idx.shape)}`);
    const [B, T2] = idx.shape;
    const cache = opts.kvCache ?? null;
    const offset = cache?.length ?? 0;
    if (offset + T2 > this.config.blockSize) {
      throw new IndexError(`GPT.forward: sequence of length ${offset + T2}${offset ? ` (${offset} cached + ${T2} new)` : ""} exceeds blockSize ${this.config.blockSize}`);
    }
    if (targets && (targets.ndim !== 2 || targets.shape[0] !== B || targets.shape[1] !== T2)) {
      throw new ShapeError(`GPT.forward: targets ${fmtShape(targets.shape)} must match idx ${fmtShape(idx.shape)}`);
    }
    return tidy(() => {
      const tok = this.wte.forward(idx);
      const pos = this.wpe.positions(T2, offset);
      let x2 = this.drop.forward(tok.add(pos));
      let i = 0;
      for (const block of this.h) x2 = block.forward(x2, cache ? cache.layers[i++] : null);
      x2 = this.lnF.forward(x2);
      if (opts.lastOnly) x2 = x2.narrow(1, T2 - 1, 1);
      const logits = this.lmHead.forward(x2);
      if (!targets) return { logits };
      const V = this.config.vocabSize;
      const loss = crossEntropy4(logits.reshape([B * T2, V]), targets.reshape([B * T2]));
      return { logits, loss };
    });
  }
  /** Two optimizer groups, as nanoGPT: every matrix (dim ≥ 2: Linear and embedding weights) with
   *  weight decay, biases and norm gains without. Frozen parameters are left out. */
  configureOptimizerGroups(weightDecay) {
    const decay = [];
    const noDecay = [];
    for (const p of this.parameters()) {
      if (!p.requiresGrad) continue;
      (p.ndim >= 2 ? decay : noDecay).push(p);
    }
    return [{ params: decay, weightDecay }, { params: noDecay, weightDecay: 0 }];
  }
  /** A new cache sized for this model. */
  createKVCache() {
    return new KVCache(this.config.nLayer);
  }
  /**
   * Extend each row of idx (B, T) int32 by up to maxNewTokens sampled tokens; returns (B, T + n).
   * Prefills a KV cache with the prompt, then feeds one token per step. When the context reaches
   * blockSize the cache is dropped and the last blockSize tokens are recomputed each step (learned
   * positions cannot slide). Runs in eval mode without gradients; sampling draws from the core
   * generator, so `seed` (or manualSeed) reproduces the output.
   */
  async generate(idx, opts) {
    if (idx.ndim !== 2 || idx.dtype !== "int32") throw new ShapeError(`GPT.generate: idx must be int32 (B, T), got ${idx.dtype} ${fmtShape(idx.shape)}`);
    const [B, T0] = idx.shape;
    if (T0 === 0) throw new ValueError("GPT.generate: the prompt must hold at least one token");
    const { blockSize } = this.config;
    const rows = [];
    const flat = await idx.data();
    for (let b = 0; b < B; b++) rows.push(Array.from(flat.subarray(b * T0, (b + 1) * T0)));
    const stop = new Set(opts.stopTokens ?? []);
    const finished = new Array(B).fill(null);
    const saved = opts.seed !== void 0 ? getRngState() : null;
    if (opts.seed !== void 0) manualSeed(opts.seed);
    const wasTraining = this.training;
    this.eval();
    const cache = opts.useCache === false ? null : this.createKVCache();
    const device = this.wte.weight.device;
    const greedy = opts.greedy || opts.temperature === 0;
    try {
      for (let step = 0; step < opts.maxNewTokens; step++) {
        const len = rows[0].length;
        const useCache = cache !== null && len <= blockSize;
        let feed;
        if (useCache && cache.length > 0 && cache.length === len - 1) {
          feed = rows.map((r) => [r[len - 1]]);
        } else {
          cache?.reset();
          feed = rows.map((r) => r.slice(Math.max(0, len - blockSize)));
        }
        const Tf = feed[0].length;
        const input = tensor(Int32Array.from(feed.flat()), { shape: [B, Tf], dtype: "int32", device });
        const logits = noGrad(() => this.forward(input, null, { kvCache: useCache ? cache : null, lastOnly: true }).logits);
        input.dispose();
        const values = await logits.data();
        logits.dispose();
        let uniforms = null;
        if (!greedy) {
          const u = rand([B], { dtype: "float64", device: "cpu" });
          uniforms = u.dataSync();
          u.dispose();
        }
        const V = this.config.vocabSize;
        for (let b = 0; b < B; b++) {
          if (finished[b] !== null) {
            rows[b].push(opts.padToken ?? finished[b]);
            continue;
          }
          const next = sampleToken(values.subarray(b * V, (b + 1) * V), { ...opts, greedy }, uniforms ? uniforms[b] : 0);
          rows[b].push(next);
          if (stop.has(next)) finished[b] = next;
        }
        if (stop.size > 0 && finished.every((f) => f !== null)) break;
      }
    } finally {
      cache?.dispose();
      this.train(wasTraining);
      if (saved) setRngState(saved);
    }
    const n = rows[0].length;
    return tensor(Int32Array.from(rows.flat()), { shape: [B, n], dtype: "int32", device: idx.device });
  }
  extraRepr() {
    const c = this.config;
    return `vocabSize=${c.vocabSize}, blockSize=${c.blockSize}, nLayer=${c.nLayer}, nHead=${c.nHead}, nEmbd=${c.nEmbd}`;
  }
};

// packages/nn/src/index.ts
init_serialization();

// packages/nn/src/layers/conv.ts
init_src2();
init_module2();

// packages/nn/src/layers/uniform_init.ts
init_src2();

// packages/nn/src/layers/batch_norm.ts
init_src2();
init_module2();

// packages/nn/src/layers/rnn_cells.ts
init_src2();
init_module2();

// packages/nn/src/layers/rnn.ts
init_src2();
init_module2();

// packages/nn/src/layers/multihead_attention.ts
init_src2();
init_module2();

// packages/nn/src/layers/transformer_encoder.ts
init_src2();
init_module2();

// packages/nn/src/models/bert.ts
init_src2();
init_module2();

// packages/nn/src/models/masking.ts
init_src2();

// packages/nn/src/models/lenet.ts
init_src2();
init_module2();

// packages/nn/src/models/lstm_model.ts
init_src2();
init_module2();

// packages/nn/src/models/value_head.ts
init_src2();
init_module2();

// packages/optim/src/optimizer.ts
init_src2();
var OptimizerError = class extends ValueError {
};
var isTensorLike = (x2) => typeof x2 === "object" && x2 !== null && x2.__isTensor === true;
var Optimizer = class {
  /** The groups; each group's hyperparameters (e.g. `lr`) may be changed between steps. */
  paramGroups = [];
  /** State of each parameter that has taken a step. */
  state = /* @__PURE__ */ new Map();
  defaults;
  constructor(params, defaults) {
    this.defaults = { ...defaults };
    const list2 = [...params];
    if (list2.length === 0) throw new OptimizerError("optimizer: got an empty parameter list");
    if (list2.every(isTensorLike)) this.addParamGroup({ params: list2 });
    else if (list2.some(isTensorLike)) throw new OptimizerError("optimizer: pass either a list of tensors or a list of parameter groups, not a mix");
    else for (const g of list2) this.addParamGroup(g);
  }
  /** Add a group (its missing hyperparameters come from the defaults). A parameter may be in one group only. */
  addParamGroup(group) {
    const params = [...group.params];
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    for (const p of params) {
      if (!isTensorLike(p)) throw new OptimizerError(`${this.kind}.addParamGroup: params must be tensors, got ${typeof p}`);
      if (p.dtype !== "float32" && p.dtype !== "float64") throw new OptimizerError(`${this.kind}: can only optimize floating-point tensors, got ${p.dtype}${p.name ? ` (${p.name})` : ""}`);
      if (seen.has(p)) throw new OptimizerError(`${this.kind}.addParamGroup: a parameter appears in more than one group${p.name ? ` (${p.name})` : ""}`);
      seen.add(p);
    }
    const full2 = { ...this.defaults };
    for (const [k, v] of Object.entries(group)) if (k !== "params" && v !== void 0) full2[k] = v;
    full2.params = params;
    this.validateGroup(full2);
    this.paramGroups.push(full2);
  }
  /** Check a group's hyperparameters; subclasses extend it. */
  validateGroup(g) {
    if (!(g.lr >= 0)) throw new OptimizerError(`${this.kind}: invalid learning rate ${g.lr}`);
    if (!(g.weightDecay >= 0)) throw new OptimizerError(`${this.kind}: invalid weightDecay ${g.weightDecay}`);
  }
  /** Every parameter, in group order. */
  params() {
    return this.paramGroups.flatMap((g) => g.params);
  }
  /** Set the learning rate of every group (what an LR schedule's `onLr` callback calls). */
  setLr(lr) {
    for (const g of this.paramGroups) g.lr = lr;
  }
  /** Clear gradients: dispose and set `.grad = null` (default), or zero them in place. */
  zeroGrad(opts = {}) {
    const setToNone = opts.setToNone ?? true;
    noGrad(() => {
      for (const p of this.params()) {
        const g = p.grad;
        if (!g) continue;
        if (setToNone || g.isDisposed) {
          if (!g.isDisposed) g.dispose();
          p.grad = null;
        } else g.zero_();
      }
    });
  }
  /** One optimization step for every parameter that has a gradient. */
  step() {
    noGrad(() => {
      for (const group of this.paramGroups) {
        this.beforeGroup(group);
        for (const p of group.params) {
          const g = p.grad;
          if (!g || g.isDisposed) continue;
          const st = this.stateOf(p);
          st.step += 1;
          this.updateParam(p, g, st, group);
        }
      }
    });
  }
  /** Hook run before each group's parameters are updated. */
  beforeGroup(_group) {
  }
  stateOf(p) {
    let st = this.state.get(p);
    if (!st) {
      st = { step: 0, buffers: {} };
      this.state.set(p, st);
    }
    return st;
  }
  /** The named state tensor of `p`, created (owned) with zeros like `p` on first use. */
  buffer(p, st, name, init) {
    let b = st.buffers[name];
    if (!b) {
      b = keep(init ? init() : zerosLike(p));
      st.buffers[name] = b;
    }
    return b;
  }
  /** An exact snapshot of state tensors, step counts and group hyperparameters. */
  async stateDict() {
    const index = /* @__PURE__ */ new Map();
    this.params().forEach((p, i) => index.set(p, i));
    const state = {};
    for (const [p, st] of this.state) {
      const i = index.get(p);
      if (i === void 0) continue;
      const buffers = {};
      for (const [k, t] of Object.entries(st.buffers)) buffers[k] = { dtype: t.dtype, shape: [...t.shape], data: await t.data() };
      state[String(i)] = { step: st.step, buffers };
    }
    let next = 0;
    const paramGroups = this.paramGroups.map((g) => {
      const hyper = {};
      for (const [k, v] of Object.entries(g)) if (k !== "params") hyper[k] = Array.isArray(v) ? [...v] : v;
      return { params: g.params.map(() => next++), hyper };
    });
    return { kind: this.kind, state, paramGroups };
  }
  /** Restore a snapshot taken from an optimizer built over the same parameters (same groups, same order). */
  loadStateDict(sd) {
    const where5 = `${this.kind}.loadStateDict`;
    if (sd.kind !== this.kind) throw new OptimizerError(`${where5}: the state dict is from ${sd.kind}, not ${this.kind}`);
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new OptimizerError(`${where5}: the state dict has ${sd.paramGroups.length} parameter groups, this optimizer has ${this.paramGroups.length}`);
    }
    sd.paramGroups.forEach((g, i) => {
      const n = this.paramGroups[i].params.length;
      if (g.params.length !== n) throw new OptimizerError(`${where5}: group ${i} has ${g.params.length} parameters in the state dict, ${n} here`);
    });
    const params = this.params();
    for (const [key, st] of Object.entries(sd.state)) {
      const p = params[Number(key)];
      if (!p) throw new OptimizerError(`${where5}: state for parameter #${key}, but there are only ${params.length} parameters`);
      if (!Number.isInteger(st.step) || st.step < 0) throw new OptimizerError(`${where5}: parameter #${key} has an invalid step ${st.step}`);
      for (const [name, s] of Object.entries(st.buffers)) {
        const n = s.shape.reduce((a, b) => a * b, 1);
        if (s.data.length !== n) throw new OptimizerError(`${where5}: state '${name}' of parameter #${key} has ${s.data.length} values for shape [${s.shape.join(", ")}]`);
        if (n !== p.size) throw new OptimizerError(`${where5}: state '${name}' of parameter #${key} has shape [${s.shape.join(", ")}], the parameter has [${p.shape.join(", ")}]`);
      }
    }
    this.disposeState();
    for (const [key, st] of Object.entries(sd.state)) {
      const p = params[Number(key)];
      const buffers = {};
      for (const [name, s] of Object.entries(st.buffers)) {
        buffers[name] = keep(tensor(s.data, { dtype: s.dtype, shape: s.shape, device: p.device }));
      }
      this.state.set(p, { step: st.step, buffers });
    }
    sd.paramGroups.forEach((g, i) => {
      const group = this.paramGroups[i];
      for (const [k, v] of Object.entries(g.hyper)) group[k] = Array.isArray(v) ? [...v] : v;
    });
  }
  disposeState() {
    for (const st of this.state.values()) for (const t of Object.values(st.buffers)) t.dispose();
    this.state.clear();
  }
  /** Free every state tensor (the optimizer can still step; state restarts from zero). */
  dispose() {
    this.disposeState();
  }
};

// packages/optim/src/sgd.ts
init_src2();

// packages/optim/src/adam.ts
init_src2();
function checkBetas(kind, betas) {
  if (betas.length !== 2 || !betas.every((b) => b >= 0 && b < 1)) {
    throw new OptimizerError(`${kind}: betas must be two numbers in [0, 1), got [${betas.join(", ")}]`);
  }
}

// packages/optim/src/adamw.ts
init_src2();
var AdamW = class extends Optimizer {
  kind = "AdamW";
  constructor(params, opts = {}) {
    super(params, { lr: 1e-3, weightDecay: 0.01, betas: [0.9, 0.999], eps: 1e-8, ...opts });
  }
  validateGroup(g) {
    super.validateGroup(g);
    checkBetas("AdamW", g.betas);
    if (!(g.eps >= 0)) throw new OptimizerError(`AdamW: invalid eps ${g.eps}`);
  }
  updateParam(p, grad2, st, g) {
    if (!p.isContiguous()) throw new OptimizerError(`AdamW: parameter${p.name ? ` ${p.name}` : ""} of shape [${p.shape.join(", ")}] is not contiguous; the fused step updates contiguous parameters`);
    const m2 = this.buffer(p, st, "expAvg");
    const v = this.buffer(p, st, "expAvgSq");
    const gc = grad2.isContiguous() && grad2.dtype === p.dtype ? grad2 : tidy(() => grad2.to(p.dtype).contiguous());
    p.backend.kernels.adamw(p.view_(), gc.view_(), m2.view_(), v.view_(), {
      lr: g.lr,
      beta1: g.betas[0],
      beta2: g.betas[1],
      eps: g.eps,
      weightDecay: g.weightDecay,
      step: st.step
    });
    if (gc !== grad2) gc.dispose();
    p.storage.version++;
    m2.storage.version++;
    v.storage.version++;
  }
};

// packages/optim/src/lion.ts
init_src2();

// packages/optim/src/grad_utils.ts
init_src2();

// packages/optim/src/grad_scaler.ts
init_src2();

// packages/optim/src/tensor_io.ts
init_src2();

// packages/optim/src/lora.ts
init_src2();

// packages/optim/src/checkpoint.ts
init_src2();

// prof_gpt.ts
manualSeed(0);
var m = new GPT({ vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128, dropout: 0, bias: true });
var opt = new AdamW(m.parameters(), { lr: 1e-3 });
var x = randint(0, 65, [12, 64]);
var y = randint(0, 65, [12, 64]);
for (let i = 0; i < 8; i++) {
  const t0 = performance.now();
  const l = tidy(() => {
    opt.zeroGrad();
    const loss = m.forward(x, y).loss;
    loss.backward();
    opt.step();
    return keep(loss);
  });
  const v = await l.item();
  l.dispose();
  console.log(i, v.toFixed(3), (performance.now() - t0).toFixed(1), "ms");
}
