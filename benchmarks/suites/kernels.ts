// Kernel throughput on the GPU: matmul (square and transformer shapes, every variant), attention,
// softmax, layerNorm and elementwise add, against TensorFlow.js's WebGPU backend on the same
// adapter, and a raw-Dawn copy kernel as the memory-bandwidth ceiling.
//
// webgrad's kernels are called through the KernelSet (`createWebGPUKernels`) on buffers of the
// webgrad runtime, so the figures are kernel time plus the runtime's dispatch cost, without tensor
// bookkeeping (the `overhead` suite measures that). Matmul is also called through its launcher, to
// force each variant.
import { createWebGPUKernels, type View, type KernelSet, type WebGPURuntime } from '@webgrad/kernels';
import { matmul as launchMatmul, selectMatmulVariant, MATMUL_VARIANTS, type MatmulVariant } from '../../packages/kernels/src/webgpu/matmul.js';
import { attention as launchAttention } from '../../packages/kernels/src/webgpu/attention.js';
import type { Suite, SuiteContext } from '../lib/context.js';
import { RawDawn } from '../lib/gpu.js';
import { failureCell, makeRatio, type Cell, type Entry } from '../lib/report.js';
import { attentionFlops, gbps, gflops, matmulFlops, measure, type MeasureOptions } from '../lib/timing.js';
import { useBackend, type Tf } from '../lib/tfjs.js';

type GView = View<GPUBuffer>;

function contiguous(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) { s[d] = acc; acc *= shape[d]!; }
  return s;
}

/** Deterministic values in [-1, 1). */
function randomData(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let a = seed >>> 0;
  for (let i = 0; i < n; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    out[i] = a / 2 ** 31 - 1;
  }
  return out;
}

class Buffers {
  private readonly held: GPUBuffer[] = [];
  constructor(private readonly rt: WebGPURuntime) {}
  view(shape: number[], fill: 'random' | 'none' = 'random'): GView {
    const n = shape.reduce((a, b) => a * b, 1);
    const buffer = this.rt.allocate(n * 4);
    if (fill === 'random') this.rt.write(buffer, randomData(n, n + shape.length));
    this.held.push(buffer);
    return { buffer, dtype: 'float32', shape, strides: contiguous(shape), offset: 0 };
  }
  releaseAll(): void {
    for (const b of this.held.splice(0)) this.rt.release(b);
  }
}

function opts(ctx: SuiteContext): MeasureOptions {
  return ctx.quick ? { targetMs: 150, minSamples: 3, budgetMs: 300 } : { targetMs: 300, minSamples: 5, budgetMs: 1500 };
}

/** Times `launch` (enqueues one iteration on webgrad's runtime); the readback is 4 bytes of `out`. */
async function timeOurs(ctx: SuiteContext, rt: WebGPURuntime, out: GView, launch: () => void): Promise<number> {
  const t = await measure(launch, () => rt.read(out.buffer, 0, 4), opts(ctx));
  return t.ms;
}

/** Times a tfjs computation on the active backend; the readback is one element of the last result. */
async function timeTf(ctx: SuiteContext, tf: Tf, f: () => import('@tensorflow/tfjs-core').Tensor): Promise<number> {
  let last: import('@tensorflow/tfjs-core').Tensor | null = null;
  const step = () => {
    const y = f();
    last?.dispose();
    last = y;
  };
  const sync = async () => {
    if (!last) return;
    const s = tf.slice(tf.reshape(last, [-1]), [0], [1]);
    await s.data();
    s.dispose();
  };
  try {
    return (await measure(step, sync, opts(ctx))).ms;
  } finally {
    (last as import('@tensorflow/tfjs-core').Tensor | null)?.dispose();
  }
}

async function cell(f: () => Promise<number>, toRate: (ms: number) => number): Promise<Cell> {
  try {
    return toRate(await f());
  } catch (e) {
    return failureCell(e);
  }
}

