// Per-op overhead: what a tiny op costs when the arithmetic is negligible — the tensor bookkeeping,
// autograd checks, buffer pool, uniform ring and bind group of one dispatch — against the same
// number of raw Dawn dispatches of a trivial hand-written kernel on the same device.
//
// Two shapes of work: a stream of independent `add` ops on [64] tensors (per-op cost; one readback
// at the end of each sample) and dependent chains of 100 and 1,000 adds followed by one readback
// (latency of a short program). The raw baseline makes one bind group per dispatch, as any library
// writing a fresh output per op must; the figure with prebuilt bind groups is shown for reference.
// On WebGPU each chain is also captured once (WebGPURuntime.capture, its intermediate tensors kept
// alive) and replayed: the same dispatches with prepared bind groups and no launcher code, what a
// compiled training step re-issues.
import { tensor, type Tensor } from '@webgrad/core';
import type { Suite } from '../lib/context.js';
import { RawDawn } from '../lib/gpu.js';
import { failureCell, makeRatio, type Cell } from '../lib/report.js';
import { measure, type MeasureOptions } from '../lib/timing.js';
import { useBackend } from '../lib/tfjs.js';
import type * as TF from '@tensorflow/tfjs-core';

const N = 64;
const CHAINS = [100, 1000] as const;
const US = 1000; // ms → µs

