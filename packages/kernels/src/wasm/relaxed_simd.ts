// Whether this engine runs WebAssembly's relaxed-SIMD instructions, which give the matmul
// micro-kernel a fused multiply-add (f32x4.relaxed_madd). Browsers ship them (Chrome 114+) and
// Node 22+ enables them by default; Node 20's engine has them behind a V8 flag, which is switched
// on here (it only lets modules use these instructions). WEBGRAD_CPU_FMA=0 turns the use off.

/** The smallest module using the instruction: (func (param v128 v128 v128) (result v128) f32x4.relaxed_madd). */
const PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type section: (v128 v128 v128) → v128
  0x03, 0x02, 0x01, 0x00, // function section
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b, // body
]);

let cached: boolean | null = null;

/** True when modules may use relaxed SIMD (after enabling it in Node 20 if needed). */
export function relaxedSimdAvailable(): boolean {
  if (cached !== null) return cached;
  cached = WebAssembly.validate(PROBE);
  const isNode = typeof process !== 'undefined' && !!process.versions?.node;
  const getBuiltin = isNode ? (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule : undefined;
  if (!cached && getBuiltin) {
    try {
      (getBuiltin('node:v8') as typeof import('node:v8')).setFlagsFromString('--experimental-wasm-relaxed-simd');
      cached = WebAssembly.validate(PROBE);
    } catch { /* an engine without the flag: stay without */ }
  }
  return cached;
}

/** Whether the fast kernels use fused multiply-adds: relaxed SIMD available and not turned off. */
export function defaultUseFma(): boolean {
  const env = typeof process !== 'undefined' ? process.env?.WEBGRAD_CPU_FMA : undefined;
  if (env === '0') return false;
  return relaxedSimdAvailable();
}