async function matmulEntry(ctx: SuiteContext, rt: WebGPURuntime, tf: Tf | null, tfOk: boolean, name: string,
  M: number, N: number, K: number, variants: boolean): Promise<Entry> {
  const bufs = new Buffers(rt);
  const a = bufs.view([M, K]), b = bufs.view([K, N]), out = bufs.view([M, N], 'none');
  const flops = matmulFlops(M, N, K);
  const rate = (ms: number) => gflops(flops, ms);
  const auto = selectMatmulVariant({ batch: 1, M, N, K }, rt.info);
  const ours: Record<string, Cell> = {};
  const autoLabel = `webgrad webgpu auto (${auto})`;
  ctx.log(`  matmul ${name}: webgrad auto`);
  ours[autoLabel] = await cell(() => timeOurs(ctx, rt, out, () => launchMatmul(rt, a, b, out)), rate);
  if (variants) {
    for (const v of MATMUL_VARIANTS as readonly MatmulVariant[]) {
      ctx.log(`  matmul ${name}: webgrad ${v}`);
      ours[`webgrad webgpu ${v}`] = await cell(() => timeOurs(ctx, rt, out, () => launchMatmul(rt, a, b, out, { variant: v })), rate);
    }
  }
  bufs.releaseAll();
  const peers: Record<string, Cell> = {};
  if (tf && tfOk) {
    ctx.log(`  matmul ${name}: tfjs webgpu`);
    const ta = tf.tensor2d(randomData(M * K, 3), [M, K]), tb = tf.tensor2d(randomData(K * N, 4), [K, N]);
    peers['tfjs webgpu'] = await cell(() => timeTf(ctx, tf, () => tf.matMul(ta, tb)), rate);
    ta.dispose(); tb.dispose();
  } else {
    peers['tfjs webgpu'] = 'n/a (tfjs webgpu unavailable)';
  }
  return {
    suite: 'kernels', name: `matmul ${name}`, unit: 'GFLOP/s', better: 'higher', ours, peers,
    ratio: makeRatio('ours/tfjs webgpu', ours[autoLabel], peers['tfjs webgpu'], 'higher', { op: '>=', value: 1.0 }),
  };
}

