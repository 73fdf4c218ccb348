// Training steps (forward + backward + optimizer) per device, against TensorFlow.js (cpu, wasm,
// webgpu) and PyTorch on the CPU (and on CUDA where PyTorch sees an NVIDIA GPU), with live memory
// recorded at the start and end of each run. For nanoGPT's model on the CPU: the peak bytes of a
// step (memory().peakBytes over the timed steps), with and without gradient checkpointing, next to
// PyTorch's (its CPU allocator's events under torch.profiler, see peers/torch_gpt.py).
//
// Models: an MLP 784-256-10 on batches of 128; nanoGPT's CPU configuration (4 layers, 4 heads,
// 128 wide, context 64, batch 12, vocab 65); and in full runs a larger GPT (6 layers, 6 heads, 384
// wide, context 256, batch 8) on WebGPU only. Tokens are random: speed does not depend on the data.
//
// The tfjs GPT is written with tfjs ops as a user would: embedding by gather, causal attention as
// matmul + additive mask + softmax, layerNorm from moments, exact GELU from erf, a tied LM head, and
// `tf.variableGrads` + `tf.train.adam` (tfjs has no AdamW; the update costs the same).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { crossEntropy, memory, resetPeakMemory, tensor, tidy, type Tensor } from '@webgrad/core';
import { GPT, Linear, ReLU, Sequential } from '@webgrad/nn';
import { AdamW } from '@webgrad/optim';
import type * as TF from '@tensorflow/tfjs-core';
import type { Suite, SuiteContext } from '../lib/context.js';
import { failureCell, makeRatio, num, NOT_IMPLEMENTED, type Cell, type Entry } from '../lib/report.js';
import { measure, type MeasureOptions } from '../lib/timing.js';
import { useBackend, type Tf, type TfBackend } from '../lib/tfjs.js';
import { NANOGPT_CPU, type GptSpec } from '../lib/gpt_step.js';

type Device = 'cpu' | 'webgpu';

interface ModelSpec { key: string; title: string; kind: 'mlp' | 'gpt'; gpt?: GptSpec; batch: number; tokens: number; webgpuOnly?: boolean }

export const GPT_LARGER: GptSpec = { vocab: 65, block: 256, layers: 6, heads: 6, embd: 384, batch: 8 };

/** Deterministic integers in [0, n). */
function randInts(count: number, n: number, seed: number): Int32Array {
  const out = new Int32Array(count);
  let a = seed >>> 0;
  for (let i = 0; i < count; i++) { a = (Math.imul(a, 1664525) + 1013904223) >>> 0; out[i] = a % n; }
  return out;
}
function randFloats(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let a = seed >>> 0;
  for (let i = 0; i < count; i++) { a = (Math.imul(a, 1664525) + 1013904223) >>> 0; out[i] = a / 2 ** 31 - 1; }
  return out;
}

export interface MemorySnapshot { tensors: number; bytes: number; gpuLiveBytes?: number; gpuPooledBytes?: number }

function snapshot(ctx: SuiteContext, device: Device): MemorySnapshot {
  const m = memory();
  const d = m.devices[device] ?? { tensors: 0, bytes: 0 };
  const s: MemorySnapshot = { tensors: d.tensors, bytes: d.bytes };
  if (device === 'webgpu' && ctx.gpu) {
    const st = ctx.gpu.rt.stats();
    s.gpuLiveBytes = st.liveBytes;
    s.gpuPooledBytes = st.pooledBytes;
  }
  return s;
}

// ---- webgrad ------------------------------------------------------------------------------------

