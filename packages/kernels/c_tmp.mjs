// src/webgpu/errors.ts
var WebGPUUnavailableError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "WebGPUUnavailableError";
  }
};
var WebGPUOutOfMemoryError = class extends Error {
  requestedBytes;
  constructor(requestedBytes, detail) {
    super(`WebGPU out of memory: could not allocate ${requestedBytes} bytes (${detail}). Dispose tensors you no longer need (tidy(), using, dispose()) or use smaller batches.`);
    this.name = "WebGPUOutOfMemoryError";
    this.requestedBytes = requestedBytes;
  }
};
var WebGPUDeviceLostError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "WebGPUDeviceLostError";
  }
};
var WebGPUValidationError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "WebGPUValidationError";
  }
};
var WebGPUDTypeError = class extends TypeError {
  constructor(message) {
    super(message);
    this.name = "WebGPUDTypeError";
  }
};

// src/webgpu/dtype.ts
var WGSL_STORAGE_TYPE = { float32: "f32", int32: "i32", bool: "u32" };
function gpuDType(op, dtype) {
  if (dtype === "float64") {
    throw new WebGPUDTypeError(`${op}: float64 is not supported on the WebGPU backend (WGSL has no f64); cast to float32 first, or run this op on the cpu backend`);
  }
  return dtype;
}

// src/webgpu/elementwise_ops.ts
var UNARY_EXPR = {
  neg: { f: "-x", i: "-x", result: "same" },
  abs: { f: "abs(x)", i: "abs(x)", result: "same" },
  sign: { f: "select(sign(x), x, is_nan(x))", i: "sign(x)", result: "same" },
  exp: { f: "exp(x)", result: "same" },
  expm1: { f: "expm1_(x)", result: "same" },
  log: { f: "log_(x)", result: "same" },
  log1p: { f: "log1p_(x)", result: "same" },
  sqrt: { f: "sqrt_(x)", result: "same" },
  rsqrt: { f: "1.0 / sqrt_(x)", result: "same" },
  square: { f: "x * x", i: "x * x", result: "same" },
  reciprocal: { f: "1.0 / x", result: "same" },
  sin: { f: "sin(x)", result: "same" },
  cos: { f: "cos(x)", result: "same" },
  tanh: { f: "tanh_(x)", result: "same" },
  sigmoid: { f: "sigmoid_(x)", result: "same" },
  relu: { f: "select(x, 0.0, x < 0.0)", i: "max(x, 0)", result: "same" },
  gelu: { f: "0.5 * x * (1.0 + erf_(x * 0.70710678118654752))", result: "same" },
  geluTanh: { f: "0.5 * x * (1.0 + tanh_(0.79788456080286536 * (x + 0.044715 * x * x * x)))", result: "same" },
  silu: { f: "x * sigmoid_(x)", result: "same" },
  softplus: { f: "max(x, 0.0) + log1p_(exp(-abs(x)))", result: "same" },
  erf: { f: "erf_(x)", result: "same" },
  floor: { f: "floor(x)", i: "x", result: "same" },
  ceil: { f: "ceil(x)", i: "x", result: "same" },
  round: { f: "round(x)", i: "x", result: "same" },
  logicalNot: { f: "x == 0.0", i: "x == 0", result: "bool" }
};
var BINARY_EXPR = {
  add: { f: "a + b", i: "a + b", result: "same" },
  sub: { f: "a - b", i: "a - b", result: "same" },
  mul: { f: "a * b", i: "a * b", result: "same" },
  div: { f: "a / b", result: "same" },
  pow: { f: "pow_c(a, b)", result: "same" },
  maximum: { f: "select(max(a, b), a + b, is_nan(a) || is_nan(b))", i: "max(a, b)", result: "same" },
  minimum: { f: "select(min(a, b), a + b, is_nan(a) || is_nan(b))", i: "min(a, b)", result: "same" },
  mod: { f: "fmod_floor(a, b)", i: "imod_floor(a, b)", result: "same" },
  eq: { f: "a == b", i: "a == b", result: "bool" },
  ne: { f: "a != b", i: "a != b", result: "bool" },
  lt: { f: "a < b", i: "a < b", result: "bool" },
  le: { f: "a <= b", i: "a <= b", result: "bool" },
  gt: { f: "a > b", i: "a > b", result: "bool" },
  ge: { f: "a >= b", i: "a >= b", result: "bool" },
  logicalAnd: { f: "(a != 0.0) && (b != 0.0)", i: "(a != 0) && (b != 0)", result: "bool" },
  logicalOr: { f: "(a != 0.0) || (b != 0.0)", i: "(a != 0) || (b != 0)", result: "bool" }
};
var WGSL_MATH = (
  /* wgsl */
  `
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
// NaN and infinity are not valid WGSL constants: build them from run-time bits.
fn nan_() -> f32 { var bits = 0x7fc00000u; return bitcast<f32>(bits); }
fn inf_() -> f32 { var bits = 0x7f800000u; return bitcast<f32>(bits); }
// log and sqrt with IEEE results outside their domain (some drivers leave these undefined).
fn log_(x: f32) -> f32 {
  if (x < 0.0 || is_nan(x)) { return nan_(); }
  if (x == 0.0) { return -inf_(); }
  if (x == inf_()) { return x; }
  return log(x);
}
fn sqrt_(x: f32) -> f32 { if (x < 0.0 || is_nan(x)) { return nan_(); } return sqrt(x); }
// Kahan: exp(x) - 1 and log(1 + x) without cancellation for small |x|.
fn expm1_(x: f32) -> f32 {
  let e = exp(x);
  if (e == 1.0) { return x; }
  let em1 = e - 1.0;
  if (em1 == -1.0) { return -1.0; }
  if (e == inf_()) { return e; }
  return em1 * x / log(e);
}
fn log1p_(x: f32) -> f32 {
  let u = 1.0 + x;
  if (u == 1.0) { return x; }
  if (u == inf_()) { return u; }
  return log_(u) * x / (u - 1.0);
}
fn tanh_(x: f32) -> f32 {
  let e = expm1_(-2.0 * abs(x));
  let t = -e / (2.0 + e);
  return select(t, -t, x < 0.0);
}
fn sigmoid_(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}
fn erf_(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  let z = abs(x);
  var r: f32;
  if (z < 1.0) {
    // erf(z) = 2/sqrt(pi) * sum_n (-1)^n z^(2n+1) / (n! (2n+1))
    let z2 = z * z;
    var term = z;
    var sum = z;
    for (var n = 1u; n < 14u; n++) {
      term = -term * z2 / f32(n);
      sum += term / f32(2u * n + 1u);
    }
    r = 1.1283791670955126 * sum;
  } else {
    let t = 1.0 / (1.0 + 0.5 * z);
    let p = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
      t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
    r = 1.0 - t * exp(p);
  }
  return select(r, -r, x < 0.0);
}
// C pow: pow(1, y) = 1 and pow(x, 0) = 1 even for NaN; negative bases need integral exponents.
fn pow_c(a: f32, b: f32) -> f32 {
  if (a == 1.0 || b == 0.0) { return 1.0; }
  if (is_nan(a) || is_nan(b)) { return nan_(); }
  if (a == -1.0 && abs(b) == inf_()) { return 1.0; }
  if (a == 0.0) { return select(0.0, inf_(), b < 0.0); }
  let r = pow(abs(a), b);
  if (a < 0.0) {
    if (floor(b) != b) { return nan_(); }
    let odd = abs(b) < 16777216.0 && (i32(abs(b)) & 1) == 1;
    return select(r, -r, odd);
  }
  return r;
}
// Floored remainder: the result has the divisor's sign (torch.remainder).
fn fmod_floor(a: f32, b: f32) -> f32 {
  if (b == 0.0 || is_nan(a) || is_nan(b) || abs(a) == inf_()) { return nan_(); }
  if (abs(b) == inf_()) { return select(a, b, a != 0.0 && (a < 0.0) != (b < 0.0)); }
  var r = a - b * trunc(a / b);
  if (abs(r) >= abs(b)) { r = r - b * trunc(r / b); }
  if (r != 0.0 && ((r < 0.0) != (b < 0.0))) { r = r + b; }
  return r;
}
fn imod_floor(a: i32, b: i32) -> i32 {
  if (b == 0) { return 0; }
  if (b == -1) { return 0; }
  var r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) { r = r + b; }
  return r;
}
// f32 -> i32 like the CPU's int32 store: NaN -> 0, truncation toward zero (saturating).
fn f2i(v: f32) -> i32 {
  if (is_nan(v)) { return 0; }
  if (v >= 2147483647.0) { return 2147483647; }
  if (v <= -2147483648.0) { return -2147483647 - 1; }
  return i32(trunc(v));
}
`
);