export const overheadSuite: Suite = {
  name: 'overhead',
  title: 'ops overhead (small ops)',
  async run(ctx) {
    const o: MeasureOptions = ctx.quick ? { targetMs: 100, minSamples: 5, budgetMs: 300 } : { targetMs: 200, minSamples: 10, budgetMs: 1500 };
    const chainOpts: MeasureOptions = { ...o, inner: 1 };
    const data = Float32Array.from({ length: N }, (_, i) => i / N);

    const streamOurs = async (device: 'cpu' | 'webgpu'): Promise<Cell> => {
      try {
        const a = tensor(data, { device }), b = tensor(data, { device });
        let last: Tensor | null = null;
        const t = await measure(() => { const y = a.add(b); last?.dispose(); last = y; }, async () => { if (last) await last.data(); }, o);
        (last as Tensor | null)?.dispose(); a.dispose(); b.dispose();
        return t.ms * US;
      } catch (e) { return failureCell(e); }
    };
    const chainOurs = async (device: 'cpu' | 'webgpu', length: number): Promise<Cell> => {
      try {
        const a = tensor(data, { device }), b = tensor(data, { device });
        let last: Tensor | null = null;
        const t = await measure(() => {
          let x = a;
          for (let i = 0; i < length; i++) { const y = x.add(b); if (x !== a) x.dispose(); x = y; }
          last?.dispose();
          last = x;
        }, async () => { if (last) await last.data(); }, chainOpts);
        (last as Tensor | null)?.dispose(); a.dispose(); b.dispose();
        return t.ms * US;
      } catch (e) { return failureCell(e); }
    };
    // The same chain captured once on the runtime and replayed; every intermediate stays alive
    // while the capture exists (replays write into their buffers).
    const chainReplayed = async (length: number): Promise<Cell> => {
      const rt = ctx.gpu!.rt;
      const a = tensor(data, { device: 'webgpu' }), b = tensor(data, { device: 'webgpu' });
      const kept: Tensor[] = [];
      try {
        const cap = rt.capture(() => {
          let x = a;
          for (let i = 0; i < length; i++) { x = x.add(b); kept.push(x); }
        });
        try {
          const last = kept[kept.length - 1]!;
          return (await measure(() => cap.replay(), () => last.data(), chainOpts)).ms * US;
        } finally {
          cap.dispose();
        }
      } catch (e) {
        return failureCell(e);
      } finally {
        for (const t of [a, b, ...kept]) t.dispose();
      }
    };

    const stream: Record<string, Cell> = {};
    const chain = CHAINS.map((): Record<string, Cell> => ({}));
    const streamPeers: Record<string, Cell> = {};
    const chainPeers = CHAINS.map((): Record<string, Cell> => ({}));
    ctx.log('  webgrad small ops');
    if (ctx.gpu) {
      stream['webgrad webgpu'] = await streamOurs('webgpu');
      for (const [k, length] of CHAINS.entries()) {
        chain[k]!['webgrad webgpu'] = await chainOurs('webgpu', length);
        chain[k]!['webgrad webgpu, replayed capture'] = await chainReplayed(length);
      }
    } else {
      stream['webgrad webgpu'] = `n/a (no WebGPU adapter)`;
      for (const c of chain) c['webgrad webgpu'] = c['webgrad webgpu, replayed capture'] = `n/a (no WebGPU adapter)`;
    }
    stream['webgrad cpu'] = await streamOurs('cpu');
    for (const [k, length] of CHAINS.entries()) chain[k]!['webgrad cpu'] = await chainOurs('cpu', length);

    if (ctx.gpu) {
      ctx.log('  raw Dawn dispatches');
      const rt = ctx.gpu.rt;
      rt.flush();
      const raw = new RawDawn(rt.device);
      const a = raw.buffer(N * 4), b = raw.buffer(N * 4), u = raw.uniform(N);
      const groups = raw.pingPong(a, b, u);
      // stream: chains of 100 dispatches without readback; per-dispatch time
      const perDispatch = async (fresh: boolean) => (await measure(() => raw.chain(a, b, N, u, CHAINS[0], fresh, groups), () => raw.readback(a), o)).ms / CHAINS[0] * US;
      const perChain = async (fresh: boolean, length: number) => (await measure(() => raw.chain(a, b, N, u, length, fresh, groups), () => raw.readback(a), chainOpts)).ms * US;
      streamPeers['raw Dawn (bind group per dispatch)'] = await perDispatch(true);
      streamPeers['raw Dawn (prebuilt bind groups)'] = await perDispatch(false);
      for (const [k, length] of CHAINS.entries()) {
        chainPeers[k]!['raw Dawn (bind group per dispatch)'] = await perChain(true, length);
        chainPeers[k]!['raw Dawn (prebuilt bind groups)'] = await perChain(false, length);
      }
      a.destroy(); b.destroy(); u.destroy();
    }

    const tf = ctx.tf;
    for (const backend of ['webgpu', 'cpu'] as const) {
      if (!tf || !(await useBackend(tf, backend))) {
        streamPeers[`tfjs ${backend}`] = `n/a (tfjs ${backend} unavailable)`;
        for (const c of chainPeers) c[`tfjs ${backend}`] = `n/a (tfjs ${backend} unavailable)`;
        continue;
      }
      ctx.log(`  tfjs ${backend} small ops`);
      // tfjs's WebGPU backend runs ops whose inputs are small and still on the CPU on its CPU backend
      // (WEBGPU_CPU_FORWARD); turn that off so its figure is GPU dispatches, like ours.
      const handoff = backend === 'webgpu' ? tf.env().get('WEBGPU_CPU_FORWARD') : undefined;
      if (backend === 'webgpu') tf.env().set('WEBGPU_CPU_FORWARD', false);
      const label = backend === 'webgpu' ? 'tfjs webgpu (CPU forwarding off)' : `tfjs ${backend}`;
      const a = tf.tensor1d(data), b = tf.tensor1d(data);
      let last: TF.Tensor | null = null;
      try {
        streamPeers[label] = (await measure(() => { const y = tf.add(a, b); last?.dispose(); last = y; }, async () => { if (last) await last.data(); }, o)).ms * US;
        for (const [k, length] of CHAINS.entries()) {
          chainPeers[k]![label] = (await measure(() => {
            let x: TF.Tensor = a;
            for (let i = 0; i < length; i++) { const y = tf.add(x, b); if (x !== a) x.dispose(); x = y; }
            last?.dispose();
            last = x;
          }, async () => { if (last) await last.data(); }, chainOpts)).ms * US;
        }
      } catch (e) {
        streamPeers[label] ??= failureCell(e);
        for (const c of chainPeers) c[label] ??= failureCell(e);
      }
      if (handoff !== undefined) tf.env().set('WEBGPU_CPU_FORWARD', handoff);
      (last as TF.Tensor | null)?.dispose();
      tf.dispose([a, b]);
    }

    const goal = { op: '<=' as const, value: 1.5 };
    const rawKey = 'raw Dawn (bind group per dispatch)';
    ctx.entries.push({
      suite: 'overhead', name: `add [${N}] + [${N}], per op`, unit: 'µs', better: 'lower', ours: stream, peers: streamPeers,
      ratio: makeRatio('ours/raw Dawn', stream['webgrad webgpu'], streamPeers[rawKey], 'lower', goal),
    });
    for (const [k, length] of CHAINS.entries()) {
      ctx.entries.push({
        suite: 'overhead', name: `chain of ${length} adds + readback`, unit: 'µs', better: 'lower', ours: chain[k]!, peers: chainPeers[k]!,
        ratio: makeRatio('ours/raw Dawn', chain[k]!['webgrad webgpu'], chainPeers[k]![rawKey], 'lower', goal),
      });
    }
  },
};