/** Builds the model on the CPU (initialisation is the same everywhere), then moves it to `device`. */
function webgradStep(spec: ModelSpec, device: Device, checkpointing = false): { step: () => Tensor; dispose: () => void } {
  if (spec.kind === 'mlp') {
    const model = new Sequential(new Linear(784, 256), new ReLU(), new Linear(256, 10)).to(device);
    const opt = new AdamW(model.parameters(), { lr: 1e-3 });
    const x = tensor(randFloats(spec.batch * 784, 1), { shape: [spec.batch, 784], device });
    const y = tensor(randInts(spec.batch, 10, 2), { shape: [spec.batch], dtype: 'int32', device });
    return {
      step: () => {
        const loss = tidy(() => {
          const l = crossEntropy(model.forward(x) as Tensor, y);
          l.backward();
          return l;
        });
        opt.step();
        opt.zeroGrad();
        return loss;
      },
      dispose: () => { x.dispose(); y.dispose(); for (const p of model.parameters()) p.dispose(); opt.dispose(); },
    };
  }
  const g = spec.gpt!;
  const model = new GPT({ vocabSize: g.vocab, blockSize: g.block, nLayer: g.layers, nHead: g.heads, nEmbd: g.embd, gradientCheckpointing: checkpointing }).to(device);
  const opt = new AdamW(model.configureOptimizerGroups(0.1), { lr: 1e-3 });
  const idx = tensor(randInts(g.batch * g.block, g.vocab, 3), { shape: [g.batch, g.block], dtype: 'int32', device });
  const tgt = tensor(randInts(g.batch * g.block, g.vocab, 4), { shape: [g.batch, g.block], dtype: 'int32', device });
  return {
    step: () => {
      const loss = tidy(() => {
        const l = model.forward(idx, tgt).loss!;
        l.backward();
        return l;
      });
      opt.step();
      opt.zeroGrad();
      return loss;
    },
    dispose: () => { idx.dispose(); tgt.dispose(); for (const p of model.parameters()) p.dispose(); opt.dispose(); },
  };
}

interface RunResult { ms: Cell; memory?: { before: MemorySnapshot; afterWarmup: MemorySnapshot; end: MemorySnapshot; peakBytes: number } }

async function runWebgrad(ctx: SuiteContext, spec: ModelSpec, device: Device, o: MeasureOptions, checkpointing = false): Promise<RunResult> {
  if (device === 'webgpu' && !ctx.gpu) return { ms: 'n/a (no WebGPU adapter)' };
  const before = snapshot(ctx, device);
  let m: ReturnType<typeof webgradStep> | null = null;
  let last: Tensor | null = null;
  try {
    m = webgradStep(spec, device, checkpointing);
    const mm = m;
    // warm-up: the first step creates the optimizer's moments and compiles pipelines
    last = mm.step();
    await last.item();
    last.dispose();
    last = null;
    const afterWarmup = snapshot(ctx, device);
    resetPeakMemory();
    const t = await measure(() => { const l = mm.step(); last?.dispose(); last = l; }, async () => { if (last) await last.item(); }, { ...o, warmup: Math.max(0, (o.warmup ?? 1) - 1) });
    (last as Tensor | null)?.dispose();
    last = null;
    const end = snapshot(ctx, device);
    return { ms: t.ms, memory: { before, afterWarmup, end, peakBytes: memory().devices[device]?.peakBytes ?? 0 } };
  } catch (e) {
    return { ms: failureCell(e) };
  } finally {
    (last as Tensor | null)?.dispose();
    try { m?.dispose(); } catch { /* already released */ }
  }
}

// ---- TensorFlow.js ------------------------------------------------------------------------------

function tfLayerNorm(tf: Tf, x: TF.Tensor, g: TF.Tensor, b: TF.Tensor): TF.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), g), b);
}

function tfGelu(tf: Tf, x: TF.Tensor): TF.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
}