// src/webgpu/kernel_args.ts
var UniformStruct = class {
  fields = [];
  u32(name, value) {
    if (!(value >= 0 && value <= 4294967295) || !Number.isInteger(value)) {
      throw new RangeError(`uniform '${name}' = ${value} does not fit a u32`);
    }
    this.fields.push({ name, kind: "u32", value });
    return this;
  }
  i32(name, value) {
    this.fields.push({ name, kind: "i32", value: value | 0 });
    return this;
  }
  f32(name, value) {
    this.fields.push({ name, kind: "f32", value });
    return this;
  }
  /** The WGSL declaration `struct <name> { ... }` for these fields. */
  wgsl(name = "U") {
    return `struct ${name} {
${this.fields.map((f) => `  ${f.name}: ${f.kind},`).join("\n")}
}
`;
  }
  /** The struct's bytes (padded to 16). */
  bytes() {
    const n = Math.max(4, Math.ceil(this.fields.length / 4) * 4);
    const buf = new ArrayBuffer(n * 4);
    const dv = new DataView(buf);
    this.fields.forEach((f, i) => {
      if (f.kind === "f32") dv.setFloat32(i * 4, f.value, true);
      else if (f.kind === "i32") dv.setInt32(i * 4, f.value, true);
      else dv.setUint32(i * 4, f.value, true);
    });
    return buf;
  }
};

// src/webgpu/strided_codegen.ts
var MAX_RANK = 8;
function coalesce(shape, stridesList) {
  const outShape = [];
  const outStrides = stridesList.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d];
    if (n === 1) continue;
    const k2 = outShape.length - 1;
    if (k2 >= 0 && stridesList.every((s, v) => outStrides[v][k2] === s[d] * n)) {
      outShape[k2] = outShape[k2] * n;
      stridesList.forEach((s, v) => {
        outStrides[v][k2] = s[d];
      });
      continue;
    }
    outShape.push(n);
    stridesList.forEach((s, v) => outStrides[v].push(s[d]));
  }
  return { shape: outShape, strides: outStrides };
}
function isContiguousRun(shape, strides) {
  return shape.length === 0 || shape.length === 1 && strides[0] === 1;
}
function pushStrided(u, shape, views) {
  if (shape.length > MAX_RANK) throw new RangeError(`rank ${shape.length} exceeds the WebGPU kernels' maximum of ${MAX_RANK} after merging contiguous dims`);
  shape.forEach((s, d) => u.u32(`sh${d}`, s));
  for (const v of views) {
    u.u32(`off_${v.name}`, v.offset);
    v.strides.forEach((s, d) => u.i32(`st_${v.name}${d}`, s));
  }
}
function wgslOffsets(rank, names, index) {
  const lines = [];
  for (const n of names) lines.push(`  var a_${n}: i32 = i32(u.off_${n});`);
  if (rank > 0) lines.push(`  var rem: u32 = ${index};`);
  for (let d = rank - 1; d >= 0; d--) {
    const c = d === 0 ? "rem" : `rem % u.sh${d}`;
    lines.push(`  { let c = i32(${c});${d > 0 ? ` rem = rem / u.sh${d};` : ""}`);
    for (const n of names) lines.push(`    a_${n} += c * u.st_${n}${d};`);
    lines.push("  }");
  }
  for (const n of names) lines.push(`  let o_${n} = u32(a_${n});`);
  return lines.join("\n");
}

// src/webgpu/workgroups.ts
var MAX_WORKGROUPS_PER_DIM = 65535;
function splitWorkgroups(count, maxPerDim = MAX_WORKGROUPS_PER_DIM) {
  if (count <= maxPerDim) return [Math.max(0, count), 1];
  const y = Math.ceil(count / maxPerDim);
  if (y > maxPerDim) throw new RangeError(`dispatch of ${count} workgroups exceeds ${maxPerDim}\xB2 (the 2-D limit)`);
  return [Math.ceil(count / y), y];
}
function dispatch1D(threads, workgroupSize, maxPerDim) {
  return splitWorkgroups(Math.ceil(threads / workgroupSize), maxPerDim);
}
var WGSL_LINEAR_WORKGROUP = (
  /* wgsl */
  `
fn linear_workgroup(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y;
}
`
);

