var __defProp = Object.defineProperty;
var __export = (target, all) => {
  for (var name in all)
    __defProp(target, name, { get: all[name], enumerable: true });
};

// packages/kernels/src/types.ts
var BOOL_RESULT_OPS = /* @__PURE__ */ new Set(["eq", "ne", "lt", "le", "gt", "ge", "logicalAnd", "logicalOr"]);

// packages/kernels/src/cpu/strided.ts
function numel(shape) {
  let n2 = 1;
  for (const s of shape) n2 *= s;
  return n2;
}
function contiguousStrides(shape) {
  const strides = new Array(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}
function forEachIndex(shape, fn) {
  const total = numel(shape);
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
function offsetOf(view, index) {
  let off = view.offset;
  for (let d = 0; d < index.length; d++) off += index[d] * view.strides[d];
  return off;
}
function elementOffsets(view) {
  const { shape, strides } = view;
  const out = new Float64Array(numel(shape));
  const rank = shape.length;
  const index = new Array(rank).fill(0);
  let off = view.offset;
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
function convertTo(dtype, v2) {
  switch (dtype) {
    case "float64":
      return v2;
    case "float32":
      return Math.fround(v2);
    case "int32":
      return Number.isNaN(v2) ? 0 : Math.trunc(v2) | 0;
    case "bool":
      return v2 !== 0 ? 1 : 0;
  }
}
function readAt(view, off) {
  return view.buffer[off];
}
function writeAt(view, off, v2) {
  view.buffer[off] = convertTo(view.dtype, v2);
}
function readAll(view) {
  const offs = elementOffsets(view);
  const out = new Float64Array(offs.length);
  const buf = view.buffer;
  for (let i = 0; i < offs.length; i++) out[i] = buf[offs[i]];
  return out;
}
function writeAll(view, values) {
  const offs = elementOffsets(view);
  if (values.length !== offs.length) {
    throw new RangeError(`writeAll: ${values.length} values for a view of ${offs.length} elements (shape [${view.shape.join(", ")}])`);
  }
  for (let i = 0; i < offs.length; i++) writeAt(view, offs[i], values[i]);
}
function rowsOf(shape) {
  if (shape.length === 0) return { rows: 1, cols: 1 };
  const cols = shape[shape.length - 1];
  return { rows: numel(shape.slice(0, -1)), cols };
}

// packages/kernels/src/cpu/adamw.ts
function adamw(param, grad, m, v2, opts) {
  const { lr, beta1, beta2, eps, weightDecay, step } = opts;
  const bc1 = 1 - Math.pow(beta1, step);
  const bc2 = 1 - Math.pow(beta2, step);
  const ps = readAll(param);
  const gs = readAll(grad);
  const ms = readAll(m);
  const vs = readAll(v2);
  const pOff = elementOffsets(param);
  const mOff = elementOffsets(m);
  const vOff = elementOffsets(v2);
  for (let i = 0; i < ps.length; i++) {
    const g = gs[i];
    let p = ps[i] - lr * weightDecay * ps[i];
    const mi = beta1 * ms[i] + (1 - beta1) * g;
    const vi = beta2 * vs[i] + (1 - beta2) * g * g;
    p -= lr * (mi / bc1) / (Math.sqrt(vi / bc2) + eps);
    writeAt(param, pOff[i], p);
    writeAt(m, mOff[i], mi);
    writeAt(v2, vOff[i], vi);
  }
}

// packages/kernels/src/cpu/attention.ts
function dimsOf(q, k, v2) {
  const [B, H, Tq, D] = q.shape;
  return { B, H, Tq, D, Tk: k.shape[2], Dv: v2.shape[3] };
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
function attention(q, k, v2, mask, opts, out, lse2) {
  const d = dimsOf(q, k, v2);
  const { B, H, Tq, Tk, Dv } = d;
  const qs = readAll(q);
  const ks = readAll(k);
  const vs = readAll(v2);
  const ms = mask ? readAll(mask) : null;
  const os = new Float64Array(B * H * Tq * Dv);
  const lses = new Float64Array(B * H * Tq);
  for (let bh = 0; bh < B * H; bh++) {
    const s = scores(d, bh, qs, ks, ms, opts);
    for (let i = 0; i < Tq; i++) {
      let m = -Infinity;
      for (let j = 0; j < Tk; j++) m = Math.max(m, s[i * Tk + j]);
      if (m === -Infinity) {
        lses[bh * Tq + i] = -Infinity;
        continue;
      }
      let sum = 0;
      for (let j = 0; j < Tk; j++) sum += Math.exp(s[i * Tk + j] - m);
      const l = m + Math.log(sum);
      lses[bh * Tq + i] = l;
      for (let j = 0; j < Tk; j++) {
        const p = Math.exp(s[i * Tk + j] - l);
        if (p === 0) continue;
        for (let c = 0; c < Dv; c++) os[(bh * Tq + i) * Dv + c] += p * vs[(bh * Tk + j) * Dv + c];
      }
    }
  }
  writeAll(out, os);
  writeAll(lse2, lses);
}
function attentionBackward(q, k, v2, mask, opts, out, lse2, dout, dq, dk, dv) {
  const d = dimsOf(q, k, v2);
  const { B, H, Tq, Tk, D, Dv } = d;
  const qs = readAll(q);
  const ks = readAll(k);
  const vs = readAll(v2);
  const ms = mask ? readAll(mask) : null;
  const os = readAll(out);
  const lses = readAll(lse2);
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

// packages/kernels/src/cpu/conv.ts
function convOutputSize(size, k, s, p, d) {
  return Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;
}
function geom(imageShape, g) {
  const [N2, C2, H, W] = imageShape;
  const [kh, kw] = g.kernel;
  const [sh, sw] = g.stride;
  const [ph, pw] = g.padding;
  const [dh, dw] = g.dilation;
  return {
    N: N2,
    C: C2,
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
function forEachTap(t2, fn) {
  for (let n2 = 0; n2 < t2.N; n2++)
    for (let c = 0; c < t2.C; c++)
      for (let oh = 0; oh < t2.Ho; oh++)
        for (let ow = 0; ow < t2.Wo; ow++)
          for (let i = 0; i < t2.kh; i++)
            for (let j = 0; j < t2.kw; j++)
              fn(n2, c, oh, ow, i, j, oh * t2.sh - t2.ph + i * t2.dh, ow * t2.sw - t2.pw + j * t2.dw);
}
var inImage = (t2, h, w) => h >= 0 && h < t2.H && w >= 0 && w < t2.W;
var colIndex = (t2, n2, c, oh, ow, i, j) => ((n2 * t2.C * t2.kh * t2.kw + (c * t2.kh + i) * t2.kw + j) * t2.Ho + oh) * t2.Wo + ow;
var pixIndex = (t2, n2, c, h, w) => ((n2 * t2.C + c) * t2.H + h) * t2.W + w;
function im2col(x2, g, cols) {
  const t2 = geom(x2.shape, g);
  const xs = readAll(x2);
  const cs = new Float64Array(t2.N * t2.C * t2.kh * t2.kw * t2.Ho * t2.Wo);
  forEachTap(t2, (n2, c, oh, ow, i, j, h, w) => {
    if (inImage(t2, h, w)) cs[colIndex(t2, n2, c, oh, ow, i, j)] = xs[pixIndex(t2, n2, c, h, w)];
  });
  writeAll(cols, cs);
}
function col2im(cols, g, dx2) {
  const t2 = geom(dx2.shape, g);
  const cs = readAll(cols);
  const xs = new Float64Array(t2.N * t2.C * t2.H * t2.W);
  forEachTap(t2, (n2, c, oh, ow, i, j, h, w) => {
    if (inImage(t2, h, w)) xs[pixIndex(t2, n2, c, h, w)] += cs[colIndex(t2, n2, c, oh, ow, i, j)];
  });
  writeAll(dx2, xs);
}
function avgDivisor(t2, oh, ow) {
  let count = 0;
  for (let i = 0; i < t2.kh; i++) {
    const h = oh * t2.sh - t2.ph + i * t2.dh;
    for (let j = 0; j < t2.kw; j++) {
      const w = ow * t2.sw - t2.pw + j * t2.dw;
      if (h >= -t2.ph && h < t2.H + t2.ph && w >= -t2.pw && w < t2.W + t2.pw) count++;
    }
  }
  return count;
}
function pool2d(op, x2, g, out, argmax) {
  const t2 = geom(x2.shape, g);
  const xs = readAll(x2);
  const size = t2.N * t2.C * t2.Ho * t2.Wo;
  const ys = new Float64Array(size).fill(op === "max" ? -Infinity : 0);
  const am = new Float64Array(size).fill(-1);
  forEachTap(t2, (n2, c, oh, ow, _i, _j, h, w) => {
    if (!inImage(t2, h, w)) return;
    const o2 = ((n2 * t2.C + c) * t2.Ho + oh) * t2.Wo + ow;
    const v2 = xs[pixIndex(t2, n2, c, h, w)];
    if (op === "avg") {
      ys[o2] += v2;
    } else if (am[o2] === -1 || ys[o2] === ys[o2] && (v2 > ys[o2] || v2 !== v2)) {
      ys[o2] = v2;
      am[o2] = h * t2.W + w;
    }
  });
  if (op === "avg") {
    for (let n2 = 0; n2 < t2.N * t2.C; n2++)
      for (let oh = 0; oh < t2.Ho; oh++)
        for (let ow = 0; ow < t2.Wo; ow++) ys[(n2 * t2.Ho + oh) * t2.Wo + ow] /= avgDivisor(t2, oh, ow);
  }
  writeAll(out, ys);
  if (op === "max" && argmax) writeAll(argmax, am);
}
function pool2dBackward(op, dy, argmax, g, dx2) {
  const t2 = geom(dx2.shape, g);
  const gs = readAll(dy);
  const xs = new Float64Array(t2.N * t2.C * t2.H * t2.W);
  if (op === "max") {
    if (!argmax) throw new Error("pool2dBackward: max pooling needs the argmax from the forward pass");
    const am = readAll(argmax);
    const plane = t2.H * t2.W;
    for (let o2 = 0; o2 < gs.length; o2++) {
      const nc = Math.floor(o2 / (t2.Ho * t2.Wo));
      const a = am[o2];
      if (a < 0) continue;
      if (a >= plane) throw new RangeError(`pool2dBackward: argmax ${a} is out of range for an input plane of ${t2.H}x${t2.W} (valid: 0..${plane - 1})`);
      xs[nc * plane + a] += gs[o2];
    }
  } else {
    forEachTap(t2, (n2, c, oh, ow, _i, _j, h, w) => {
      if (!inImage(t2, h, w)) return;
      xs[pixIndex(t2, n2, c, h, w)] += gs[((n2 * t2.C + c) * t2.Ho + oh) * t2.Wo + ow] / avgDivisor(t2, oh, ow);
    });
  }
  writeAll(dx2, xs);
}

// packages/kernels/src/cpu/cross_entropy.ts
function logSumExp(xs, base, C2) {
  let m = -Infinity;
  for (let c = 0; c < C2; c++) m = Math.max(m, xs[base + c]);
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (let c = 0; c < C2; c++) s += Math.exp(xs[base + c] - m);
  return m + Math.log(s);
}
function checkTarget(kernel, t2, C2, ignoreIndex) {
  if (t2 === ignoreIndex) return false;
  if (!(t2 >= 0 && t2 < C2)) {
    throw new RangeError(`${kernel}: target ${t2} is out of range for ${C2} classes (valid: 0..${C2 - 1}, or ignoreIndex ${ignoreIndex})`);
  }
  return true;
}
function crossEntropy(logits, targets, weight, opts, loss2, lse2) {
  const [N2, C2] = [logits.shape[0], logits.shape[1]];
  const xs = readAll(logits);
  const ts = readAll(targets);
  const w = weight ? readAll(weight) : new Float64Array(C2).fill(1);
  const eps = opts.labelSmoothing;
  const losses = new Float64Array(N2);
  const lses = new Float64Array(N2);
  for (let n2 = 0; n2 < N2; n2++) {
    const base = n2 * C2;
    const l = logSumExp(xs, base, C2);
    lses[n2] = l;
    const t2 = ts[n2];
    if (!checkTarget("crossEntropy", t2, C2, opts.ignoreIndex)) continue;
    let smooth = 0;
    if (eps !== 0) for (let c = 0; c < C2; c++) smooth += w[c] * (l - xs[base + c]);
    losses[n2] = (1 - eps) * w[t2] * (l - xs[base + t2]) + eps / C2 * smooth;
  }
  writeAll(loss2, losses);
  writeAll(lse2, lses);
}
function crossEntropyBackward(logits, targets, weight, lse2, dloss, opts, dlogits) {
  const [N2, C2] = [logits.shape[0], logits.shape[1]];
  const xs = readAll(logits);
  const ts = readAll(targets);
  const lses = readAll(lse2);
  const gs = readAll(dloss);
  const w = weight ? readAll(weight) : new Float64Array(C2).fill(1);
  let W = 0;
  for (let c = 0; c < C2; c++) W += w[c];
  const eps = opts.labelSmoothing;
  const dx2 = new Float64Array(N2 * C2);
  for (let n2 = 0; n2 < N2; n2++) {
    const t2 = ts[n2];
    if (!checkTarget("crossEntropyBackward", t2, C2, opts.ignoreIndex)) continue;
    const base = n2 * C2;
    for (let c = 0; c < C2; c++) {
      const p = Math.exp(xs[base + c] - lses[n2]);
      const hard = (1 - eps) * w[t2] * (p - (c === t2 ? 1 : 0));
      const smooth = eps / C2 * (W * p - w[c]);
      dx2[base + c] = gs[n2] * (hard + smooth);
    }
  }
  writeAll(dlogits, dx2);
}

// packages/kernels/src/cpu/elementwise.ts
var TWO_OVER_SQRT_PI = 1.1283791670955126;
var ONE_OVER_SQRT_PI = 0.5641895835477563;
var SQRT_2_OVER_PI = 0.7978845608028654;
var SQRT_HALF = 0.7071067811865476;
function erf(x2) {
  if (Number.isNaN(x2) || x2 === 0) return x2;
  const ax = Math.abs(x2);
  let r;
  if (ax < 3) {
    const x22 = ax * ax;
    let term = ax;
    let sum = ax;
    for (let n2 = 1; n2 < 200; n2++) {
      term *= 2 * x22 / (2 * n2 + 1);
      sum += term;
      if (term < sum * 1e-17) break;
    }
    r = TWO_OVER_SQRT_PI * Math.exp(-x22) * sum;
  } else if (ax < 6) {
    r = 1 - erfcContinuedFraction(ax);
  } else {
    r = 1;
  }
  return x2 < 0 ? -r : r;
}
function erfcContinuedFraction(x2) {
  let f = x2;
  for (let n2 = 80; n2 >= 1; n2--) f = x2 + n2 / 2 / f;
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
var UNARY_FNS = {
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
var truth = (x2) => x2 !== 0;
var BINARY_FNS = {
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
    const o2 = offsetOf(out, dst);
    writeAt(out, o2, readAt(out, o2) + readAt(src, offsetOf(src, p)));
  });
}
function readIndex1d(kernel, index, size, dim) {
  const n2 = index.shape.length === 0 ? 1 : index.shape[0];
  const stride = index.shape.length === 0 ? 0 : index.strides[0];
  const values = [];
  for (let j = 0; j < n2; j++) {
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
    const o2 = offsetOf(out, dst);
    writeAt(out, o2, readAt(out, o2) + readAt(src, offsetOf(src, p)));
  });
}

// packages/kernels/src/cpu/layer_norm.ts
function layerNorm(x2, weight, bias, eps, out, mean, rstd) {
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
    let v2 = 0;
    for (let j = 0; j < D; j++) v2 += (xs[base + j] - mu) ** 2;
    v2 /= D;
    const rs = 1 / Math.sqrt(v2 + eps);
    means[r] = mu;
    rstds[r] = rs;
    for (let j = 0; j < D; j++) {
      const xh = (xs[base + j] - mu) * rs;
      ys[base + j] = xh * (w ? w[j] : 1) + (b ? b[j] : 0);
    }
  }
  writeAll(out, ys);
  writeAll(mean, means);
  writeAll(rstd, rstds);
}
function layerNormBackward(x2, weight, mean, rstd, dy, dx2, dweight, dbias) {
  const { rows, cols: D } = rowsOf(x2.shape);
  const xs = readAll(x2);
  const gs = readAll(dy);
  const w = weight ? readAll(weight) : null;
  const means = readAll(mean);
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
  writeAll(dx2, dxs);
  if (dweight) writeAll(dweight, dw);
  if (dbias) writeAll(dbias, db);
}

// packages/kernels/src/cpu/matmul.ts
function matmul(a, b, out) {
  const r = out.shape.length;
  const M = out.shape[r - 2];
  const N2 = out.shape[r - 1];
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
      for (let j = 0; j < N2; j++) {
        let acc = 0;
        for (let k = 0; k < K; k++) acc += a.buffer[baseA + i * saM + k * saK] * b.buffer[baseB + k * sbK + j * sbN];
        writeAt(out, baseO + i * soM + j * soN, acc);
      }
    }
  });
}

// packages/kernels/src/cpu/random.ts
var THREEFRY_PARITY = 466688986;
var THREEFRY_ROTATIONS = [13, 15, 26, 6, 17, 29, 16, 24];
var rotl32 = (x2, r) => (x2 << r | x2 >>> 32 - r) >>> 0;
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
var TWO_POW_32 = 4294967296;
var TWO_POW_M24 = 1 / 16777216;
function keyForSeed(seed) {
  return [seed >>> 0, (Math.floor(seed / TWO_POW_32) ^ THREEFRY_PARITY) >>> 0];
}
function random(out, opts) {
  const { seed, offset, distribution } = opts;
  const [k0, k1] = keyForSeed(seed);
  const offs = elementOffsets(out);
  for (let i = 0; i < offs.length; i++) {
    const n2 = offset + i;
    const [w0, w1] = threefry2x32(k0, k1, n2 >>> 0, Math.floor(n2 / TWO_POW_32) >>> 0);
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

// packages/kernels/src/cpu/reduce.ts
var IDENTITY = { sum: 0, prod: 1, max: -Infinity, min: Infinity };
function combine(op, acc, v2) {
  switch (op) {
    case "sum":
      return acc + v2;
    case "prod":
      return acc * v2;
    // `v !== v` is true only for NaN: once the accumulator is NaN no comparison replaces it.
    case "max":
      return v2 > acc || v2 !== v2 ? v2 : acc;
    case "min":
      return v2 < acc || v2 !== v2 ? v2 : acc;
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
  const acc = new Float64Array(numel(outShape)).fill(IDENTITY[op]);
  const xs = readAll(x2);
  forEachIndex(x2.shape, (idx, linear) => {
    let o2 = 0;
    for (let d = 0; d < rank; d++) o2 += idx[d] * toOut[d];
    acc[o2] = combine(op, acc[o2], xs[linear]);
  });
  writeAll(out, acc);
}
function argReduce(op, x2, axis, out) {
  const rank = x2.shape.length;
  const ax = rank === 0 ? -1 : axis < 0 ? axis + rank : axis;
  const n2 = ax < 0 ? 1 : x2.shape[ax];
  const step = ax < 0 ? 0 : x2.strides[ax];
  const outShape = x2.shape.map((s, d) => d === ax ? 1 : s);
  const result = new Float64Array(numel(outShape));
  const better = op === "argmax" ? (v2, best) => v2 > best : (v2, best) => v2 < best;
  forEachIndex(outShape, (idx, linear) => {
    if (n2 === 0) return;
    const base = offsetOf(x2, idx);
    let bestIdx = 0;
    let best = x2.buffer[base];
    for (let k = 1; k < n2 && best === best; k++) {
      const v2 = x2.buffer[base + k * step];
      if (v2 !== v2 || better(v2, best)) {
        best = v2;
        bestIdx = k;
      }
    }
    result[linear] = bestIdx;
  });
  writeAll(out, result);
}

// packages/kernels/src/cpu/softmax.ts
function softmax(x2, out, log) {
  const { rows, cols } = rowsOf(x2.shape);
  const xs = readAll(x2);
  const ys = new Float64Array(xs.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let m = -Infinity;
    for (let j = 0; j < cols; j++) m = Math.max(m, xs[base + j]);
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.exp(xs[base + j] - m);
    const logS = Math.log(s);
    for (let j = 0; j < cols; j++) {
      const z = xs[base + j] - m;
      ys[base + j] = log ? z - logS : Math.exp(z) / s;
    }
  }
  writeAll(out, ys);
}
function softmaxBackward(y, dy, out, log) {
  const { rows, cols } = rowsOf(y.shape);
  const ys = readAll(y);
  const gs = readAll(dy);
  const dx2 = new Float64Array(ys.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let dot = 0;
    let sum = 0;
    for (let j = 0; j < cols; j++) {
      dot += gs[base + j] * ys[base + j];
      sum += gs[base + j];
    }
    for (let j = 0; j < cols; j++) {
      const i = base + j;
      dx2[i] = log ? gs[i] - Math.exp(ys[i]) * sum : ys[i] * (gs[i] - dot);
    }
  }
  writeAll(out, dx2);
}

// packages/kernels/src/cpu/index.ts
var cpuKernels = {
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

// packages/kernels/src/webgpu/workgroups.ts
var WGSL_LINEAR_WORKGROUP = (
  /* wgsl */
  `
fn linear_workgroup(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y;
}
`
);

// packages/kernels/src/webgpu/reduce.ts
var TWO_STAGE_MIN = 1 << 15;

// packages/kernels/src/webgpu/softmax.ts
var ROW_WG = 256;
var WGSL_ROWS = (
  /* wgsl */
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
`
);
var WGSL_ROW_MAIN = `@compute @workgroup_size(${ROW_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  if (first_row(wid, nwg) >= u.rows) { return; }
  let s = seg_of(wid, nwg, lid);
  let n = select(0u, u.d, s.live);`;

// packages/kernels/src/webgpu/attention.ts
var WG = 64;
var MAIN_SIG = `@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {`;

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
var isF32 = (v2) => v2.dtype === "float32" && v2.buffer instanceof Float32Array;
var isFloat = (v2) => v2.dtype === "float32" || v2.dtype === "float64";
function isContiguous(v2) {
  const cs = contiguousStrides(v2.shape);
  for (let d = 0; d < v2.shape.length; d++) if (v2.shape[d] > 1 && v2.strides[d] !== cs[d]) return false;
  return true;
}
function coalesce2(shape, strides) {
  const outShape = [];
  const outStrides = strides.map(() => []);
  let size = 1;
  let cur = strides.map(() => 0);
  for (let d = shape.length - 1; d >= 0; d--) {
    const n2 = shape[d];
    if (n2 === 1) continue;
    if (size === 1) {
      size = n2;
      cur = strides.map((s) => s[d]);
      continue;
    }
    let merge = true;
    for (let k = 0; k < strides.length; k++) if (strides[k][d] !== cur[k] * size) {
      merge = false;
      break;
    }
    if (merge) {
      size *= n2;
    } else {
      outShape.push(size);
      strides.forEach((_, k) => outStrides[k].push(cur[k]));
      size = n2;
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
  if (numel(shape) === 0) return;
  const c = coalesce2(shape, views.map((v2) => v2.strides));
  const r = c.shape.length;
  const n2 = c.shape[r - 1];
  const inner = c.strides.map((s) => s[r - 1]);
  const base = views.map((v2) => v2.offset);
  if (r === 1) return fn(base, n2, inner);
  const idx = new Array(r - 1).fill(0);
  const offs = base.slice();
  const rows = numel(c.shape.slice(0, r - 1));
  for (let row = 0; row < rows; row++) {
    fn(offs, n2, inner);
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
  const n2 = numel(x2.shape);
  const buf = new Float32Array(n2);
  const dst = { buffer: buf, dtype: "float32", shape: x2.shape, strides: contiguousStrides(x2.shape), offset: 0 };
  copyLoop(x2, dst);
  return dst;
}
var ERF_SCALE = 32;
var ERF_NODES = 6 * ERF_SCALE + 1;
var ERF_TAB = new Float64Array(ERF_NODES * 6);
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
function fastErf(x2) {
  if (x2 === 0 || x2 !== x2) return x2;
  const ax = x2 < 0 ? -x2 : x2;
  if (ax >= 6) return x2 < 0 ? -1 : 1;
  const i = ax * ERF_SCALE + 0.5 | 0;
  const h = ax - i / ERF_SCALE;
  const t2 = i * 6;
  const r = ERF_TAB[t2] + ERF_TAB[t2 + 1] * h * (1 + h * (ERF_TAB[t2 + 2] + h * (ERF_TAB[t2 + 3] + h * (ERF_TAB[t2 + 4] + h * ERF_TAB[t2 + 5]))));
  return x2 < 0 ? -r : r;
}
var SQRT_HALF2 = 0.7071067811865476;
function unaryRow(op, x2, px, sx, o2, po, so, n2) {
  switch (op) {
    case "gelu":
      for (let i = 0; i < n2; i++) {
        const v2 = x2[px + i * sx];
        o2[po + i * so] = 0.5 * v2 * (1 + fastErf(v2 * SQRT_HALF2));
      }
      return;
    case "erf":
      for (let i = 0; i < n2; i++) o2[po + i * so] = fastErf(x2[px + i * sx]);
      return;
    case "exp":
      for (let i = 0; i < n2; i++) o2[po + i * so] = Math.exp(x2[px + i * sx]);
      return;
    case "tanh":
      for (let i = 0; i < n2; i++) o2[po + i * so] = Math.tanh(x2[px + i * sx]);
      return;
    case "neg":
      for (let i = 0; i < n2; i++) o2[po + i * so] = -x2[px + i * sx];
      return;
    case "square":
      for (let i = 0; i < n2; i++) {
        const v2 = x2[px + i * sx];
        o2[po + i * so] = v2 * v2;
      }
      return;
    case "relu":
      for (let i = 0; i < n2; i++) o2[po + i * so] = Math.max(x2[px + i * sx], 0);
      return;
    case "sqrt":
      for (let i = 0; i < n2; i++) o2[po + i * so] = Math.sqrt(x2[px + i * sx]);
      return;
    case "rsqrt":
      for (let i = 0; i < n2; i++) o2[po + i * so] = 1 / Math.sqrt(x2[px + i * sx]);
      return;
    case "log":
      for (let i = 0; i < n2; i++) o2[po + i * so] = Math.log(x2[px + i * sx]);
      return;
    default: {
      const f = UNARY_FNS[op];
      for (let i = 0; i < n2; i++) o2[po + i * so] = f(x2[px + i * sx]);
    }
  }
}
function unary3(op, x2, out) {
  if (!isF32(x2) || !isF32(out) || op === "logicalNot") return false;
  const src = aliasesDifferently(x2, out) ? detached(x2) : x2;
  const xb = src.buffer, ob = out.buffer;
  forEachRow(out.shape, [src, out], (offs, n2, inner) => unaryRow(op, xb, offs[0], inner[0], ob, offs[1], inner[1], n2));
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
  forEachRow(out.shape, [A, B, out], (offs, n2, inner) => {
    const pa = offs[0], pb = offs[1], po = offs[2], sa = inner[0], sb = inner[1], so = inner[2];
    switch (op) {
      case "add":
        for (let i = 0; i < n2; i++) ob[po + i * so] = ab[pa + i * sa] + bb[pb + i * sb];
        return;
      case "sub":
        for (let i = 0; i < n2; i++) ob[po + i * so] = ab[pa + i * sa] - bb[pb + i * sb];
        return;
      case "mul":
        for (let i = 0; i < n2; i++) ob[po + i * so] = ab[pa + i * sa] * bb[pb + i * sb];
        return;
      case "div":
        for (let i = 0; i < n2; i++) ob[po + i * so] = ab[pa + i * sa] / bb[pb + i * sb];
        return;
      default:
        for (let i = 0; i < n2; i++) ob[po + i * so] = f(ab[pa + i * sa], bb[pb + i * sb]);
    }
  });
  return true;
}
function where3(cond, a, b, out) {
  if (!isF32(a) || !isF32(b) || !isF32(out)) return false;
  const C2 = cond.buffer.buffer === out.buffer.buffer ? null : cond;
  if (!C2) return false;
  const A = aliasesDifferently(a, out) ? detached(a) : a;
  const B = aliasesDifferently(b, out) ? detached(b) : b;
  const cb = C2.buffer, ab = A.buffer, bb = B.buffer, ob = out.buffer;
  forEachRow(out.shape, [C2, A, B, out], (offs, n2, inner) => {
    const pc = offs[0], pa = offs[1], pb = offs[2], po = offs[3];
    const sc = inner[0], sa = inner[1], sb = inner[2], so = inner[3];
    for (let i = 0; i < n2; i++) ob[po + i * so] = cb[pc + i * sc] !== 0 ? ab[pa + i * sa] : bb[pb + i * sb];
  });
  return true;
}
function copyIsAssignment(from, to) {
  if (from.dtype === to.dtype) return true;
  return to.dtype === "float64" && from.dtype !== "bool" || to.dtype === "float32" && (from.dtype === "int32" || from.dtype === "float64");
}
function copyLoop(x2, out) {
  const xb = x2.buffer, ob = out.buffer;
  forEachRow(out.shape, [x2, out], (offs, n2, inner) => {
    const px = offs[0], po = offs[1], sx = inner[0], so = inner[1];
    if (sx === 1 && so === 1 && xb.constructor === ob.constructor) {
      ob.set(xb.subarray(px, px + n2), po);
    } else {
      for (let i = 0; i < n2; i++) ob[po + i * so] = xb[px + i * sx];
    }
  });
}
function copy3(x2, out) {
  if (!copyIsAssignment(x2, out)) return false;
  if (x2.buffer.buffer === out.buffer.buffer) {
    const n2 = numel(x2.shape);
    const tmp = new x2.buffer.constructor(n2);
    const t2 = { buffer: tmp, dtype: x2.dtype, shape: x2.shape, strides: contiguousStrides(x2.shape), offset: 0 };
    copyLoop(x2, t2);
    copyLoop(t2, out);
    return true;
  }
  copyLoop(x2, out);
  return true;
}
function fill3(out, value) {
  const v2 = convertTo(out.dtype, value);
  const ob = out.buffer;
  forEachRow(out.shape, [out], (offs, n2, inner) => {
    const po = offs[0], so = inner[0];
    if (so === 1) ob.fill(v2, po, po + n2);
    else for (let i = 0; i < n2; i++) ob[po + i * so] = v2;
  });
  return true;
}
var TWO_POW_322 = 4294967296;
var TWO_POW_M242 = 1 / 16777216;
var TWO_PI = 2 * Math.PI;
var W1 = 0;
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
      const m = s % 3;
      x0 = x0 + (m === 0 ? ks0 : m === 1 ? ks1 : ks2) >>> 0;
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
  const normal = distribution === "normal";
  let i = 0;
  forEachRow(out.shape, [out], (offs, n2, inner) => {
    const po = offs[0], so = inner[0];
    for (let j = 0; j < n2; j++, i++) {
      const c = offset + i;
      const w0 = threefry(k0, k1, k2, c >>> 0, Math.floor(c / TWO_POW_322) >>> 0);
      ob[po + j * so] = normal ? Math.sqrt(-2 * Math.log(((w0 >>> 8) + 1) * TWO_POW_M242)) * Math.cos(TWO_PI * ((W1 >>> 8) * TWO_POW_M242)) : (w0 >>> 8) * TWO_POW_M242;
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
  const nOut = numel(outShape);
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
  forEachRow(x2.shape, [x2, accView], (offs, n2, inner) => {
    const px = offs[0], pa = offs[1], sx = inner[0], sa = inner[1];
    if (sa === 0) {
      let r = acc[pa];
      switch (op) {
        case "sum":
          for (let i = 0; i < n2; i++) r += xb[px + i * sx];
          break;
        case "prod":
          for (let i = 0; i < n2; i++) r *= xb[px + i * sx];
          break;
        // Once r is NaN no comparison replaces it, so NaN propagates like the reference's.
        case "max":
          for (let i = 0; i < n2; i++) {
            const v2 = xb[px + i * sx];
            if (v2 > r || v2 !== v2) r = v2;
          }
          break;
        case "min":
          for (let i = 0; i < n2; i++) {
            const v2 = xb[px + i * sx];
            if (v2 < r || v2 !== v2) r = v2;
          }
          break;
      }
      acc[pa] = r;
    } else {
      switch (op) {
        case "sum":
          for (let i = 0; i < n2; i++) acc[pa + i * sa] += xb[px + i * sx];
          break;
        case "prod":
          for (let i = 0; i < n2; i++) acc[pa + i * sa] *= xb[px + i * sx];
          break;
        case "max":
          for (let i = 0; i < n2; i++) {
            const v2 = xb[px + i * sx], r = acc[pa + i * sa];
            if (v2 > r || v2 !== v2 && r === r) acc[pa + i * sa] = v2;
          }
          break;
        case "min":
          for (let i = 0; i < n2; i++) {
            const v2 = xb[px + i * sx], r = acc[pa + i * sa];
            if (v2 < r || v2 !== v2 && r === r) acc[pa + i * sa] = v2;
          }
          break;
      }
    }
  });
  copyLoop({ buffer: acc, dtype: "float64", shape: outShape, strides: contiguousStrides(outShape), offset: 0 }, out);
  return true;
}
var allF32Contiguous = (...vs) => vs.every((v2) => v2 === null || isF32(v2) && isContiguous(v2));
function softmaxBackward3(y, dy, out, log) {
  if (!allF32Contiguous(y, dy, out)) return false;
  const { rows, cols } = rowsOf(y.shape);
  const ys = y.buffer, gs = dy.buffer, dx2 = out.buffer;
  const oy = y.offset, og = dy.offset, oo = out.offset;
  const tmp = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let dot = 0, sum = 0;
    for (let j = 0; j < cols; j++) {
      const g = gs[og + base + j];
      dot += g * ys[oy + base + j];
      sum += g;
    }
    if (log) for (let j = 0; j < cols; j++) tmp[j] = gs[og + base + j] - Math.exp(ys[oy + base + j]) * sum;
    else for (let j = 0; j < cols; j++) tmp[j] = ys[oy + base + j] * (gs[og + base + j] - dot);
    for (let j = 0; j < cols; j++) dx2[oo + base + j] = tmp[j];
  }
  return true;
}
function layerNormBackward3(x2, weight, mean, rstd, dy, dx2, dweight, dbias) {
  if (!allF32Contiguous(x2, weight, mean, rstd, dy, dx2, dweight, dbias)) return false;
  const { rows, cols: D } = rowsOf(x2.shape);
  const xs = x2.buffer, gs = dy.buffer, out = dx2.buffer, ms = mean.buffer, rs_ = rstd.buffer;
  const ox = x2.offset, og = dy.offset, oo = dx2.offset;
  const w = new Float64Array(D).fill(1);
  if (weight) for (let j = 0; j < D; j++) w[j] = weight.buffer[weight.offset + j];
  const dw = new Float64Array(D), db = new Float64Array(D), xh = new Float64Array(D), g = new Float64Array(D);
  for (let r = 0; r < rows; r++) {
    const base = r * D;
    const mu = ms[mean.offset + r], rs = rs_[rstd.offset + r];
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
function checkTarget2(kernel, t2, C2, ignoreIndex) {
  if (t2 === ignoreIndex) return false;
  if (!(t2 >= 0 && t2 < C2)) {
    throw new RangeError(`${kernel}: target ${t2} is out of range for ${C2} classes (valid: 0..${C2 - 1}, or ignoreIndex ${ignoreIndex})`);
  }
  return true;
}
function classWeights(weight, C2) {
  const w = new Float64Array(C2).fill(1);
  if (weight) {
    const st = weight.shape.length === 0 ? 0 : weight.strides[0];
    for (let c = 0; c < C2; c++) w[c] = weight.buffer[weight.offset + c * st];
  }
  return w;
}
var vec1d = (v2) => v2.shape.length === 1;
function crossEntropy3(logits, targets, weight, opts, loss2, lse2) {
  if (!allF32Contiguous(logits) || logits.shape.length !== 2 || !vec1d(targets) || !vec1d(loss2) || !vec1d(lse2) || weight && !vec1d(weight) || !isFloat(loss2) || !isFloat(lse2)) return false;
  const [N2, C2] = [logits.shape[0], logits.shape[1]];
  const xs = logits.buffer, ox = logits.offset;
  const w = classWeights(weight, C2);
  const eps = opts.labelSmoothing;
  for (let n2 = 0; n2 < N2; n2++) {
    const base = ox + n2 * C2;
    let m = -Infinity;
    for (let c = 0; c < C2; c++) m = Math.max(m, xs[base + c]);
    let l = -Infinity;
    if (m !== -Infinity) {
      let s = 0;
      for (let c = 0; c < C2; c++) s += Math.exp(xs[base + c] - m);
      l = m + Math.log(s);
    }
    lse2.buffer[lse2.offset + n2 * lse2.strides[0]] = l;
    const t2 = targets.buffer[targets.offset + n2 * targets.strides[0]];
    let value = 0;
    if (checkTarget2("crossEntropy", t2, C2, opts.ignoreIndex)) {
      let smooth = 0;
      if (eps !== 0) for (let c = 0; c < C2; c++) smooth += w[c] * (l - xs[base + c]);
      value = (1 - eps) * w[t2] * (l - xs[base + t2]) + eps / C2 * smooth;
    }
    loss2.buffer[loss2.offset + n2 * loss2.strides[0]] = value;
  }
  return true;
}
function crossEntropyBackward3(logits, targets, weight, lse2, dloss, opts, dlogits) {
  if (!allF32Contiguous(logits, dlogits) || logits.shape.length !== 2 || !vec1d(targets) || !vec1d(lse2) || !vec1d(dloss) || weight && !vec1d(weight)) return false;
  const [N2, C2] = [logits.shape[0], logits.shape[1]];
  const xs = logits.buffer, ox = logits.offset, dx2 = dlogits.buffer, od = dlogits.offset;
  const w = classWeights(weight, C2);
  let W = 0;
  for (let c = 0; c < C2; c++) W += w[c];
  const eps = opts.labelSmoothing;
  const row = new Float64Array(C2);
  for (let n2 = 0; n2 < N2; n2++) {
    const t2 = targets.buffer[targets.offset + n2 * targets.strides[0]];
    if (!checkTarget2("crossEntropyBackward", t2, C2, opts.ignoreIndex)) {
      dx2.fill(0, od + n2 * C2, od + (n2 + 1) * C2);
      continue;
    }
    const l = lse2.buffer[lse2.offset + n2 * lse2.strides[0]];
    const gn = dloss.buffer[dloss.offset + n2 * dloss.strides[0]];
    const base = ox + n2 * C2;
    const hardW = (1 - eps) * w[t2];
    for (let c = 0; c < C2; c++) {
      const p = Math.exp(xs[base + c] - l);
      const hard = hardW * (p - (c === t2 ? 1 : 0));
      const smooth = eps / C2 * (W * p - w[c]);
      row[c] = gn * (hard + smooth);
    }
    for (let c = 0; c < C2; c++) dx2[od + n2 * C2 + c] = row[c];
  }
  return true;
}
function checkIndex2(kernel, i, size, dim) {
  if (!(i >= 0 && i < size)) {
    throw new RangeError(`${kernel}: index ${i} is out of range for dimension ${dim} of size ${size} (valid: 0..${size - 1})`);
  }
}
function readIndex1d2(kernel, index, size, dim) {
  const n2 = index.shape.length === 0 ? 1 : index.shape[0];
  const stride = index.shape.length === 0 ? 0 : index.strides[0];
  const values = new Int32Array(n2);
  for (let j = 0; j < n2; j++) {
    const i = index.buffer[index.offset + j * stride];
    checkIndex2(kernel, i, size, dim);
    values[j] = i;
  }
  return values;
}
function indexSelect3(x2, dim, index, out) {
  if (x2.dtype !== out.dtype || !isContiguous(x2) || !isContiguous(out) || x2.buffer.buffer === out.buffer.buffer || index.dtype !== "int32") return false;
  const idx = readIndex1d2("indexSelect", index, x2.shape[dim], dim);
  const outer = numel(x2.shape.slice(0, dim)), inner = numel(x2.shape.slice(dim + 1));
  const S = x2.shape[dim], L = idx.length;
  const xb = x2.buffer, ob = out.buffer;
  for (let o2 = 0; o2 < outer; o2++) {
    for (let j = 0; j < L; j++) {
      const src = x2.offset + (o2 * S + idx[j]) * inner, dst = out.offset + (o2 * L + j) * inner;
      if (inner >= 16) ob.set(xb.subarray(src, src + inner), dst);
      else for (let k = 0; k < inner; k++) ob[dst + k] = xb[src + k];
    }
  }
  return true;
}
function indexAdd3(out, dim, index, src) {
  if (!isF32(out) || !isF32(src) || !isContiguous(out) || !isContiguous(src) || src.buffer.buffer === out.buffer.buffer || index.dtype !== "int32") return false;
  const idx = readIndex1d2("indexAdd", index, out.shape[dim], dim);
  const outer = numel(out.shape.slice(0, dim)), inner = numel(out.shape.slice(dim + 1));
  const S = out.shape[dim], L = idx.length;
  const ob = out.buffer, sb = src.buffer;
  for (let o2 = 0; o2 < outer; o2++) {
    for (let i = 0; i < L; i++) {
      const d = out.offset + (o2 * S + idx[i]) * inner, s = src.offset + (o2 * L + i) * inner;
      for (let k = 0; k < inner; k++) ob[d + k] += sb[s + k];
    }
  }
  return true;
}

// packages/kernels/src/wasm/elementwise_program.ts
var BINARY_FAST_OPS = ["add", "sub", "mul", "div"];
var VEC = {
  add: (f, a, b) => f.f32x4Add(a, b),
  sub: (f, a, b) => f.f32x4Sub(a, b),
  mul: (f, a, b) => f.f32x4Mul(a, b),
  div: (f, a, b) => f.f32x4Div(a, b)
};
var SCALAR = {
  add: (f, a, b) => f.f32Add(a, b),
  sub: (f, a, b) => f.f32Sub(a, b),
  mul: (f, a, b) => f.f32Mul(a, b),
  div: (f, a, b) => f.f32Div(a, b)
};
function addBinary(m) {
  for (const op of BINARY_FAST_OPS) {
    m.func(
      `binary_${op}`,
      ["i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32"],
      null,
      (f, a, ia, ra, b, ib, rb, out, n2, rows) => {
        const r = f.local("i32"), j = f.local("i32"), ap = f.local("i32"), bp = f.local("i32"), op_ = f.local("i32");
        const vecEnd = f.local("i32");
        const av = f.local("v128"), bv = f.local("v128");
        f.set(vecEnd, f.sub(f.get(n2), f.i32(3)));
        const rowLoop = (aInner, bInner) => {
          f.forRange(r, () => f.i32(0), () => f.get(rows), 1, () => {
            f.set(ap, f.add(f.get(a), f.mul(f.get(r), f.get(ra))));
            f.set(bp, f.add(f.get(b), f.mul(f.get(r), f.get(rb))));
            f.set(op_, f.add(f.get(out), f.shl(f.mul(f.get(r), f.get(n2)), f.i32(2))));
            if (!aInner) f.set(av, f.v128Load32Splat(f.get(ap)));
            if (!bInner) f.set(bv, f.v128Load32Splat(f.get(bp)));
            const at = (base) => f.add(f.get(base), f.shl(f.get(j), f.i32(2)));
            f.forRange(j, () => f.i32(0), () => f.get(vecEnd), 4, () => {
              f.v128Store(at(op_), VEC[op](f, aInner ? f.v128Load(at(ap)) : f.get(av), bInner ? f.v128Load(at(bp)) : f.get(bv)));
            });
            f.set(j, f.and(f.get(n2), f.i32(~3)));
            f.block((exit) => {
              f.brIf(exit, f.geS(f.get(j), f.get(n2)));
              f.loop((top) => {
                f.f32Store(at(op_), SCALAR[op](f, f.f32Load(aInner ? at(ap) : f.get(ap)), f.f32Load(bInner ? at(bp) : f.get(bp))));
                f.set(j, f.add(f.get(j), f.i32(1)));
                f.brIf(top, f.ltS(f.get(j), f.get(n2)));
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
var ADAMW_PARAMS = ["lrTimesWd", "beta1", "oneMinusBeta1", "beta2", "oneMinusBeta2", "bc1", "bc2", "lr", "eps"];
function addAdamW(m) {
  m.func("adamw", ["i32", "i32", "i32", "i32", "i32", "i32"], null, (f, p, g, mm, vv, n2, params) => {
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
    f.forRange(i, () => f.i32(0), () => f.get(n2), 2, () => {
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

// packages/kernels/src/wasm/matmul_program.ts
var MR = 4;
var NR = 8;
var KC = 256;
var MC = 128;
var NC = 1024;
var PACK_A_BYTES = MC * KC * 4;
var PACK_B_BYTES = KC * NC * 4;
var TILE_BYTES = MR * NR * 4;
var SGEMM_SCRATCH_BYTES = PACK_A_BYTES + PACK_B_BYTES + TILE_BYTES;
function addMatmul(m) {
  const packB = addPackB(m);
  const packA = addPackA(m);
  const micro = addMicroKernel(m);
  return m.func(
    "sgemm",
    ["i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32"],
    null,
    (f, a, rsa, csa, b, rsb, csb, c, ldc, M, N2, K, scratch) => {
      const jc = f.local("i32"), pc = f.local("i32"), ic = f.local("i32"), jr = f.local("i32"), ir = f.local("i32");
      const nc = f.local("i32"), kc = f.local("i32"), mc = f.local("i32");
      const pa = f.local("i32"), pb = f.local("i32"), tile = f.local("i32"), acc = f.local("i32");
      const cTile = f.local("i32");
      f.set(pa, f.get(scratch));
      f.set(pb, f.add(f.get(scratch), f.i32(PACK_A_BYTES)));
      f.set(tile, f.add(f.get(pb), f.i32(PACK_B_BYTES)));
      f.forRange(jc, () => f.i32(0), () => f.get(N2), NC, () => {
        minInto(f, nc, f.sub(f.get(N2), f.get(jc)), NC);
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
function addPackB(m) {
  return m.func("sgemm_pack_b", ["i32", "i32", "i32", "i32", "i32", "i32"], null, (f, src, rs, cs, kc, nc, dst) => {
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
function addPackA(m) {
  return m.func("sgemm_pack_a", ["i32", "i32", "i32", "i32", "i32", "i32"], null, (f, src, rs, cs, mc, kc, dst) => {
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
function addMicroKernel(m) {
  return m.func(
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

// packages/kernels/src/wasm/emitter.ts
var VALTYPE_CODE = { i32: 127, i64: 126, f32: 125, f64: 124, v128: 123 };
var VAL = {
  i32: { type: "i32" },
  i64: { type: "i64" },
  f32: { type: "f32" },
  f64: { type: "f64" },
  v128: { type: "v128" }
};
var ByteWriter = class {
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
  u32(v2) {
    let x2 = v2 >>> 0;
    do {
      let byte = x2 & 127;
      x2 >>>= 7;
      if (x2 !== 0) byte |= 128;
      this.u8(byte);
    } while (x2 !== 0);
    return this;
  }
  /** Signed LEB128 (32-bit): stop once the remaining bits are all copies of the sign bit. */
  s32(v2) {
    let x2 = v2 | 0;
    for (; ; ) {
      const byte = x2 & 127;
      x2 >>= 7;
      const done = x2 === 0 && (byte & 64) === 0 || x2 === -1 && (byte & 64) !== 0;
      this.u8(done ? byte : byte | 128);
      if (done) return this;
    }
  }
  f32(v2) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v2, true);
    return this.bytes(b);
  }
  f64(v2) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v2, true);
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
var ALIGN = { 1: 0, 2: 1, 4: 2, 8: 3, 16: 4 };
var FuncBuilder = class {
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
    for (const t2 of this.localTypes) w.u32(1).u8(VALTYPE_CODE[t2]);
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
  i32(v2) {
    this.code.u8(65).s32(v2);
    return VAL.i32;
  }
  f32(v2) {
    this.code.u8(67).f32(v2);
    return VAL.f32;
  }
  f64(v2) {
    this.code.u8(68).f64(v2);
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
var ModuleBuilder = class {
  constructor(memory) {
    this.memory = memory;
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
    const section = (id, fill4) => {
      const w = new ByteWriter();
      fill4(w);
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

// packages/kernels/src/wasm/rows_program.ts
var LOG2E = 1.4426950408889634;
var LN2_HI = 0.693359375;
var LN2_LO = -21219444e-11;
var EXP_LO = -87.33;
var EXP_HI = 88.37;
var splat4 = (c) => [c, c, c, c];
function emitExp(f, x2, out, t2, n2) {
  f.set(t2, f.f32x4Min(f.f32x4Max(f.get(x2), f.v128Const(splat4(EXP_LO))), f.v128Const(splat4(EXP_HI))));
  f.set(n2, f.f32x4Nearest(f.f32x4Mul(f.get(t2), f.v128Const(splat4(LOG2E)))));
  f.set(t2, f.f32x4Sub(f.get(t2), f.f32x4Mul(f.get(n2), f.v128Const(splat4(LN2_HI)))));
  f.set(t2, f.f32x4Sub(f.get(t2), f.f32x4Mul(f.get(n2), f.v128Const(splat4(LN2_LO)))));
  const coef = [1 / 5040, 1 / 720, 1 / 120, 1 / 24, 1 / 6, 1 / 2, 1, 1];
  f.set(out, f.v128Const(splat4(coef[0])));
  for (let i = 1; i < coef.length; i++) {
    f.set(out, f.f32x4Add(f.f32x4Mul(f.get(out), f.get(t2)), f.v128Const(splat4(coef[i]))));
  }
  f.set(n2, f.i32x4Shl(f.i32x4Add(f.i32x4TruncSatF32x4S(f.get(n2)), f.i32x4Splat(f.i32(127))), f.i32(23)));
  f.set(out, f.f32x4Mul(f.get(out), f.get(n2)));
  f.set(out, f.v128AndNot(f.get(out), f.f32x4Lt(f.get(x2), f.v128Const(splat4(EXP_LO)))));
}
function hsum(f, v2) {
  return f.f32Add(
    f.f32Add(f.f32x4ExtractLane(f.get(v2), 0), f.f32x4ExtractLane(f.get(v2), 1)),
    f.f32Add(f.f32x4ExtractLane(f.get(v2), 2), f.f32x4ExtractLane(f.get(v2), 3))
  );
}
function addSoftmax(m, logImport) {
  return m.func("softmax_rows", ["i32", "i32", "i32", "i32", "i32"], null, (f, x2, out, rows, cols, log) => {
    const r = f.local("i32"), j = f.local("i32"), xr = f.local("i32"), yr = f.local("i32"), vecEnd = f.local("i32");
    const mx = f.local("f32"), s = f.local("f32"), ls = f.local("f32");
    const v2 = f.local("v128"), acc = f.local("v128"), e = f.local("v128"), t2 = f.local("v128"), n2 = f.local("v128");
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
        f.set(v2, f.f32x4Sub(f.v128Load(f.add(f.get(xr), f.shl(f.get(j), f.i32(2)))), f.get(vm)));
        emitExp(f, v2, e, t2, n2);
        f.if_(f.eqz(f.get(log)), () => f.v128Store(f.add(f.get(yr), f.shl(f.get(j), f.i32(2))), f.get(e)));
        f.set(acc, f.f32x4Add(f.get(acc), f.get(e)));
      });
      f.set(s, hsum(f, acc));
      tail(f, j, cols, () => {
        f.set(v2, f.f32x4Splat(f.f32Sub(f.f32Load(f.add(f.get(xr), f.shl(f.get(j), f.i32(2)))), f.get(mx))));
        emitExp(f, v2, e, t2, n2);
        f.if_(f.eqz(f.get(log)), () => f.f32Store(f.add(f.get(yr), f.shl(f.get(j), f.i32(2))), f.f32x4ExtractLane(f.get(e), 0)));
        f.set(s, f.f32Add(f.get(s), f.f32x4ExtractLane(f.get(e), 0)));
      });
      f.if_(f.get(log), () => {
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
        f.set(v2, f.f32x4Splat(f.get(s)));
        f.forRange(j, () => f.i32(0), () => f.get(vecEnd), 4, () => {
          f.v128Store(
            f.add(f.get(yr), f.shl(f.get(j), f.i32(2))),
            f.f32x4Div(f.v128Load(f.add(f.get(yr), f.shl(f.get(j), f.i32(2)))), f.get(v2))
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
function addLayerNorm(m) {
  return m.func(
    "layernorm_rows",
    ["i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32"],
    null,
    (f, x2, w, b, out, mean, rstd, rows, D, params) => {
      const r = f.local("i32"), j = f.local("i32"), xr = f.local("i32"), yr = f.local("i32"), vecEnd = f.local("i32");
      const mu = f.local("f32"), s = f.local("f32"), rs = f.local("f32"), d = f.local("f32"), eps = f.local("f64");
      const acc = f.local("v128"), v2 = f.local("v128"), vmu = f.local("v128"), vrs = f.local("v128");
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
          f.set(v2, f.f32x4Sub(f.v128Load(addr(xr)), f.get(vmu)));
          f.set(acc, f.f32x4Add(f.get(acc), f.f32x4Mul(f.get(v2), f.get(v2))));
        });
        f.set(s, hsum(f, acc));
        tail(f, j, D, () => {
          f.set(v2, f.f32x4Splat(f.f32Sub(f.f32Load(addr(xr)), f.get(mu))));
          f.set(s, f.f32Add(f.get(s), f.f32x4ExtractLane(f.f32x4Mul(f.get(v2), f.get(v2)), 0)));
        });
        f.set(rs, f.f32DemoteF64(f.f64Div(f.f64(1), f.f64Sqrt(f.f64Add(f.f64PromoteF32(f.f32Div(f.get(s), f.get(d))), f.get(eps))))));
        f.f32Store(f.add(f.get(mean), f.shl(f.get(r), f.i32(2))), f.get(mu));
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

// packages/kernels/src/wasm/module.ts
var WASM_EXPORTS = [
  "sgemm",
  "binary_add",
  "binary_sub",
  "binary_mul",
  "binary_div",
  "softmax_rows",
  "layernorm_rows",
  "adamw"
];
var MAX_PAGES = 65536;
var WASM_IMPORTS = { log: Math.log };
function buildKernelModule(shared) {
  const m = new ModuleBuilder({ initialPages: 1, maximumPages: MAX_PAGES, shared });
  const log = m.importFunc("log", ["f64"], "f64");
  addMatmul(m);
  addBinary(m);
  addSoftmax(m, log);
  addLayerNorm(m);
  addAdamW(m);
  return m.toBytes();
}

// packages/kernels/src/wasm/threads.ts
var MAX_THREADS = 64;
var SLOT_WORDS = 256;
var HEADER = 4;
var CTL_BYTES = MAX_THREADS * SLOT_WORDS * 4;
var PENDING = 0;
var ERROR = 1;
var READY = 2;
var WORKER_SOURCE = `
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
var nodeWorkers = null;
var nodeOs = null;
var isNode = typeof process !== "undefined" && !!process.versions?.node;
var nodeModulesReady = isNode ? Promise.all([
  import(
    /* @vite-ignore */
    "node:worker_threads"
  ).then((m) => {
    nodeWorkers = m;
  }, () => {
  }),
  import(
    /* @vite-ignore */
    "node:os"
  ).then((m) => {
    nodeOs = m;
  }, () => {
  })
]).then(() => {
}) : Promise.resolve();
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
  let n2 = 1;
  if (nodeOs) n2 = typeof nodeOs.availableParallelism === "function" ? nodeOs.availableParallelism() : nodeOs.cpus().length;
  else if (typeof navigator !== "undefined" && navigator.hardwareConcurrency) n2 = navigator.hardwareConcurrency;
  return Math.max(1, Math.min(n2, MAX_THREADS));
}
var ThreadPool = class {
  constructor(module, memory, names) {
    this.module = module;
    this.memory = memory;
    this.names = names;
    this.ctl = new Int32Array(memory.buffer, 0, CTL_BYTES / 4);
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
  ensureWorkers(n2) {
    while (this.workers.length < Math.min(n2, MAX_THREADS - 1)) {
      const slot = this.workers.length + 1;
      Atomics.store(this.ctl, slot * SLOT_WORDS, 0);
      const data = {
        module: this.module,
        memory: this.memory,
        names: this.names,
        slot,
        slotWords: SLOT_WORDS,
        ctlWords: CTL_BYTES / 4
      };
      if (nodeWorkers) {
        const w = new nodeWorkers.Worker(WORKER_SOURCE, { eval: true, workerData: data });
        w.unref();
        this.workers.push(w);
      } else {
        const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "text/javascript" }));
        const w = new Worker(url);
        w.postMessage(data);
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
      for (let t2 = 1; t2 < perThread.length; t2++) if (perThread[t2].length > lo) pending++;
      Atomics.store(ctl, PENDING, pending);
      for (let t2 = 1; t2 < perThread.length; t2++) {
        const list = perThread[t2];
        if (list.length <= lo) continue;
        const base = t2 * SLOT_WORDS;
        const part = list.slice(lo, hi);
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
        for (let v2 = Atomics.load(ctl, PENDING); v2 !== 0; v2 = Atomics.load(ctl, PENDING)) Atomics.wait(ctl, PENDING, v2);
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

// packages/kernels/src/wasm/runtime.ts
var PAGE = 65536;
var WasmRuntime = class {
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
    this.fns = WASM_EXPORTS.map((n2) => instance.exports[n2]);
    this.threads = 1;
    this.f32View = new Float32Array(this.memory.buffer);
    this.f64View = new Float64Array(this.memory.buffer);
    this.setThreads(opts.threads ?? defaultThreadCount());
  }
  /** Threads kernels may use (1 where memory cannot be shared). */
  get numThreads() {
    return this.threads;
  }
  setThreads(n2) {
    if (!Number.isInteger(n2) || n2 < 1) throw new RangeError(`setNumThreads: expected a positive integer, got ${n2}`);
    this.threads = this.shared ? Math.min(n2, MAX_THREADS) : 1;
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
      for (const list of perThread) for (let p = 0; p < list.length; p += argc) callMain(list.slice(p, p + argc));
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
var runtime = null;
var wantedThreads = null;
function wasmRuntime() {
  if (!runtime) runtime = new WasmRuntime(wantedThreads === null ? {} : { threads: wantedThreads });
  return runtime;
}
void nodeModulesReady.then(() => {
  if (runtime && !runtime.shared && canShareMemory()) runtime = null;
});

// packages/kernels/src/wasm/kernels.ts
var FAST_CPU_CONFIG = {
  /** Multiply-adds below which a matmul runs on one thread. */
  matmulParallelMin: 1 << 20,
  /** Elements below which a memory-bound kernel runs on one thread. */
  elementwiseParallelMin: 1 << 17
};
var { isF32: isF322, isContiguous: isContiguous2 } = js_kernels_exports;
function splitRange(n2, parts, align) {
  const out = [];
  let prev = 0;
  for (let i = 1; i <= parts; i++) {
    const end = i === parts ? n2 : Math.min(n2, Math.round(i * n2 / parts / align) * align);
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
  const n2 = rows * cols;
  if ((cols === 1 || cs === 1) && (rows === 1 || rs === cols)) {
    heap.set(src.subarray(off, off + n2), d);
    return [cols * 4, 4];
  }
  if ((rows === 1 || rs === 1) && (cols === 1 || cs === rows)) {
    heap.set(src.subarray(off, off + n2), d);
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
function batchOffsets(v2, batchShape) {
  const offs = [];
  forEachIndex(batchShape, (bi) => {
    let o2 = v2.offset;
    for (let d = 0; d < bi.length; d++) o2 += bi[d] * v2.strides[d];
    offs.push(o2);
  });
  if (batchShape.length === 0) offs.push(v2.offset);
  return offs;
}
function matmul3(a, b, out) {
  if (!isF322(a) || !isF322(b) || !isF322(out)) return cpuKernels.matmul(a, b, out);
  const r = out.shape.length;
  const M = out.shape[r - 2], N2 = out.shape[r - 1], K = a.shape[r - 1];
  if (N2 > 1 && out.strides[r - 1] !== 1) return cpuKernels.matmul(a, b, out);
  if (M === 0 || N2 === 0) return;
  if (K === 0) return cpuKernels.fill(out, 0);
  const batchShape = out.shape.slice(0, r - 2);
  const nb = numel(batchShape);
  if (nb === 0) return;
  const rt = wasmRuntime();
  rt.reset();
  const offA = batchOffsets(a, batchShape), offB = batchOffsets(b, batchShape), offO = batchOffsets(out, batchShape);
  const ptrA = /* @__PURE__ */ new Map(), ptrB = /* @__PURE__ */ new Map();
  for (const o2 of offA) if (!ptrA.has(o2)) ptrA.set(o2, rt.alloc(M * K * 4));
  for (const o2 of offB) if (!ptrB.has(o2)) ptrB.set(o2, rt.alloc(K * N2 * 4));
  const c = rt.alloc(nb * M * N2 * 4);
  const threads = M * N2 * K * nb >= FAST_CPU_CONFIG.matmulParallelMin ? rt.numThreads : 1;
  const scratch = rt.alloc(threads * SGEMM_SCRATCH_BYTES);
  const heap = rt.f32();
  const [saM, saK] = [a.strides[r - 2], a.strides[r - 1]];
  const [sbK, sbN] = [b.strides[r - 2], b.strides[r - 1]];
  let la = [K * 4, 4], lb = [N2 * 4, 4];
  for (const [o2, p2] of ptrA) la = copyMatrix(heap, p2, a.buffer, o2, M, K, saM, saK);
  for (const [o2, p2] of ptrB) lb = copyMatrix(heap, p2, b.buffer, o2, K, N2, sbK, sbN);
  const [rsa, csa] = la, [rsb, csb] = lb;
  const p = threads / gcd(nb, threads);
  const alongN = N2 >= M;
  const parts = splitRange(alongN ? N2 : M, p, alongN ? NR : MR);
  const blocks = [];
  for (let bi = 0; bi < nb; bi++) {
    const ap = ptrA.get(offA[bi]), bp = ptrB.get(offB[bi]), cp = c + bi * M * N2 * 4;
    for (const [lo, hi] of parts) {
      const [m0, m1, n0, n1] = alongN ? [0, M, lo, hi] : [lo, hi, 0, N2];
      blocks.push([ap + m0 * rsa, rsa, csa, bp + n0 * csb, rsb, csb, cp + (m0 * N2 + n0) * 4, N2 * 4, m1 - m0, n1 - n0, K]);
    }
  }
  const perThread = Array.from({ length: threads }, () => []);
  const per = blocks.length / threads;
  blocks.forEach((blk, i) => {
    const t2 = Math.floor(i / per);
    if (blk[8] > 0 && blk[9] > 0) perThread[t2].push(...blk, scratch + t2 * SGEMM_SCRATCH_BYTES);
  });
  rt.parallel("sgemm", 12, perThread);
  const res = rt.f32();
  const soM = out.strides[r - 2];
  if (isContiguous2(out)) {
    out.buffer.set(res.subarray(c >> 2, (c >> 2) + nb * M * N2), out.offset);
  } else {
    for (let bi = 0; bi < nb; bi++) {
      const src = (c >> 2) + bi * M * N2;
      if (M === 1 || soM === N2) out.buffer.set(res.subarray(src, src + M * N2), offO[bi]);
      else for (let i = 0; i < M; i++) out.buffer.set(res.subarray(src + i * N2, src + (i + 1) * N2), offO[bi] + i * soM);
    }
  }
}
function rowPattern(v2, shape, s) {
  const r = shape.length;
  const innerShape = shape.slice(s);
  const ics = contiguousStrides(innerShape);
  let contiguous = true, broadcast = true;
  for (let d = s; d < r; d++) {
    if (shape[d] <= 1) continue;
    if (v2.strides[d] !== ics[d - s]) contiguous = false;
    if (v2.strides[d] !== 0) broadcast = false;
  }
  if (!contiguous && !broadcast) return null;
  const outer = shape.slice(0, s);
  const cs = contiguousStrides(outer);
  let ro = null;
  for (let d = 0; d < s; d++) {
    if (outer[d] <= 1) continue;
    const st = v2.strides[d];
    if (st % cs[d] !== 0) return null;
    const k = st / cs[d];
    if (ro === null) ro = k;
    else if (ro !== k) return null;
  }
  return { inner: contiguous ? 1 : 0, ro: ro ?? 0 };
}
function binarySlow(op, a, b, out) {
  if (!binary3(op, a, b, out)) cpuKernels.binary(op, a, b, out);
}
function binary4(op, a, b, out) {
  if (!BINARY_FAST_OPS.includes(op) || !isF322(a) || !isF322(b) || !isF322(out) || !isContiguous2(out)) {
    return binarySlow(op, a, b, out);
  }
  const total = numel(out.shape);
  if (total === 0) return;
  const r = out.shape.length;
  let rows = 1, n2 = total, pa = null, pb = null;
  for (let s = 0; s < Math.max(r, 1); s++) {
    pa = rowPattern(a, out.shape, s);
    pb = rowPattern(b, out.shape, s);
    if (pa && pb) {
      n2 = numel(out.shape.slice(s));
      rows = total / n2;
      break;
    }
  }
  if (!pa || !pb) return binarySlow(op, a, b, out);
  const span = (p) => (rows - 1) * p.ro + (p.inner ? n2 : 1);
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
    for (const [lo, hi] of splitRange(n2, threads, 4)) {
      perThread.push(hi > lo ? [ap + lo * 4 * pa.inner, pa.inner, 0, bp + lo * 4 * pb.inner, pb.inner, 0, op_ + lo * 4, hi - lo, 1] : []);
    }
  } else {
    for (const [lo, hi] of splitRange(rows, threads, 1)) {
      perThread.push(hi > lo ? [ap + lo * pa.ro * 4, pa.inner, pa.ro * 4, bp + lo * pb.ro * 4, pb.inner, pb.ro * 4, op_ + lo * n2 * 4, n2, hi - lo] : []);
    }
  }
  rt.parallel(`binary_${op}`, 9, perThread);
  out.buffer.set(rt.f32().subarray(op_ >> 2, (op_ >> 2) + total), out.offset);
}
function rowSplit(rt, rows, cols) {
  const threads = rows * cols >= FAST_CPU_CONFIG.elementwiseParallelMin ? Math.min(rt.numThreads, rows) : 1;
  return splitRange(rows, threads, 1);
}
function softmax3(x2, out, log) {
  if (!isF322(x2) || !isF322(out) || !isContiguous2(x2) || !isContiguous2(out)) return cpuKernels.softmax(x2, out, log);
  const { rows, cols } = rowsOf(x2.shape);
  const total = rows * cols;
  if (total === 0) return;
  const rt = wasmRuntime();
  rt.reset();
  const xp = rt.alloc(total * 4), yp = rt.alloc(total * 4);
  rt.f32().set(x2.buffer.subarray(x2.offset, x2.offset + total), xp >> 2);
  const perThread = rowSplit(rt, rows, cols).map(([lo, hi]) => hi > lo ? [xp + lo * cols * 4, yp + lo * cols * 4, hi - lo, cols, log ? 1 : 0] : []);
  rt.parallel("softmax_rows", 5, perThread);
  out.buffer.set(rt.f32().subarray(yp >> 2, (yp >> 2) + total), out.offset);
}
function layerNorm3(x2, weight, bias, eps, out, mean, rstd) {
  const ok = (v2) => v2 === null || isF322(v2) && isContiguous2(v2);
  if (!isF322(x2) || !isContiguous2(x2) || !isF322(out) || !isContiguous2(out) || !ok(weight) || !ok(bias) || !isF322(mean) || !isContiguous2(mean) || !isF322(rstd) || !isContiguous2(rstd)) {
    return cpuKernels.layerNorm(x2, weight, bias, eps, out, mean, rstd);
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
  mean.buffer.set(res.subarray(mp >> 2, (mp >> 2) + rows), mean.offset);
  rstd.buffer.set(res.subarray(rp >> 2, (rp >> 2) + rows), rstd.offset);
}
function adamw3(param, grad, m, v2, opts) {
  const views = [param, grad, m, v2];
  if (!views.every((x2) => isF322(x2) && isContiguous2(x2))) return cpuKernels.adamw(param, grad, m, v2, opts);
  const n2 = numel(param.shape);
  if (n2 === 0) return;
  const rt = wasmRuntime();
  rt.reset();
  const ptrs = views.map(() => rt.alloc(n2 * 4));
  const params = rt.alloc(ADAMW_PARAMS.length * 8);
  const heap = rt.f32();
  views.forEach((x2, i) => heap.set(x2.buffer.subarray(x2.offset, x2.offset + n2), ptrs[i] >> 2));
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
  const threads = n2 >= FAST_CPU_CONFIG.elementwiseParallelMin ? rt.numThreads : 1;
  const padded = n2 + (n2 & 1);
  const perThread = splitRange(padded, threads, 2).map(([lo, hi]) => hi > lo ? [...ptrs.map((p) => p + lo * 4), hi - lo, params] : []);
  rt.parallel("adamw", 6, perThread);
  const res = rt.f32();
  for (const i of [0, 2, 3]) views[i].buffer.set(res.subarray(ptrs[i] >> 2, (ptrs[i] >> 2) + n2), views[i].offset);
}
var f32View = (buffer, shape, strides) => ({ buffer, dtype: "float32", shape, strides: strides ?? contiguousStrides(shape), offset: 0 });
var swapLast = (v2) => ({
  ...v2,
  shape: [v2.shape[0], v2.shape[1], v2.shape[3], v2.shape[2]],
  strides: [v2.strides[0], v2.strides[1], v2.strides[3], v2.strides[2]]
});
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
      let m = -Infinity;
      for (let j = 0; j < lim; j++) if (z[j] > m) m = z[j];
      if (m === -Infinity) {
        l = -Infinity;
      } else {
        let sum = 0;
        for (let j = 0; j < lim; j++) sum += Math.exp(z[j] - m);
        l = m + Math.log(sum);
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
function attentionFast(q, k, v2, mask, out) {
  return q.shape.length === 4 && isF322(q) && isF322(k) && isF322(v2) && isF322(out) && (mask === null || isF322(mask)) && numel(q.shape) > 0 && numel(k.shape) > 0 && q.shape[3] > 0 && v2.shape[3] > 0;
}
function attention3(q, k, v2, mask, opts, out, lse2) {
  if (!attentionFast(q, k, v2, mask, out) || !(lse2.dtype === "float32" || lse2.dtype === "float64")) {
    return cpuKernels.attention(q, k, v2, mask, opts, out, lse2);
  }
  const [B, H, Tq] = q.shape;
  const Tk = k.shape[2];
  const s = new Float32Array(B * H * Tq * Tk);
  matmul3(q, swapLast(k), f32View(s, [B, H, Tq, Tk]));
  const l = new Float64Array(B * H * Tq);
  probabilities(s, B, H, Tq, Tk, mask, opts, null, l);
  matmul3(f32View(s, [B, H, Tq, Tk]), v2, out);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < Tq; i++) {
    lse2.buffer[lse2.offset + b * lse2.strides[0] + h * lse2.strides[1] + i * lse2.strides[2]] = l[(b * H + h) * Tq + i];
  }
}
function attentionBackward3(q, k, v2, mask, opts, out, lse2, dout, dq, dk, dv) {
  if (!attentionFast(q, k, v2, mask, out) || !isF322(dout) || !isF322(dq) || !isF322(dk) || !isF322(dv) || !(lse2.dtype === "float32" || lse2.dtype === "float64")) {
    return cpuKernels.attentionBackward(q, k, v2, mask, opts, out, lse2, dout, dq, dk, dv);
  }
  const [B, H, Tq] = q.shape;
  const Tk = k.shape[2], Dv = v2.shape[3];
  const p = new Float32Array(B * H * Tq * Tk);
  matmul3(q, swapLast(k), f32View(p, [B, H, Tq, Tk]));
  probabilities(p, B, H, Tq, Tk, mask, opts, lse2, new Float64Array(0));
  matmul3(f32View(p, [B, H, Tk, Tq], [H * Tq * Tk, Tq * Tk, 1, Tk]), dout, dv);
  const ds = new Float32Array(B * H * Tq * Tk);
  matmul3(dout, swapLast(v2), f32View(ds, [B, H, Tq, Tk]));
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
var fastCpuKernels = {
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

// mb.ts
var n = 12 * 64 * 512;
var x = new Float32Array(n).map((_, i) => Math.sin(i) * 3);
var v = (b, shape) => ({ buffer: b, dtype: "float32", shape, strides: [32768, 512, 1], offset: 0 });
var o = new Float32Array(n);
for (const op of ["gelu", "erf", "exp", "neg"]) {
  let best = 1e9;
  for (let r = 0; r < 15; r++) {
    const t0 = performance.now();
    fastCpuKernels.unary(op, v(x, [12, 64, 512]), v(o, [12, 64, 512]));
    best = Math.min(best, performance.now() - t0);
  }
  console.log(op, best.toFixed(2));
}
var N = 768;
var C = 65;
var lg = new Float32Array(N * C).map((_, i) => Math.cos(i));
var t = new Int32Array(N).map((_, i) => i % C);
var lse = new Float32Array(N);
var loss = new Float32Array(N);
var dl = new Float32Array(N).fill(1 / N);
var dx = new Float32Array(N * C);
var V2 = (b, shape, dtype = "float32") => ({ buffer: b, dtype, shape, strides: shape.length === 2 ? [shape[1], 1] : [1], offset: 0 });
for (let r = 0; r < 6; r++) {
  const t0 = performance.now();
  fastCpuKernels.crossEntropy(V2(lg, [N, C]), V2(t, [N], "int32"), null, { ignoreIndex: -100, labelSmoothing: 0 }, V2(loss, [N]), V2(lse, [N]));
  fastCpuKernels.crossEntropyBackward(V2(lg, [N, C]), V2(t, [N], "int32"), null, V2(lse, [N]), V2(dl, [N]), { ignoreIndex: -100, labelSmoothing: 0 }, V2(dx, [N, C]));
  console.log("ce", (performance.now() - t0).toFixed(2));
}