/** Builds a tfjs training step for `spec` on the active backend. */
function tfStep(tf: Tf, spec: ModelSpec, embedding: 'gather' | 'onehot' = 'gather'): { step: () => TF.Scalar; dispose: () => void } {
  const vars: TF.Variable[] = [];
  const normal = (shape: number[], std = 0.02) => { const v = tf.variable(tf.mul(tf.randomNormal(shape, 0, 1, 'float32', 7), std)); vars.push(v); return v; };
  const zeros = (shape: number[]) => { const v = tf.variable(tf.zeros(shape)); vars.push(v); return v; };
  const ones = (shape: number[]) => { const v = tf.variable(tf.ones(shape)); vars.push(v); return v; };
  const opt = tf.train.adam(1e-3);
  let lossFn: () => TF.Scalar;
  const consts: TF.Tensor[] = [];
  if (spec.kind === 'mlp') {
    const w1 = normal([784, 256], 0.05), b1 = zeros([256]), w2 = normal([256, 10], 0.05), b2 = zeros([10]);
    const x = tf.tensor2d(randFloats(spec.batch * 784, 1), [spec.batch, 784]);
    const y = tf.oneHot(tf.tensor1d(randInts(spec.batch, 10, 2), 'int32'), 10);
    consts.push(x, y);
    lossFn = () => tf.losses.softmaxCrossEntropy(y, tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, w1), b1)), w2), b2)) as TF.Scalar;
  } else {
    const g = spec.gpt!;
    const { vocab: V, block: T, embd: C, heads: H, batch: B } = g;
    const D = C / H;
    const wte = normal([V, C]), wpe = normal([T, C]);
    const resid = 0.02 / Math.sqrt(2 * g.layers);
    const layers = Array.from({ length: g.layers }, () => ({
      ln1g: ones([C]), ln1b: zeros([C]), wqkv: normal([C, 3 * C]), bqkv: zeros([3 * C]), wo: normal([C, C], resid), bo: zeros([C]),
      ln2g: ones([C]), ln2b: zeros([C]), wfc: normal([C, 4 * C]), bfc: zeros([4 * C]), wp: normal([4 * C, C], resid), bp: zeros([C]),
    }));
    const lnFg = ones([C]), lnFb = zeros([C]);
    const idx = tf.tensor1d(randInts(B * T, V, 3), 'int32'); // (B·T)
    const idxOneHot = embedding === 'onehot' ? tf.cast(tf.oneHot(idx, V), 'float32') : null; // (B·T, V)
    if (idxOneHot) consts.push(idxOneHot);
    const tgt = tf.oneHot(tf.tensor1d(randInts(B * T, V, 4), 'int32'), V); // (B·T, V)
    const mask = tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)), -1e9); // (T, T): −1e9 above the diagonal
    consts.push(idx, tgt, mask);
    lossFn = () => {
      const tok = idxOneHot ? tf.matMul(idxOneHot, wte) : tf.gather(wte, idx); // (B·T, C)
      let x = tf.reshape(tf.add(tf.reshape(tok, [B, T, C]), wpe), [B * T, C]); // (B·T, C)
      for (const L of layers) {
        const h = tfLayerNorm(tf, x, L.ln1g, L.ln1b);
        const [q, k, v] = tf.split(tf.add(tf.matMul(h, L.wqkv), L.bqkv), 3, 1).map((z) => tf.transpose(tf.reshape(z, [B, T, H, D]), [0, 2, 1, 3])); // (B, H, T, D)
        const att = tf.softmax(tf.add(tf.mul(tf.matMul(q!, k!, false, true), 1 / Math.sqrt(D)), mask)); // (B, H, T, T)
        const y = tf.reshape(tf.transpose(tf.matMul(att, v!), [0, 2, 1, 3]), [B * T, C]); // (B·T, C)
        x = tf.add(x, tf.add(tf.matMul(y, L.wo), L.bo));
        const h2 = tfLayerNorm(tf, x, L.ln2g, L.ln2b);
        x = tf.add(x, tf.add(tf.matMul(tfGelu(tf, tf.add(tf.matMul(h2, L.wfc), L.bfc)), L.wp), L.bp));
      }
      const logits = tf.matMul(tfLayerNorm(tf, x, lnFg, lnFb), wte, false, true); // (B·T, V), tied head
      return tf.losses.softmaxCrossEntropy(tgt, logits) as TF.Scalar;
    };
  }
  return {
    step: () => {
      const { value, grads } = tf.variableGrads(lossFn);
      opt.applyGradients(grads as Parameters<typeof opt.applyGradients>[0]);
      tf.dispose(Object.values(grads));
      return value;
    },
    dispose: () => { tf.dispose(consts); tf.dispose(vars); opt.dispose(); },
  };
}

