// TensorFlow.js as a peer: loaded lazily (after navigator.gpu exists, see gpu.ts), with its cpu,
// wasm and webgpu backends. `useBackend` switches the global backend and reports whether it works.
import type * as TF from '@tensorflow/tfjs-core';

export type TfBackend = 'cpu' | 'wasm' | 'webgpu';
export type Tf = typeof TF;

let loaded: Promise<{ tf: Tf | null; error?: string }> | null = null;

/** Imports tfjs-core and its three backends once. */
export function loadTf(): Promise<{ tf: Tf | null; error?: string }> {
  loaded ??= (async () => {
    try {
      const core = '@tensorflow/tfjs-core';
      const tf = (await import(core)) as Tf;
      // tfjs-core's Node build has no op gradients; run.mjs bundles their registrations beside main.js.
      const gradients = new URL('../../tfjs_gradients.mjs', import.meta.url).href;
      await import(gradients);
      for (const b of ['@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu']) {
        try { await import(b); } catch { /* that backend stays unavailable */ }
      }
      return { tf };
    } catch (e) {
      return { tf: null, error: (e as Error).message };
    }
  })();
  return loaded;
}

/** Makes `name` the active backend; false when it cannot initialise here. */
export async function useBackend(tf: Tf, name: TfBackend): Promise<boolean> {
  try {
    const ok = await tf.setBackend(name);
    await tf.ready();
    return ok && tf.getBackend() === name;
  } catch {
    return false;
  }
}

/** What the webgpu backend reports about its adapter, and the wasm backend's SIMD/threads flags. */
export function tfInfo(tf: Tf): Record<string, unknown> {
  const out: Record<string, unknown> = { version: tf.version_core };
  try { out.wasmSimd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT'); } catch { /* flag not registered */ }
  try { out.wasmThreads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT'); } catch { /* flag not registered */ }
  try {
    const b = tf.findBackend('webgpu') as unknown as { adapterInfo?: Record<string, unknown> } | null;
    if (b?.adapterInfo) out.webgpuAdapter = { ...b.adapterInfo };
  } catch { /* not initialised */ }
  return out;
}
