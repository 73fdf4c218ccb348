import { it } from 'vitest';
import { attention, attentionBackward } from '../src/webgpu/attention.js';
import { gpuRuntime, makeView, toGPU, readView, rng } from './gpu_helpers.js';
const rt = await gpuRuntime();
it('profile', async () => {
  for (const tiles of ['large', 'small'] as const) {
    for (const [Tq, Tk, D] of [[5, 7, 8], [5, 7, 8], [130, 130, 64], [130, 130, 64]] as const) {
      const r = rng(1);
      const q = makeView('float32', [1, 2, Tq, D], {}, () => r());
      const k = makeView('float32', [1, 2, Tk, D], {}, () => r());
      const out = makeView('float32', [1, 2, Tq, D]);
      const lse = makeView('float32', [1, 2, Tq]);
      const gq = toGPU(rt!, q), gk = toGPU(rt!, k), go = toGPU(rt!, out), gl = toGPU(rt!, lse);
      const dq = toGPU(rt!, q), dk = toGPU(rt!, k), dv = toGPU(rt!, k);
      await rt!.sync();
      let t = performance.now();
      attention(rt!, gq, gk, gk, null, { scale: 0.1, causal: true }, go, gl, { tiles });
      await readView(rt!, go, out);
      const tf = performance.now() - t; t = performance.now();
      attentionBackward(rt!, gq, gk, gk, null, { scale: 0.1, causal: true }, go, gl, go, dq, dk, dv, { tiles });
      await readView(rt!, dv, k);
      console.log(tiles, Tq, Tk, D, 'fwd', tf.toFixed(0), 'bwd', (performance.now() - t).toFixed(0));
    }
  }
});