async function runTf(ctx: SuiteContext, spec: ModelSpec, backend: TfBackend, o: MeasureOptions, embedding: 'gather' | 'onehot' = 'gather'): Promise<Cell> {
  const tf = ctx.tf;
  if (!tf) return 'n/a (tfjs not loaded)';
  if (!(await useBackend(tf, backend))) return `n/a (tfjs ${backend} unavailable)`;
  let m: ReturnType<typeof tfStep> | null = null;
  let last: TF.Scalar | null = null;
  try {
    m = tfStep(tf, spec, embedding);
    const mm = m;
    const t = await measure(() => { const l = mm.step(); last?.dispose(); last = l; }, async () => { if (last) await last.data(); }, o);
    return t.ms;
  } catch (e) {
    return failureCell(e);
  } finally {
    (last as TF.Scalar | null)?.dispose();
    m?.dispose();
  }
}

// ---- PyTorch ------------------------------------------------------------------------------------

// The interpreter for the PyTorch peer: WEBGRAD_PYTHON, else the first of Debian's python3 (where
// `apt-get install python3-torch` puts torch) and the python3 on PATH that imports torch.
interface TorchInfo { python: string; version: string; cuda: boolean }
let torchInfo: Promise<TorchInfo | null> | null = null;
function findTorch(): Promise<TorchInfo | null> {
  torchInfo ??= (async () => {
    const candidates = process.env.WEBGRAD_PYTHON ? [process.env.WEBGRAD_PYTHON] : ['/usr/bin/python3', 'python3'];
    for (const python of candidates) {
      try {
        const r = await execJson(python, ['-c', 'import json, torch; print(json.dumps({"v": torch.__version__, "cuda": torch.cuda.is_available()}))'], 60_000);
        return { python, version: String(r.v), cuda: r.cuda === true };
      } catch { /* next */ }
    }
    return null;
  })();
  return torchInfo;
}

function execJson(python: string, args: string[], timeoutMs: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(python, args, { timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) { reject(new Error(`${err.message.split('\n')[0]} ${String(stderr).trim().split('\n').pop() ?? ''}`)); return; }
      const line = String(stdout).trim().split('\n').pop() ?? '';
      try { resolve(JSON.parse(line) as Record<string, unknown>); } catch { reject(new Error(`unparseable output: ${line.slice(0, 80)}`)); }
    });
  });
}

/** PyTorch's ms per step for `spec` on the CPU, or on CUDA when `device` is 'cuda' (undefined: no CUDA). */
async function runTorch(ctx: SuiteContext, spec: ModelSpec, o: MeasureOptions, device: 'cpu' | 'cuda' = 'cpu'): Promise<Cell | undefined> {
  const torch = await findTorch();
  if (torch === null) return device === 'cpu' ? 'n/a (python3 with torch not found)' : undefined;
  if (device === 'cuda' && !torch.cuda) return undefined;
  const script = join(process.env.WEBGRAD_BENCH_DIR ?? join(process.cwd(), 'benchmarks'), 'peers', 'torch_gpt.py');
  const args = [script, '--model', spec.kind, '--batch', String(spec.batch), '--steps', ctx.quick ? '5' : '10', '--warmup', String(o.warmup ?? 1),
    '--warmup-s', String((o.warmupMs ?? 0) / 1000), '--device', device];
  if (spec.gpt) {
    const g = spec.gpt;
    args.push('--layers', String(g.layers), '--heads', String(g.heads), '--embd', String(g.embd), '--block', String(g.block), '--vocab', String(g.vocab));
  }
  // On the CPU, PyTorch's default intra-op threads plus OpenBLAS's own can oversubscribe a small
  // machine (on 2 cores Debian's torch takes twice as long with its default as with one thread):
  // run both and report the faster, with every figure in the JSON.
  try {
    const runs: Record<string, number> = {};
    for (const threads of device === 'cpu' ? [0, 1] : [0]) {
      const r = await execJson(torch.python, [...args, '--threads', String(threads)], 600_000);
      const label = device === 'cuda' ? 'cuda' : `threads=${r.threads}${threads === 0 ? ' (default)' : ''}`;
      runs[label] = Number(r.ms_per_step);
    }
    ctx.extra.torch = { ...(ctx.extra.torch as object | undefined), version: torch.version, python: torch.python, [`${spec.key} ${device}`]: runs };
    return Math.min(...Object.values(runs));
  } catch (e) {
    return failureCell(e);
  }
}