// src/webgpu/elementwise.ts
var WG = 128;
function load(s, c) {
  if (s === c) return (r2) => r2;
  return c === "f32" ? (r2) => `f32(${r2})` : (r2) => `i32(${r2})`;
}
function store(result, out, v) {
  if (result === "raw") return v;
  if (result === "bool") return out === "f32" ? `select(0.0, 1.0, ${v})` : out === "i32" ? `select(0, 1, ${v})` : `select(0u, 1u, ${v})`;
  if (result === "f32") return out === "f32" ? v : out === "i32" ? `f2i(${v})` : `select(0u, 1u, ${v} != 0.0)`;
  return out === "f32" ? `f32(${v})` : out === "i32" ? v : `select(0u, 1u, ${v} != 0)`;
}
function wgslElementwise(p, path, rank, u) {
  const names = p.inputs.map((_, k2) => `in${k2}`);
  const vec = path === "vec4";
  const decl = p.inputs.map((s, k2) => `@group(0) @binding(${k2}) var<storage, read> in${k2}: array<${vec ? `vec4<${s}>` : s}>;`).join("\n");
  const outBinding = p.inputs.length;
  const operands = (idx) => p.operandNames.map((n, k2) => `    let ${n} = ${p.operandConv[k2](idx(k2))};`).join("\n");
  const result = store(p.resultType, p.out, `(${p.expr})`);
  let body;
  if (vec) {
    const loads = names.map((n, k2) => `  let v${k2} = ${n}[u.off_${n} / 4u + i];`).join("\n");
    body = `${loads}
  var res: vec4<${p.out}>;
  for (var j = 0u; j < 4u; j++) {
${operands((k2) => `v${k2}[j]`)}
    res[j] = ${result};
  }
  out[u.off_out / 4u + i] = res;`;
  } else {
    const index = path === "contig" ? [...names, "out"].map((n) => `  let o_${n} = u.off_${n} + i;`).join("\n") : wgslOffsets(rank, [...names, "out"], "i");
    body = `${index}
  {
${operands((k2) => `in${k2}[o_in${k2}]`)}
    out[o_out] = ${result};
  }`;
  }
  return `${u.wgsl("U")}
${decl}
@group(0) @binding(${outBinding}) var<storage, read_write> out: array<${vec ? `vec4<${p.out}>` : p.out}>;
@group(0) @binding(${outBinding + 1}) var<uniform> u: U;
${WGSL_MATH}
${WGSL_LINEAR_WORKGROUP}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = linear_workgroup(wid, nwg) * ${WG}u + lid;
  if (i >= u.n) { return; }
${body}
}
`;
}
function launch(rt, p, inputs, out, extra) {
  let n = 1;
  for (const s of out.shape) n *= s;
  if (n === 0) return;
  const views = [...inputs, out];
  const c = coalesce(out.shape, views.map((v) => v.strides));
  const names = [...inputs.map((_, k2) => `in${k2}`), "out"];
  let path = "strided";
  if (c.strides.every((s) => isContiguousRun(c.shape, s))) {
    path = n % 4 === 0 && views.every((v) => v.offset % 4 === 0) ? "vec4" : "contig";
  }
  const u = new UniformStruct();
  u.u32("n", path === "vec4" ? n / 4 : n);
  if (extra) extra(u);
  if (path === "strided") {
    pushStrided(u, c.shape, views.map((v, k2) => ({ name: names[k2], strides: c.strides[k2], offset: v.offset })));
  } else {
    views.forEach((v, k2) => u.u32(`off_${names[k2]}`, v.offset));
  }
  const rank = path === "strided" ? c.shape.length : 1;
  const key = `ew.${p.name}.${p.inputs.join("")}>${p.out}.${path}.r${rank}`;
  const layout = [...inputs.map(() => "read"), "readwrite"];
  const pipe = rt.pipeline(key, () => wgslElementwise(p, path, rank, u), layout);
  const temps = [];
  const buffers = inputs.map((v) => {
    if (v.buffer !== out.buffer) return v.buffer;
    const t = rt.allocate(v.buffer.size);
    rt.copyBuffer(v.buffer, t, v.buffer.size);
    temps.push(t);
    return t;
  });
  rt.dispatch(pipe, [...buffers, out.buffer], u.bytes(), dispatch1D(path === "vec4" ? n / 4 : n, WG), `ew.${p.name}`);
  for (const t of temps) rt.release(t);
}
function storageOf(op, d) {
  return WGSL_STORAGE_TYPE[gpuDType(op, d)];
}
function computeType(expr, storages) {
  return !expr.i || storages.includes("f32") ? "f32" : "i32";
}
function opProgram(name, expr, operandNames, inputs, out) {
  const c = computeType(expr, inputs);
  return {
    name,
    inputs,
    out,
    operandNames,
    operandConv: inputs.map((s) => load(s, c)),
    expr: c === "f32" ? expr.f : expr.i,
    resultType: expr.result === "bool" ? "bool" : c
  };
}
function unary(rt, op, x, out) {
  const p = opProgram(op, UNARY_EXPR[op], ["x"], [storageOf(op, x.dtype)], storageOf(op, out.dtype));
  launch(rt, p, [x], out);
}
function binary(rt, op, a, b2, out) {
  const p = opProgram(op, BINARY_EXPR[op], ["a", "b"], [storageOf(op, a.dtype), storageOf(op, b2.dtype)], storageOf(op, out.dtype));
  launch(rt, p, [a, b2], out);
}
function where(rt, cond, a, b2, out) {
  const sc = storageOf("where", cond.dtype), sa = storageOf("where", a.dtype), sb = storageOf("where", b2.dtype);
  const c = sa === "f32" || sb === "f32" ? "f32" : "i32";
  const zero = sc === "f32" ? "0.0" : sc === "i32" ? "0" : "0u";
  const p = {
    name: "where",
    inputs: [sc, sa, sb],
    out: storageOf("where", out.dtype),
    operandNames: ["c", "a", "b"],
    operandConv: [(r2) => `(${r2} != ${zero})`, load(sa, c), load(sb, c)],
    expr: "select(b, a, c)",
    resultType: c
  };
  launch(rt, p, [cond, a, b2], out);
}
function copy(rt, x, out) {
  const sx = storageOf("copy", x.dtype);
  const so = storageOf("copy", out.dtype);
  const c = sx === "f32" ? "f32" : "i32";
  const p = { name: "copy", inputs: [sx], out: so, operandNames: ["x"], operandConv: [load(sx, c)], expr: "x", resultType: c };
  launch(rt, p, [x], out);
}
function storedBits(dtype, value) {
  const d = gpuDType("fill", dtype);
  if (d === "float32") return new Uint32Array(new Float32Array([value]).buffer)[0];
  if (d === "int32") return (Number.isNaN(value) ? 0 : Math.trunc(value) | 0) >>> 0;
  return value !== 0 ? 1 : 0;
}
function fill(rt, out, value) {
  const bits = storedBits(out.dtype, value);
  const p = { name: "fill", inputs: [], out: "u32", operandNames: [], operandConv: [], expr: "u.bits", resultType: "raw" };
  launch(rt, p, [], out, (u) => u.u32("bits", bits));
}