export const kernelsSuite: Suite = {
  name: 'kernels',
  title: 'kernels (WebGPU)',
  async run(ctx) {
    if (!ctx.gpu) {
      ctx.entries.push({ suite: 'kernels', name: 'all kernels', unit: '', better: 'higher', ours: { 'webgrad webgpu': `n/a (no WebGPU adapter: ${ctx.gpuError ?? 'unknown'})` }, peers: {} });
      return;
    }
    const { rt } = ctx.gpu;
    const tf = ctx.tf;
    const tfOk = tf ? await useBackend(tf, 'webgpu') : false;
    const K: KernelSet<GPUBuffer> = createWebGPUKernels(rt);

    // ---- matmul ----
    const squares = ctx.quick ? [256, 512] : [256, 512, 1024, 2048];
    for (const n of squares) ctx.entries.push(await matmulEntry(ctx, rt, tf, tfOk, `${n}×${n}×${n}`, n, n, n, true));
    const BT = 512;
    for (const C of [128, 384, 768]) {
      // In quick mode only the auto-selected variant: the forced ones take minutes on a software adapter.
      ctx.entries.push(await matmulEntry(ctx, rt, tf, tfOk, `[${BT},${C}]×[${C},${4 * C}]`, BT, 4 * C, C, !ctx.quick));
    }

    // ---- attention ----
    const BH = 8, D = 64;
    for (const T of ctx.quick ? [64, 256] : [64, 128, 256, 512, 1024]) {
      ctx.log(`  attention T=${T}`);
      const flops = attentionFlops(BH, T, D, true);
      const rate = (ms: number) => gflops(flops, ms);
      const bufs = new Buffers(rt);
      const q = bufs.view([1, BH, T, D]), k = bufs.view([1, BH, T, D]), v = bufs.view([1, BH, T, D]);
      const out = bufs.view([1, BH, T, D], 'none'), lse = bufs.view([1, BH, T], 'none');
      const scale = 1 / Math.sqrt(D);
      const opts = { scale, causal: true };
      const ours: Record<string, Cell> = {
        'webgrad webgpu (default: matmul path)': await cell(() => timeOurs(ctx, rt, out, () => K.attention(q, k, v, null, opts, out, lse)), rate),
        'webgrad webgpu (fused kernels)': await cell(() => timeOurs(ctx, rt, out, () => launchAttention(rt, q, k, v, null, opts, out, lse, { path: 'fused' })), rate),
      };
      bufs.releaseAll();
      const peers: Record<string, Cell> = {};
      if (tf && tfOk) {
        const tq = tf.tensor3d(randomData(BH * T * D, 5), [BH, T, D]);
        const tk = tf.tensor3d(randomData(BH * T * D, 6), [BH, T, D]);
        const tv = tf.tensor3d(randomData(BH * T * D, 7), [BH, T, D]);
        const mask = tf.tidy(() => tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)), -1e9));
        peers['tfjs webgpu (matmul+mask+softmax)'] = await cell(() => timeTf(ctx, tf, () => tf.tidy(() =>
          tf.matMul(tf.softmax(tf.add(tf.mul(tf.matMul(tq, tk, false, true), scale), mask)), tv))), rate);
        tf.dispose([tq, tk, tv, mask]);
      } else peers['tfjs webgpu'] = 'n/a (tfjs webgpu unavailable)';
      const [ourCell] = Object.values(ours), [peerCell] = Object.values(peers);
      ctx.entries.push({
        suite: 'kernels', name: `attention causal B·H=${BH} T=${T} D=${D}`, unit: 'GFLOP/s', better: 'higher', ours, peers,
        ratio: makeRatio('ours/tfjs webgpu', ourCell, peerCell, 'higher'),
      });
    }

    // ---- memory-bound row kernels and elementwise ----
    const rows = ctx.quick ? 2048 : 8192;
    const memEntry = async (name: string, shape: number[], bytesPerElem: number,
      ours: (bufs: Buffers) => { out: GView; launch: () => void },
      peer: ((x: import('@tensorflow/tfjs-core').Tensor, y: import('@tensorflow/tfjs-core').Tensor) => import('@tensorflow/tfjs-core').Tensor) | null,
      peerLabel: string) => {
      ctx.log(`  ${name}`);
      const n = shape.reduce((a, b) => a * b, 1);
      const rate = (ms: number) => gbps(n * bytesPerElem, ms);
      const bufs = new Buffers(rt);
      let oursCell: Cell;
      try {
        const { out, launch } = ours(bufs);
        oursCell = await cell(() => timeOurs(ctx, rt, out, launch), rate);
      } catch (e) { oursCell = failureCell(e); }
      bufs.releaseAll();
      const peers: Record<string, Cell> = {};
      if (tf && tfOk && peer) {
        const x = tf.tensor(randomData(n, 8), shape), y = tf.tensor(randomData(n, 9), shape);
        peers[peerLabel] = await cell(() => timeTf(ctx, tf, () => tf.tidy(() => peer(x, y))), rate);
        tf.dispose([x, y]);
      } else peers[peerLabel] = 'n/a (tfjs webgpu unavailable)';
      ctx.entries.push({
        suite: 'kernels', name, unit: 'GB/s', better: 'higher', ours: { 'webgrad webgpu': oursCell }, peers,
        ratio: makeRatio(`ours/${peerLabel.split(' (')[0]}`, oursCell, peers[peerLabel], 'higher'),
      });
    };

    await memEntry(`softmax [${rows},1024]`, [rows, 1024], 8, (bufs) => {
      const x = bufs.view([rows, 1024]), out = bufs.view([rows, 1024], 'none');
      return { out, launch: () => K.softmax(x, out, false) };
    }, (x) => tf!.softmax(x), 'tfjs webgpu');

    await memEntry(`layerNorm [${rows},768]`, [rows, 768], 8, (bufs) => {
      const x = bufs.view([rows, 768]), w = bufs.view([768]), b = bufs.view([768]);
      const out = bufs.view([rows, 768], 'none'), mean = bufs.view([rows], 'none'), rstd = bufs.view([rows], 'none');
      return { out, launch: () => K.layerNorm(x, w, b, 1e-5, out, mean, rstd) };
    }, (x) => {
      const t = tf!;
      const { mean, variance } = t.moments(x, -1, true);
      return t.mul(t.sub(x, mean), t.rsqrt(t.add(variance, 1e-5)));
    }, 'tfjs webgpu (moments composite)');

    const addN = (ctx.quick ? 4 : 16) * 1024 * 1024;
    await memEntry(`add [${addN / 1024 / 1024}M]`, [addN], 12, (bufs) => {
      const a = bufs.view([addN]), b = bufs.view([addN]), out = bufs.view([addN], 'none');
      return { out, launch: () => K.binary('add', a, b, out) };
    }, (x, y) => tf!.add(x, y), 'tfjs webgpu');

    // ---- the bandwidth ceiling: a hand-written copy dispatched straight on the device ----
    ctx.log('  raw Dawn copy');
    const raw = new RawDawn(rt.device);
    const src = raw.buffer(addN * 4), dst = raw.buffer(addN * 4), u = raw.uniform(addN / 4);
    rt.flush();
    const copyMs = await measure(() => raw.copy(src, dst, addN, u), () => raw.readback(dst), opts(ctx));
    src.destroy(); dst.destroy(); u.destroy();
    const ceiling = gbps(addN * 8, copyMs.ms);
    ctx.entries.push({
      suite: 'kernels', name: `copy [${addN / 1024 / 1024}M] (bandwidth ceiling)`, unit: 'GB/s', better: 'higher',
      ours: {}, peers: { 'raw Dawn WGSL copy': ceiling },
    });
    ctx.extra.bandwidthCeilingGBs = ceiling;
  },
};