/** PyTorch's tensor bytes live at the start of a CPU step and at its peak, with or without checkpointing. */
async function runTorchPeak(spec: ModelSpec, checkpointing: boolean): Promise<{ start: number; peak: number } | Cell> {
  const torch = await findTorch();
  if (torch === null) return 'n/a (python3 with torch not found)';
  const g = spec.gpt!;
  const script = join(process.env.WEBGRAD_BENCH_DIR ?? join(process.cwd(), 'benchmarks'), 'peers', 'torch_gpt.py');
  const args = [script, '--model', 'gpt', '--batch', String(spec.batch), '--steps', '1', '--warmup', '1', '--threads', '1', '--memory',
    '--layers', String(g.layers), '--heads', String(g.heads), '--embd', String(g.embd), '--block', String(g.block), '--vocab', String(g.vocab)];
  if (checkpointing) args.push('--checkpoint');
  try {
    const r = await execJson(torch.python, args, 600_000);
    return { start: Number(r.start_bytes), peak: Number(r.peak_bytes) };
  } catch (e) {
    return failureCell(e);
  }
}

const fmtMs = (c: Cell): string => (typeof c === 'number' ? c.toFixed(1) : c);

/** The peak-bytes entry of nanoGPT's CPU step: webgrad with and without checkpointing, and PyTorch's. */
async function peakEntry(ctx: SuiteContext, spec: ModelSpec, o: MeasureOptions, plain: RunResult): Promise<Entry> {
  ctx.log(`  ${spec.key}: webgrad cpu, gradient checkpointing`);
  const ckpt = await runWebgrad(ctx, spec, 'cpu', o, true);
  ctx.log(`  ${spec.key}: pytorch cpu peak bytes`);
  const torchPlain = await runTorchPeak(spec, false);
  const torchCkpt = await runTorchPeak(spec, true);
  const peak = (r: RunResult): Cell => r.memory?.peakBytes ?? r.ms;
  const tPeak = (r: { peak: number } | Cell): Cell => (typeof r === 'object' ? r.peak : r);
  const over = (peakB: Cell, start: number | undefined) => (typeof peakB === 'number' && start !== undefined ? `${((peakB - start) / 2 ** 20).toFixed(2)} MiB` : 'n/a');
  ctx.extra.peakBytes = { webgrad: plain.memory, webgradCheckpointing: ckpt.memory, webgradCheckpointingMs: ckpt.ms, torch: torchPlain, torchCheckpointing: torchCkpt };
  return {
    suite: 'training', name: `${spec.title} — peak bytes of a step, cpu`, unit: 'B', better: 'lower',
    ours: { webgrad: peak(plain), 'webgrad, checkpointing': peak(ckpt) },
    peers: { pytorch: tPeak(torchPlain), 'pytorch, checkpointing': tPeak(torchCkpt) },
    ratio: makeRatio('peak bytes ÷ PyTorch (no checkpointing)', peak(plain), tPeak(torchPlain), 'lower'),
    notes: [
      `above the bytes live when a step starts (parameters, AdamW state, inputs): webgrad ${over(peak(plain), plain.memory?.afterWarmup.bytes)}, with checkpointing ${over(peak(ckpt), ckpt.memory?.afterWarmup.bytes)}; ` +
      `pytorch ${over(tPeak(torchPlain), typeof torchPlain === 'object' ? torchPlain.start : undefined)}, with checkpointing ${over(tPeak(torchCkpt), typeof torchCkpt === 'object' ? torchCkpt.start : undefined)}`,
      `webgrad cpu ms/step: ${fmtMs(plain.ms)} without checkpointing, ${fmtMs(ckpt.ms)} with`,
      'webgrad: memory().peakBytes (live tensor storage); pytorch: its CPU allocator events under torch.profiler(profile_memory=True), one step, one thread',
    ],
  };
}

// ---- the suite ----------------------------------------------------------------------------------