// src/webgpu/device.ts
var INSTALL_HINT = "On Linux without a GPU, install a software Vulkan driver with `sudo bash scripts/install-webgpu-driver.sh` (Mesa lavapipe); in a browser, use one with WebGPU enabled.";
var RAISED_LIMITS = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupSizeZ",
  "maxComputeWorkgroupsPerDimension",
  "maxStorageBuffersPerShaderStage",
  "maxUniformBufferBindingSize",
  "maxBindGroups",
  "maxDynamicUniformBuffersPerPipelineLayout"
];
var OPTIONAL_FEATURES = ["shader-f16", "timestamp-query", "subgroups"];
var SOFTWARE_PATTERN = /lavapipe|llvmpipe|swiftshader|software|warp|basic render|microsoft basic/i;
async function findGPU(given) {
  if (given) return given;
  const nav = globalThis.navigator;
  if (nav?.gpu) return nav.gpu;
  let mod;
  try {
    const name = "webgpu";
    mod = await import(
      /* @vite-ignore */
      name
    );
  } catch (e) {
    throw new WebGPUUnavailableError(`WebGPU is not available: navigator.gpu is missing and the 'webgpu' package could not be loaded (${e.message}). ${INSTALL_HINT}`);
  }
  const g = globalThis;
  for (const [k2, v] of Object.entries(mod.globals)) if (!(k2 in g)) g[k2] = v;
  return mod.create([]);
}
function describeAdapter(adapter) {
  const info = adapter.info ?? {};
  const vendor = info.vendor ?? "";
  const architecture = info.architecture ?? "";
  const device = info.device ?? "";
  const description = info.description ?? "";
  const fallback = info.isFallbackAdapter === true || adapter.isFallbackAdapter === true;
  const isSoftware = fallback || info.adapterType === "cpu" || architecture === "software" || SOFTWARE_PATTERN.test(`${vendor} ${architecture} ${device} ${description}`);
  return { vendor, architecture, device, description, isSoftware };
}
async function acquireDevice(opts = {}) {
  const gpu = await findGPU(opts.gpu);
  const adapterOpts = {};
  if (opts.powerPreference) adapterOpts.powerPreference = opts.powerPreference;
  let adapter = null;
  try {
    adapter = await gpu.requestAdapter(adapterOpts);
  } catch (e) {
    throw new WebGPUUnavailableError(`requestAdapter failed: ${e.message}. ${INSTALL_HINT}`);
  }
  if (!adapter) throw new WebGPUUnavailableError(`No WebGPU adapter found. ${INSTALL_HINT}`);
  const info = describeAdapter(adapter);
  if (info.isSoftware && opts.allowSoftware === false) {
    throw new WebGPUUnavailableError(`Only a software WebGPU adapter is available (${info.description || info.device}) and allowSoftware is false.`);
  }
  const requiredLimits = {};
  const limits = adapter.limits;
  for (const name of RAISED_LIMITS) {
    const v = limits[name];
    if (typeof v === "number") requiredLimits[name] = v;
  }
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
  let device;
  try {
    device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: "webgrad" });
  } catch (e) {
    throw new WebGPUUnavailableError(`requestDevice failed on ${info.description || info.device}: ${e.message}`);
  }
  return { adapter, device, info, features: new Set(device.features) };
}

// src/webgpu/buffer_pool.ts
var MIN_CLASS = 16;
function sizeClass(bytes) {
  if (bytes <= MIN_CLASS) return MIN_CLASS;
  if (bytes <= 4096) return 2 ** Math.ceil(Math.log2(bytes));
  const octave = 2 ** Math.floor(Math.log2(bytes));
  const quarter = octave / 4;
  return Math.ceil(bytes / quarter) * quarter;
}
var BufferPool = class {
  constructor(create) {
    this.create = create;
  }
  create;
  free = /* @__PURE__ */ new Map();
  pending = [];
  entries = /* @__PURE__ */ new Map();
  s = { liveBytes: 0, pooledBytes: 0, pendingBytes: 0, allocations: 0, reuses: 0, liveBuffers: 0 };
  /** A buffer of at least `bytes` with exactly `usage`, from the pool when one is free. */
  acquire(bytes, usage) {
    const size = sizeClass(bytes);
    const list = this.free.get(`${usage}:${size}`);
    let buffer = list?.pop();
    if (buffer) {
      this.s.pooledBytes -= size;
      this.s.reuses++;
      this.entries.get(buffer).state = "live";
    } else {
      buffer = this.create(size, usage);
      this.s.allocations++;
      this.entries.set(buffer, { size, usage, state: "live" });
    }
    this.s.liveBytes += size;
    this.s.liveBuffers++;
    return buffer;
  }
  /** Is this a live buffer of this pool? */
  owns(buffer) {
    return this.entries.get(buffer)?.state === "live";
  }
  /** Returns a live buffer; it becomes reusable once submission `serial` has completed. */
  release(buffer, serial, completedSerial) {
    const e = this.entries.get(buffer);
    if (!e) throw new Error("release: this GPUBuffer was not allocated by this runtime");
    if (e.state !== "live") throw new Error("release: buffer released twice");
    this.s.liveBytes -= e.size;
    this.s.liveBuffers--;
    if (serial <= completedSerial) {
      this.toFree(buffer, e);
    } else {
      e.state = "pending";
      this.s.pendingBytes += e.size;
      this.pending.push({ buffer, serial });
    }
  }
  /** Everything released before submission `serial` completed becomes reusable. */
  completed(serial) {
    let w = 0;
    for (let r2 = 0; r2 < this.pending.length; r2++) {
      const p = this.pending[r2];
      if (p.serial <= serial) {
        const e = this.entries.get(p.buffer);
        this.s.pendingBytes -= e.size;
        this.toFree(p.buffer, e);
      } else {
        this.pending[w++] = p;
      }
    }
    this.pending.length = w;
  }
  /** Destroys every free buffer (pending and live ones are kept). Returns the bytes given back. */
  trim() {
    let bytes = 0;
    for (const list of this.free.values()) {
      for (const b2 of list) {
        const e = this.entries.get(b2);
        bytes += e.size;
        this.entries.delete(b2);
        b2.destroy();
      }
    }
    this.free.clear();
    this.s.pooledBytes -= bytes;
    return bytes;
  }
  /** Destroys every buffer, live or not. */
  destroyAll() {
    for (const b2 of this.entries.keys()) b2.destroy();
    this.entries.clear();
    this.free.clear();
    this.pending.length = 0;
    this.s = { ...this.s, liveBytes: 0, pooledBytes: 0, pendingBytes: 0, liveBuffers: 0 };
  }
  stats() {
    return { ...this.s };
  }
  toFree(buffer, e) {
    e.state = "free";
    const key = `${e.usage}:${e.size}`;
    let list = this.free.get(key);
    if (!list) this.free.set(key, list = []);
    list.push(buffer);
    this.s.pooledBytes += e.size;
  }
};