export const trainingSuite: Suite = {
  name: 'training',
  title: 'training step (forward + backward + optimizer)',
  async run(ctx) {
    // Warm-up for every implementation, by count and by time: V8 (running webgrad and tfjs) needs
    // about 15 calls of a GPT step before it runs at its steady speed — a training run's speed —
    // and PyTorch gets the same warm-up time (its peer script takes --warmup-s).
    const warmupMs = ctx.quick ? 2000 : 4000;
    const o: MeasureOptions = ctx.quick ? { targetMs: 300, minSamples: 3, budgetMs: 800, warmup: 3, warmupMs } : { targetMs: 1000, minSamples: 5, budgetMs: 5000, warmup: 5, warmupMs };
    const specs: ModelSpec[] = [
      { key: 'mlp', title: 'MLP 784-256-10, batch 128', kind: 'mlp', batch: 128, tokens: 128 },
      { key: 'gpt-nano', title: 'GPT 4L/4H/128, ctx 64, batch 12', kind: 'gpt', gpt: NANOGPT_CPU, batch: NANOGPT_CPU.batch, tokens: NANOGPT_CPU.batch * NANOGPT_CPU.block },
    ];
    if (!ctx.quick) {
      specs.push({ key: 'gpt-larger', title: 'GPT 6L/6H/384, ctx 256, batch 8', kind: 'gpt', gpt: GPT_LARGER, batch: GPT_LARGER.batch, tokens: GPT_LARGER.batch * GPT_LARGER.block, webgpuOnly: true });
    }
    const memoryRows: unknown[] = [];
    const throughput: Record<string, Record<string, number>> = {};
    for (const spec of specs) {
      const ours: Partial<Record<Device, Cell>> = {};
      const tfCells: Partial<Record<TfBackend, Cell>> = {};
      const oneHot: TfBackend[] = [];
      for (const device of (spec.webgpuOnly ? ['webgpu'] : ['cpu', 'webgpu']) as Device[]) {
        ctx.log(`  ${spec.key}: webgrad ${device}`);
        const r = await runWebgrad(ctx, spec, device, o);
        ours[device] = r.ms;
        if (r.memory) memoryRows.push({ model: spec.key, device, ...r.memory });
        if (spec.key === 'gpt-nano' && device === 'cpu') ctx.entries.push(await peakEntry(ctx, spec, o, r));
      }
      // WEBGRAD_BENCH_TFJS=0 leaves TensorFlow.js out (its plain-JS backend takes seconds per GPT step).
      const tfBackends = process.env.WEBGRAD_BENCH_TFJS === '0' ? [] : spec.webgpuOnly ? ['webgpu'] : ['cpu', 'wasm', 'webgpu'];
      for (const backend of tfBackends as TfBackend[]) {
        ctx.log(`  ${spec.key}: tfjs ${backend}`);
        tfCells[backend] = await runTf(ctx, spec, backend, o);
        // tfjs wasm has no UnsortedSegmentSum, which gather's gradient needs: embed by one-hot matmul there.
        if (spec.kind === 'gpt' && tfCells[backend] === NOT_IMPLEMENTED) {
          tfCells[backend] = await runTf(ctx, spec, backend, o, 'onehot');
          if (num(tfCells[backend]) !== null) oneHot.push(backend);
        }
      }
      let torch: Cell | undefined;
      if (!spec.webgpuOnly) {
        ctx.log(`  ${spec.key}: pytorch cpu`);
        torch = await runTorch(ctx, spec, o);
      }
      const torchCuda = await runTorch(ctx, spec, o, 'cuda');
      if (torchCuda !== undefined) ctx.log(`  ${spec.key}: pytorch cuda`);
      const tps: Record<string, number> = {};
      const addTps = (label: string, c: Cell | undefined) => { const v = num(c); if (v) tps[label] = spec.tokens / (v / 1000); };
      addTps('webgrad cpu', ours.cpu); addTps('webgrad webgpu', ours.webgpu);
      for (const [b, c] of Object.entries(tfCells)) addTps(`tfjs ${b}`, c);
      addTps('pytorch cpu', torch);
      addTps('pytorch cuda', torchCuda);
      throughput[spec.key] = tps;
      const unit = spec.kind === 'gpt' ? 'tokens' : 'samples';
      const tpsNote = Object.entries(tps).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ');

      // WebGPU: against tfjs's best backend.
      const tfPeers: Record<string, Cell> = {};
      for (const [b, c] of Object.entries(tfCells)) tfPeers[`tfjs ${b}`] = c;
      const best = Object.entries(tfPeers).filter(([, c]) => num(c) !== null).sort((a, b) => num(a[1])! - num(b[1])!)[0];
      const gpuEntry: Entry = {
        suite: 'training', name: `${spec.title} — webgpu`, unit: 'ms/step', better: 'lower',
        ours: { 'webgrad webgpu': ours.webgpu ?? 'n/a' }, peers: tfPeers,
        ratio: makeRatio(`speed-up vs ${best ? best[0] : "tfjs's best"}`, ours.webgpu, best?.[1], 'lower', spec.kind === 'gpt' ? { op: '>=', value: 3 } : undefined, true),
        notes: [`${unit}/s: ${tpsNote}`, ...oneHot.map((b) => `tfjs ${b}: embedding by one-hot matmul (gather's gradient needs UnsortedSegmentSum, which this backend lacks)`)],
      };
      ctx.entries.push(gpuEntry);
      if (torchCuda !== undefined) {
        // On a machine with an NVIDIA GPU: the same step in PyTorch on CUDA (no target; a reference).
        ctx.entries.push({
          suite: 'training', name: `${spec.title} — webgpu vs PyTorch CUDA`, unit: 'ms/step', better: 'lower',
          ours: { 'webgrad webgpu': ours.webgpu ?? 'n/a' }, peers: { 'pytorch cuda': torchCuda },
          ratio: makeRatio('time per step ÷ PyTorch CUDA', ours.webgpu, torchCuda, 'lower'),
        });
      }
      if (!spec.webgpuOnly) {
        const cpuPeers: Record<string, Cell> = { 'tfjs wasm': tfCells.wasm ?? 'n/a', 'tfjs cpu': tfCells.cpu ?? 'n/a' };
        if (torch !== undefined) cpuPeers['pytorch cpu'] = torch;
        ctx.entries.push({
          suite: 'training', name: `${spec.title} — cpu`, unit: 'ms/step', better: 'lower',
          ours: { 'webgrad cpu': ours.cpu ?? 'n/a' }, peers: cpuPeers,
          ratio: makeRatio('speed-up vs tfjs wasm', ours.cpu, tfCells.wasm, 'lower', { op: '>=', value: 1 }, true),
        });
        if (spec.kind === 'gpt' && torch !== undefined) {
          // The fast-CPU goal: within 2× of PyTorch's time per step (its faster thread setting).
          ctx.entries.push({
            suite: 'training', name: `${spec.title} — cpu vs PyTorch`, unit: 'ms/step', better: 'lower',
            ours: { 'webgrad cpu': ours.cpu ?? 'n/a' }, peers: { 'pytorch cpu': torch },
            ratio: makeRatio('time per step ÷ PyTorch', ours.cpu, torch, 'lower', { op: '<=', value: 2 }),
          });
        }
      }
    }
    ctx.extra.throughput = throughput;
    ctx.extra.memory = memoryRows;
    ctx.extra.models = { nanoGPT: NANOGPT_CPU, larger: GPT_LARGER };
  },
};

/** The memory table: live bytes after the warm-up step and at the end of each training run. */
export function memoryEntries(rows: readonly { model: string; device: string; afterWarmup: MemorySnapshot; end: MemorySnapshot }[]): Entry[] {
  return rows.map((r) => {
    const ours: Record<string, Cell> = {
      'live bytes, after warm-up': r.afterWarmup.bytes,
      'live bytes, end': r.end.bytes,
      'live tensors, after warm-up → end': `${r.afterWarmup.tensors} → ${r.end.tensors}`,
    };
    if (r.afterWarmup.gpuLiveBytes !== undefined) ours['GPU pool live bytes, after warm-up → end'] = `${r.afterWarmup.gpuLiveBytes} → ${r.end.gpuLiveBytes}`;
    const e: Entry = {
      suite: 'memory', name: `${r.model} on ${r.device}`, unit: 'B', better: 'lower', ours, peers: {},
      ratio: makeRatio('end/start bytes', r.end.bytes || 1, r.afterWarmup.bytes || 1, 'lower', { op: '<=', value: 1 }),
    };
    if (r.end.tensors > r.afterWarmup.tensors) e.notes = [`live tensors grew by ${r.end.tensors - r.afterWarmup.tensors}`];
    return e;
  });
}