// src/webgpu/uniform_ring.ts
var UniformRing = class _UniformRing {
  constructor(device, capacity, alignment) {
    this.device = device;
    this.alignment = alignment;
    this.capacity = capacity;
    this.buffer = device.createBuffer({ label: "webgrad uniform ring", size: capacity, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.staging = new Uint8Array(capacity);
  }
  device;
  alignment;
  buffer;
  capacity;
  staging;
  used = 0;
  /** Bytes a payload of `bytes` occupies in the ring (padded to 16: WGSL uniform structs are 16-aligned). */
  static bindingSize(bytes) {
    return Math.max(16, Math.ceil(bytes / 16) * 16);
  }
  /** Would `bytes` more fit in this batch? */
  fits(bytes) {
    return this.used + _UniformRing.bindingSize(bytes) <= this.capacity;
  }
  /** Copies `data` into the next slot and returns its byte offset. Call `fits` first. */
  push(data) {
    const offset = this.used;
    this.staging.set(data, offset);
    const size = _UniformRing.bindingSize(data.byteLength);
    if (size > data.byteLength) this.staging.fill(0, offset + data.byteLength, offset + size);
    this.used = offset + Math.ceil(size / this.alignment) * this.alignment;
    return offset;
  }
  /** Uploads this batch's uniforms (before its submit) and starts the next batch at offset 0. */
  upload() {
    if (this.used === 0) return;
    this.device.queue.writeBuffer(this.buffer, 0, this.staging, 0, Math.min(this.used, this.capacity));
    this.used = 0;
  }
  destroy() {
    this.buffer.destroy();
  }
};

// src/webgpu/pipeline_cache.ts
var PipelineCache = class {
  constructor(device, onError) {
    this.device = device;
    this.onError = onError;
  }
  device;
  onError;
  pipelines = /* @__PURE__ */ new Map();
  layouts = /* @__PURE__ */ new Map();
  pending = /* @__PURE__ */ new Map();
  checks = /* @__PURE__ */ new Set();
  get size() {
    return this.pipelines.size;
  }
  has(key) {
    return this.pipelines.has(key);
  }
  /** The cached pipeline for `key`, compiling it synchronously on a miss. */
  get(key, wgsl, layout) {
    const hit = this.pipelines.get(key);
    if (hit) return hit;
    const { bgl, pl } = this.layoutFor(layout);
    const code = wgsl();
    this.device.pushErrorScope("validation");
    const module = this.device.createShaderModule({ label: key, code });
    const pipeline = this.device.createComputePipeline({ label: key, layout: pl, compute: { module, entryPoint: "main" } });
    const check = this.device.popErrorScope().then(async (err) => {
      if (err) this.onError(await compileError(key, module, err.message));
    }, () => {
    }).finally(() => this.checks.delete(check));
    this.checks.add(check);
    const p = { key, pipeline, bindGroupLayout: bgl, layout: [...layout] };
    this.pipelines.set(key, p);
    return p;
  }
  /** Compiles the given pipelines asynchronously (skipping cached ones) and waits for all of them. */
  async warmup(specs) {
    const jobs = [];
    for (const s of specs) {
      if (this.pipelines.has(s.key)) continue;
      let job = this.pending.get(s.key);
      if (!job) {
        job = this.compileAsync(s).finally(() => this.pending.delete(s.key));
        this.pending.set(s.key, job);
      }
      jobs.push(job);
    }
    await Promise.all(jobs);
  }
  /** Resolves once every synchronous compile so far has reported success or its error. */
  async settled() {
    while (this.checks.size > 0) await Promise.all([...this.checks]);
  }
  /** Compiles still in flight. */
  get inFlight() {
    return this.pending.size;
  }
  async compileAsync(s) {
    const { bgl, pl } = this.layoutFor(s.layout);
    const module = this.device.createShaderModule({ label: s.key, code: s.wgsl() });
    let pipeline;
    try {
      pipeline = await this.device.createComputePipelineAsync({ label: s.key, layout: pl, compute: { module, entryPoint: "main" } });
    } catch (e) {
      throw await compileError(s.key, module, e.message);
    }
    if (!this.pipelines.has(s.key)) this.pipelines.set(s.key, { key: s.key, pipeline, bindGroupLayout: bgl, layout: [...s.layout] });
  }
  layoutFor(layout) {
    const sig = layout.join(",");
    let l = this.layouts.get(sig);
    if (!l) {
      const entries = layout.map((kind, i) => ({
        binding: i,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: kind === "read" ? "read-only-storage" : "storage" }
      }));
      entries.push({ binding: layout.length, visibility: GPUShaderStage.COMPUTE, buffer: { type: "uniform", hasDynamicOffset: true } });
      const bgl = this.device.createBindGroupLayout({ label: `webgrad [${sig}]`, entries });
      const pl = this.device.createPipelineLayout({ bindGroupLayouts: [bgl] });
      l = { bgl, pl };
      this.layouts.set(sig, l);
    }
    return l;
  }
};
async function compileError(key, module, message) {
  let details = "";
  try {
    const info = await module.getCompilationInfo();
    details = info.messages.filter((m) => m.type === "error").map((m) => `  line ${m.lineNum}:${m.linePos}: ${m.message}`).join("\n");
  } catch {
  }
  return new WebGPUValidationError(`WebGPU pipeline '${key}' failed to compile: ${message}${details ? `
${details}` : ""}`);
}

// src/webgpu/runtime.ts
var ERROR_WORDS = 4;
var WebGPURuntime = class _WebGPURuntime {
  device;
  adapter;
  info;
  features;
  limits;
  /** Storage buffer kernels flag out-of-range indices into; bind it as a 'readwrite' binding. */
  errorBuffer;
  maxDispatchesPerSubmit;
  storageUsage;
  stagingUsage;
  pool;
  ring;
  pipelines;
  memoryLimit;
  encoder = null;
  pass = null;
  batchCommands = 0;
  batchDispatches = 0;
  submitted = 0;
  completedSerial = 0;
  nSubmits = 0;
  nDispatches = 0;
  errorBufferDirty = false;
  errorOps = [];
  deferred = null;
  thrownSinceRead = false;
  lastThrown = null;
  lost = null;
  destroyed = false;
  lostPromise;
  // profiling
  profiling = false;
  querySet = null;
  queryLabels = [];
  profileTotals = /* @__PURE__ */ new Map();
  profileReads = [];
  constructor(adapter, device, info, features, opts) {
    this.adapter = adapter;
    this.device = device;
    this.info = info;
    this.features = features;
    this.limits = device.limits;
    this.maxDispatchesPerSubmit = opts.maxDispatchesPerSubmit ?? 128;
    this.memoryLimit = opts.memoryLimitBytes ?? Infinity;
    this.storageUsage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    this.stagingUsage = GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;
    this.pool = new BufferPool((size, usage) => this.createBuffer(size, usage));
    const align = device.limits.minUniformBufferOffsetAlignment;
    this.ring = new UniformRing(device, opts.uniformRingBytes ?? 256 * 1024, align);
    this.pipelines = new PipelineCache(device, (e) => this.defer(e));
    this.errorBuffer = device.createBuffer({ label: "webgrad error flags", size: ERROR_WORDS * 4, usage: this.storageUsage });
    device.addEventListener("uncapturederror", (ev) => {
      const err = ev.error;
      if (typeof GPUOutOfMemoryError !== "undefined" && err instanceof GPUOutOfMemoryError) {
        this.defer(new WebGPUOutOfMemoryError(0, err.message));
      } else {
        this.defer(new WebGPUValidationError(`WebGPU error: ${err.message}`));
      }
    });
    this.lostPromise = device.lost.then((info2) => {
      const e = new WebGPUDeviceLostError(this.destroyed ? "the WebGPU runtime was destroyed" : `WebGPU device lost (${info2.reason}): ${info2.message}. Create a new runtime to continue.`);
      this.lost = e;
      throw e;
    });
    this.lostPromise.catch(() => {
    });
  }
  /** Opens the GPU: navigator.gpu in browsers, the `webgpu` package (Dawn) in Node. */
  static async create(opts = {}) {
    const { adapter, device, info, features } = await acquireDevice(opts);
    return new _WebGPURuntime(adapter, device, info, features, opts);
  }
  // ---- pipelines --------------------------------------------------------------------------------
  /** The pipeline for `key` (compiled on first use). See pipeline_cache.ts for the binding layout. */
  pipeline(key, wgsl, layout) {
    return this.pipelines.get(key, wgsl, layout);
  }
  /** Compiles pipelines asynchronously ahead of their first dispatch. */
  warmup(specs) {
    return this.pipelines.warmup(specs);
  }
  /** Number of pipelines still compiling through `warmup`. */
  get pending() {
    return this.pipelines.inFlight;
  }
  // ---- dispatch ---------------------------------------------------------------------------------
  /**
   * Encodes one dispatch into the open batch. `bindings` match the pipeline's layout in order;
   * `uniforms` is the kernel's uniform struct, byte for byte; `label` names it in `profile()`.
   * A dispatch with zero workgroups is skipped.
   */
  dispatch(p, bindings, uniforms, workgroups, label) {
    this.throwIfLost();
    const x = workgroups[0], y = workgroups[1] ?? 1, z = workgroups[2] ?? 1;
    if (x === 0 || y === 0 || z === 0) return;
    const maxDim = this.limits.maxComputeWorkgroupsPerDimension ?? MAX_WORKGROUPS_PER_DIM;
    if (x > maxDim || y > maxDim || z > maxDim) {
      throw new RangeError(`dispatch '${p.key}': workgroups [${x}, ${y}, ${z}] exceed ${maxDim} per dimension; use splitWorkgroups()`);
    }
    if (bindings.length !== p.layout.length) {
      throw new Error(`dispatch '${p.key}': ${bindings.length} buffers bound, the pipeline expects ${p.layout.length}`);
    }
    const bytes = uniforms instanceof ArrayBuffer ? new Uint8Array(uniforms) : new Uint8Array(uniforms.buffer, uniforms.byteOffset, uniforms.byteLength);
    if (!this.ring.fits(bytes.byteLength) || this.batchDispatches >= this.maxDispatchesPerSubmit) this.submit();
    const offset = this.ring.push(bytes);
    const entries = bindings.map((buffer, binding) => ({ binding, resource: { buffer } }));
    entries.push({ binding: bindings.length, resource: { buffer: this.ring.buffer, offset: 0, size: UniformRing.bindingSize(bytes.byteLength) } });
    const bindGroup = this.device.createBindGroup({ layout: p.bindGroupLayout, entries });
    if (bindings.includes(this.errorBuffer)) this.errorBufferDirty = true;
    const pass = this.computePass(label ?? p.key);
    pass.setPipeline(p.pipeline);
    pass.setBindGroup(0, bindGroup, [offset]);
    pass.dispatchWorkgroups(x, y, z);
    if (this.profiling) this.endPass();
    this.batchCommands++;
    this.batchDispatches++;
    this.nDispatches++;
  }
  /** Submits the open batch (if any) and throws any error the GPU reported since the last check. */
  flush() {
    this.submit();
    this.throwDeferred();
  }
  /** Flushes and waits until the GPU has finished all submitted work. */
  async sync() {
    this.flush();
    await Promise.race([this.device.queue.onSubmittedWorkDone(), this.lostPromise]);
    await this.pipelines.settled();
    this.throwDeferred();
  }
  // ---- buffers ----------------------------------------------------------------------------------
  /** A storage buffer of at least `bytes` bytes (STORAGE | COPY_SRC | COPY_DST), from the pool when possible. */
  allocate(bytes) {
    this.throwIfLost();
    const want = Math.max(4, Math.ceil(bytes / 4) * 4);
    const max = Math.min(this.limits.maxBufferSize, this.limits.maxStorageBufferBindingSize);
    if (want > max) throw new WebGPUOutOfMemoryError(bytes, `larger than this device's maximum storage buffer of ${max} bytes`);
    const s = this.pool.stats();
    if (s.liveBytes + s.pooledBytes + s.pendingBytes + want > this.memoryLimit) {
      this.pool.trim();
      const t = this.pool.stats();
      if (t.liveBytes + t.pendingBytes + want > this.memoryLimit) {
        throw new WebGPUOutOfMemoryError(bytes, `memory limit ${this.memoryLimit} bytes; ${t.liveBytes} live, ${t.pendingBytes} awaiting the GPU`);
      }
    }
    try {
      return this.pool.acquire(want, this.storageUsage);
    } catch {
      this.pool.trim();
      try {
        return this.pool.acquire(want, this.storageUsage);
      } catch (e) {
        throw new WebGPUOutOfMemoryError(bytes, e.message);
      }
    }
  }
  /** Returns a buffer from `allocate`; it is reused only after the GPU has finished with it. */
  release(buffer) {
    if (this.destroyed) return;
    const serial = this.batchCommands > 0 ? this.submitted + 1 : this.submitted;
    this.pool.release(buffer, serial, this.completedSerial);
  }
  /** Writes `data` at `byteOffset`, ordered after every dispatch already encoded. */
  write(buffer, data, byteOffset = 0) {
    this.throwIfLost();
    let bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (bytes.byteLength === 0) return;
    if (byteOffset % 4 !== 0) throw new RangeError(`write: byteOffset ${byteOffset} is not a multiple of 4`);
    if (bytes.byteLength % 4 !== 0) {
      const padded = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
      padded.set(bytes);
      bytes = padded;
    }
    if (this.batchCommands === 0) {
      this.device.queue.writeBuffer(buffer, byteOffset, bytes);
      return;
    }
    const staging = this.device.createBuffer({ label: "webgrad upload", size: bytes.byteLength, usage: GPUBufferUsage.COPY_SRC, mappedAtCreation: true });
    new Uint8Array(staging.getMappedRange()).set(bytes);
    staging.unmap();
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(staging, 0, buffer, byteOffset, bytes.byteLength);
    this.batchCommands++;
    this.afterSubmit.push(() => staging.destroy());
  }
  /** Encodes a buffer-to-buffer copy into the batch (stream-ordered with the dispatches). Sizes in bytes, multiples of 4. */
  copyBuffer(src, dst, bytes, srcOffset = 0, dstOffset = 0) {
    this.throwIfLost();
    if (bytes === 0) return;
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
    this.batchCommands++;
  }
  /** Copies `byteLength` bytes at `byteOffset` back to the CPU. Submits the open batch. */
  async read(buffer, byteOffset = 0, byteLength) {
    this.throwIfLost();
    this.throwDeferred();
    const len = byteLength ?? buffer.size - byteOffset;
    if (len === 0) return new ArrayBuffer(0);
    const start = Math.floor(byteOffset / 4) * 4;
    const end = Math.ceil((byteOffset + len) / 4) * 4;
    const staging = this.pool.acquire(end - start, this.stagingUsage);
    this.endPass();
    const enc = this.commandEncoder();
    enc.copyBufferToBuffer(buffer, start, staging, 0, end - start);
    let errStaging = null;
    if (this.errorBufferDirty) {
      errStaging = this.pool.acquire(ERROR_WORDS * 4, this.stagingUsage);
      enc.copyBufferToBuffer(this.errorBuffer, 0, errStaging, 0, ERROR_WORDS * 4);
      this.errorBufferDirty = false;
    }
    this.batchCommands++;
    this.submit();
    const serial = this.submitted;
    try {
      await Promise.race([
        staging.mapAsync(GPUMapMode.READ, 0, end - start),
        this.lostPromise
      ]);
      const out = staging.getMappedRange(0, end - start).slice(byteOffset - start, byteOffset - start + len);
      staging.unmap();
      if (errStaging) {
        await Promise.race([errStaging.mapAsync(GPUMapMode.READ, 0, ERROR_WORDS * 4), this.lostPromise]);
        const words = new Uint32Array(errStaging.getMappedRange(0, ERROR_WORDS * 4).slice(0));
        errStaging.unmap();
        if (words[0] !== 0) {
          this.device.queue.writeBuffer(this.errorBuffer, 0, new Uint32Array(ERROR_WORDS));
          const op = this.errorOps[(words[1] ?? 1) - 1] ?? `op #${words[1]}`;
          const bad = (words[2] ?? 0) | 0;
          throw new RangeError(`${op}: index ${bad} is out of range for a dimension of size ${words[3]} (the result of this op, and of ops that used it, is invalid)`);
        }
      }
      await this.pipelines.settled();
      this.throwDeferred();
      this.thrownSinceRead = false;
      return out;
    } finally {
      this.pool.release(staging, serial, this.completedSerial);
      if (errStaging) this.pool.release(errStaging, serial, this.completedSerial);
    }
  }
  /**
   * The code a kernel writes into the error buffer for out-of-range indices of `op` (1-based;
   * stable for the runtime's lifetime). Kernels store [1, code, badIndex, dimSize].
   */
  errorCode(op) {
    let i = this.errorOps.indexOf(op);
    if (i < 0) i = this.errorOps.push(op) - 1;
    return i + 1;
  }
  stats() {
    return { ...this.pool.stats(), submits: this.nSubmits, dispatches: this.nDispatches, pipelines: this.pipelines.size };
  }
  /** Destroys every pooled buffer not in use. */
  trim() {
    return this.pool.trim();
  }
  // ---- profiling --------------------------------------------------------------------------------
  get canProfile() {
    return this.features.has("timestamp-query");
  }
  /** Turns per-dispatch GPU timing on or off (needs 'timestamp-query'; costs one compute pass per dispatch). */
  setProfiling(on) {
    if (on && !this.canProfile) throw new Error("profiling needs the timestamp-query feature, which this adapter lacks");
    this.submit();
    this.profiling = on;
    if (on && !this.querySet) {
      this.querySet = this.device.createQuerySet({ type: "timestamp", count: 2 * this.maxDispatchesPerSubmit });
    }
  }
  /** GPU time per dispatch label since profiling was turned on (or last reset). Flushes. */
  async profile(reset = false) {
    this.flush();
    await Promise.all(this.profileReads.splice(0));
    const out = {};
    for (const [k2, v] of this.profileTotals) out[k2] = { ...v };
    if (reset) this.profileTotals.clear();
    return out;
  }
  // ---- lifetime ---------------------------------------------------------------------------------
  /** Destroys the device and every buffer. The runtime cannot be used afterwards. */
  destroy() {
    if (this.destroyed) return;
    this.destroyed = true;
    this.pool.destroyAll();
    this.ring.destroy();
    this.errorBuffer.destroy();
    this.querySet?.destroy();
    this.device.destroy();
  }
  // ---- internals --------------------------------------------------------------------------------
  afterSubmit = [];
  commandEncoder() {
    return this.encoder ??= this.device.createCommandEncoder({ label: "webgrad batch" });
  }
  computePass(label) {
    if (this.pass) return this.pass;
    const desc = {};
    if (this.profiling && this.querySet) {
      const i = this.queryLabels.length;
      this.queryLabels.push(label);
      desc.timestampWrites = { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
    }
    this.pass = this.commandEncoder().beginComputePass(desc);
    return this.pass;
  }
  endPass() {
    this.pass?.end();
    this.pass = null;
  }
  submit() {
    if (!this.encoder) return;
    this.endPass();
    const enc = this.encoder;
    let labels = [];
    let resolve = null;
    let readback = null;
    if (this.queryLabels.length > 0 && this.querySet) {
      labels = this.queryLabels;
      this.queryLabels = [];
      const n = labels.length * 2;
      resolve = this.device.createBuffer({ size: n * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
      readback = this.device.createBuffer({ size: n * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      enc.resolveQuerySet(this.querySet, 0, n, resolve, 0);
      enc.copyBufferToBuffer(resolve, 0, readback, 0, n * 8);
    }
    this.ring.upload();
    this.device.queue.submit([enc.finish()]);
    this.encoder = null;
    this.batchCommands = 0;
    this.batchDispatches = 0;
    this.nSubmits++;
    const serial = ++this.submitted;
    for (const f of this.afterSubmit.splice(0)) f();
    this.device.queue.onSubmittedWorkDone().then(() => {
      if (serial > this.completedSerial) this.completedSerial = serial;
      this.pool.completed(this.completedSerial);
    }, () => {
    });
    if (readback && resolve) {
      const rb = readback, rs = resolve;
      this.profileReads.push(rb.mapAsync(GPUMapMode.READ).then(() => {
        const t = new BigUint64Array(rb.getMappedRange().slice(0));
        for (let i = 0; i < labels.length; i++) {
          const ns = Number(t[2 * i + 1] - t[2 * i]);
          const e = this.profileTotals.get(labels[i]) ?? { calls: 0, gpuMs: 0 };
          e.calls++;
          e.gpuMs += Math.max(0, ns) / 1e6;
          this.profileTotals.set(labels[i], e);
        }
        rb.unmap();
        rb.destroy();
        rs.destroy();
      }, () => {
        rb.destroy();
        rs.destroy();
      }));
    }
  }
  createBuffer(size, usage) {
    this.device.pushErrorScope("out-of-memory");
    const b2 = this.device.createBuffer({ size, usage });
    void this.device.popErrorScope().then((err) => {
      if (err) this.defer(new WebGPUOutOfMemoryError(size, err.message));
    }, () => {
    });
    return b2;
  }
  /**
   * Stores an asynchronous GPU error to throw at the next flush or read. Follow-up errors that
   * merely say an object "is invalid due to a previous error" are dropped in favour of the cause
   * (which may arrive later, e.g. a shader's compilation messages).
   */
  defer(e) {
    const followUp = /due to a previous error/i.test(e.message);
    if (followUp) {
      if (!this.deferred && !this.thrownSinceRead) this.deferred = e;
      return;
    }
    if (this.thrownSinceRead && this.deferredFollowUpOnly(e)) return;
    if (!this.deferred || /due to a previous error/i.test(this.deferred.message)) this.deferred = e;
  }
  /** A primary error that repeats the one already thrown (same message) is not thrown twice. */
  deferredFollowUpOnly(e) {
    return this.lastThrown?.message === e.message;
  }
  throwIfLost() {
    if (this.destroyed) throw new WebGPUDeviceLostError("the WebGPU runtime was destroyed");
    if (this.lost) throw this.lost;
  }
  throwDeferred() {
    this.throwIfLost();
    const e = this.deferred;
    if (e) {
      this.deferred = null;
      this.thrownSinceRead = true;
      this.lastThrown = e;
      throw e;
    }
  }
};

// src/webgpu/index.ts
function notImplemented(name) {
  return () => {
    throw new Error(`WebGPU kernel '${name}' is not implemented yet`);
  };
}
function createWebGPUKernels(rt) {
  return {
    unary: (op, x, out) => unary(rt, op, x, out),
    binary: (op, a, b2, out) => binary(rt, op, a, b2, out),
    where: (cond, a, b2, out) => where(rt, cond, a, b2, out),
    copy: (x, out) => copy(rt, x, out),
    fill: (out, value) => fill(rt, out, value),
    // TODO: random, reduce, indexing, adamw (this backend's own families) being wired in.
    random: notImplemented("random"),
    reduce: notImplemented("reduce"),
    argReduce: notImplemented("argReduce"),
    gather: notImplemented("gather"),
    scatterAdd: notImplemented("scatterAdd"),
    indexSelect: notImplemented("indexSelect"),
    indexAdd: notImplemented("indexAdd"),
    adamw: notImplemented("adamw"),
    // TODO: matmul.ts, softmax.ts, layer_norm.ts, cross_entropy.ts, attention.ts, conv.ts land here.
    matmul: notImplemented("matmul"),
    softmax: notImplemented("softmax"),
    softmaxBackward: notImplemented("softmaxBackward"),
    layerNorm: notImplemented("layerNorm"),
    layerNormBackward: notImplemented("layerNormBackward"),
    crossEntropy: notImplemented("crossEntropy"),
    crossEntropyBackward: notImplemented("crossEntropyBackward"),
    attention: notImplemented("attention"),
    attentionBackward: notImplemented("attentionBackward"),
    im2col: notImplemented("im2col"),
    col2im: notImplemented("col2im"),
    pool2d: notImplemented("pool2d"),
    pool2dBackward: notImplemented("pool2dBackward")
  };
}

// ../../../../tmp/wg/c.ts
var r = await WebGPURuntime.create();
var k = createWebGPUKernels(r);
var b = r.allocate(64);
k.unary("neg", { buffer: b, dtype: "float32", shape: [3], strides: [1], offset: 0 }, { buffer: b, dtype: "float32", shape: [3], strides: [1], offset: 8 });
try {
  await r.read(b);
} catch (e) {
  console.log(String(e));
}
process.exit(0);
