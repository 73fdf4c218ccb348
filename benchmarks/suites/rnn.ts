// Recurrent training steps on the cpu device against PyTorch on the CPU (peers/torch_rnn.py),
// TensorFlow.js's cpu and wasm backends and jax-js (its WebAssembly device, under jit): a character
// language model Embedding → LSTM (or GRU) → Linear, cross-entropy over every position, Adam. Every side starts from the same weights (a linear
// congruential generator, scaled per tensor, in PyTorch's parameter layout) and the same tokens, and
// the first losses are printed side by side: equal losses show the steps compute the same thing.
// tfjs has no fused recurrent layer in tfjs-core: its cell is written out with PyTorch's gate order
// (LSTM i, f, g, o; GRU r, z, n with the candidate's hidden bias inside the reset product), unrolled
// over the sequence, differentiated by tf.variableGrads and stepped by tf.train.adam (eps 1e-8 as
// PyTorch's). Its embedding lookup is a one-hot matmul (the same values; about 3% of the step's
// FLOPs): tf.gather's gradient needs UnsortedSegmentSum, which the wasm backend lacks. A kernel a
// tfjs backend lacks is a failure cell naming it. jax-js (lib/jaxjs.ts loads it) writes the same cell
// and one-hot embedding, the 64 steps unrolled inside `jit(valueAndGrad(loss))` (it has no lax.scan),
// and Adam as one jitted update; in Node it has no Worker, so it runs on one thread, and each of its
// steps awaits its loss. WEBGRAD_BENCH_TFJS=0 / WEBGRAD_BENCH_JAXJS=0 leave tfjs / jax-js out.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { crossEntropy, getNumThreads, noGrad, setNumThreads, tensor, tidy, type Tensor } from '@webgrad/core';
import { Embedding, GRU, LSTM, Linear } from '@webgrad/nn';
import { Adam } from '@webgrad/optim';
import type * as TF from '@tensorflow/tfjs-core';
import type * as JAX from '@jax-js/jax';
import type { Suite, SuiteContext } from '../lib/context.js';
import { useBackend, type Tf, type TfBackend } from '../lib/tfjs.js';
import { loadJax } from '../lib/jaxjs.js';
import { failureCell, makeRatio, num, type Cell } from '../lib/report.js';
import { measure, type MeasureOptions } from '../lib/timing.js';

/** Sizes of the character model (PyTorch's peer takes the same). */
export interface CharSpec { cell: 'lstm' | 'gru'; vocab: number; embed: number; hidden: number; seq: number; batch: number }

export const CHAR_LSTM: CharSpec = { cell: 'lstm', vocab: 65, embed: 64, hidden: 128, seq: 64, batch: 32 };
export const CHAR_GRU: CharSpec = { ...CHAR_LSTM, cell: 'gru' };

/** `count` values of the generator x ← 1664525·x + 1013904223 (mod 2³²) from `seed`, as x/2³¹ − 1 in [−1, 1) times `scale`. */
export function lcgFloats(count: number, seed: number, scale: number): Float32Array {
  const out = new Float32Array(count);
  let a = seed >>> 0;
  for (let i = 0; i < count; i++) { a = (Math.imul(a, 1664525) + 1013904223) >>> 0; out[i] = (a / 2 ** 31 - 1) * scale; }
  return out;
}
/** `count` integers in [0, n) from the same generator. */
export function lcgInts(count: number, seed: number, n: number): Int32Array {
  const out = new Int32Array(count);
  let a = seed >>> 0;
  for (let i = 0; i < count; i++) { a = (Math.imul(a, 1664525) + 1013904223) >>> 0; out[i] = a % n; }
  return out;
}

type Jax = typeof JAX;
type Arr = JAX.numpy.Array;

/** The model's parameters in order (name, shape); the peer fills the same list from the same seeds. */
function paramList(s: CharSpec): [string, number[]][] {
  const G = (s.cell === 'lstm' ? 4 : 3) * s.hidden;
  return [
    ['embedding', [s.vocab, s.embed]], ['weight_ih', [G, s.embed]], ['weight_hh', [G, s.hidden]], ['bias_ih', [G]], ['bias_hh', [G]],
    ['head_w', [s.vocab, s.hidden]], ['head_b', [s.vocab]],
  ];
}

/** One webgrad training step of the character model (cpu), with deterministic weights and data. */
export function webgradCharStep(s: CharSpec): { step: () => Tensor; dispose: () => void } {
  const emb = new Embedding(s.vocab, s.embed);
  const rnn = s.cell === 'lstm' ? new LSTM(s.embed, s.hidden, { batchFirst: true }) : new GRU(s.embed, s.hidden, { batchFirst: true });
  const head = new Linear(s.hidden, s.vocab);
  const targets = [emb.weight, rnn.layerParameters(0).weightIh, rnn.layerParameters(0).weightHh, rnn.layerParameters(0).biasIh!, rnn.layerParameters(0).biasHh!, head.weight, head.bias!];
  noGrad(() => paramList(s).forEach(([, shape], i) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = tensor(lcgFloats(n, 10 + i, i === 0 ? 1 : 1 / Math.sqrt(s.hidden)), { shape });
    targets[i]!.copy_(v);
    v.dispose();
  }));
  const params = [...emb.parameters(), ...rnn.parameters(), ...head.parameters()];
  const opt = new Adam(params, { lr: 2e-3 });
  const ids = tensor(lcgInts(s.batch * s.seq, 1, s.vocab), { shape: [s.batch, s.seq], dtype: 'int32' });
  const tgt = tensor(lcgInts(s.batch * s.seq, 2, s.vocab), { shape: [s.batch * s.seq], dtype: 'int32' });
  return {
    step: () => {
      const loss = tidy(() => {
        const [out] = rnn.forward(emb.forward(ids));                         // (B, T, H)
        const l = crossEntropy(head.forward(out).reshape([-1, s.vocab]), tgt);
        l.backward();
        return l;
      });
      opt.step();
      opt.zeroGrad();
      return loss;
    },
    dispose: () => { ids.dispose(); tgt.dispose(); for (const p of params) p.dispose(); opt.dispose(); },
  };
}

/** The same training step in TensorFlow.js (the active backend), from the same weights and tokens. */
function tfCharStep(tf: Tf, s: CharSpec): { step: () => TF.Scalar; dispose: () => void } {
  const { vocab: V, hidden: H, seq: T, batch: B } = s;
  const G = (s.cell === 'lstm' ? 4 : 3) * H;
  const vars = paramList(s).map(([name, shape], i) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return tf.variable(tf.tensor(lcgFloats(n, 10 + i, i === 0 ? 1 : 1 / Math.sqrt(H)), shape), true, `char_${s.cell}_${name}`);
  });
  const [emb, wIh, wHh, bIh, bHh, headW, headB] = vars as [TF.Variable, TF.Variable, TF.Variable, TF.Variable, TF.Variable, TF.Variable, TF.Variable];
  const [ids, targets] = tf.tidy(() => [1, 2].map((seed) => tf.cast(tf.oneHot(tf.tensor1d(lcgInts(B * T, seed, V), 'int32'), V), 'float32')));   // (B·T, V) each
  const opt = tf.train.adam(2e-3, 0.9, 0.999, 1e-8);
  const loss = (): TF.Scalar => {
    const x = tf.matMul(ids!, emb);                                            // (B·T, E): row b·T + t is token (b, t)'s embedding
    const xGates = tf.unstack(tf.reshape(tf.add(tf.matMul(x, wIh, false, true), bIh), [B, T, G]), 1);   // T × (B, G)
    let h: TF.Tensor2D = tf.zeros([B, H]);
    let c: TF.Tensor2D = tf.zeros([B, H]);
    const outs: TF.Tensor2D[] = [];
    for (const xg of xGates) {
      const hg = tf.add(tf.matMul(h, wHh, false, true), bHh);
      if (s.cell === 'lstm') {
        const [i, f, g, o] = tf.split(tf.add(xg, hg), 4, 1) as [TF.Tensor2D, TF.Tensor2D, TF.Tensor2D, TF.Tensor2D];
        c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
        h = tf.mul(tf.sigmoid(o), tf.tanh(c));
      } else {
        const [xr, xz, xn] = tf.split(xg, 3, 1) as [TF.Tensor2D, TF.Tensor2D, TF.Tensor2D];
        const [hr, hz, hn] = tf.split(hg, 3, 1) as [TF.Tensor2D, TF.Tensor2D, TF.Tensor2D];
        const r = tf.sigmoid(tf.add(xr, hr)), z = tf.sigmoid(tf.add(xz, hz));
        const n = tf.tanh(tf.add(xn, tf.mul(r, hn)));
        h = tf.add(n, tf.mul(z, tf.sub(h, n)));                                // (1 − z)·n + z·h
      }
      outs.push(h);
    }
    const logits = tf.add(tf.matMul(tf.reshape(tf.stack(outs, 1), [B * T, H]), headW, false, true), headB);   // (B·T, V)
    return tf.losses.softmaxCrossEntropy(targets!, logits) as TF.Scalar;
  };
  return {
    step: () => {
      const { value, grads } = tf.variableGrads(loss, vars);
      opt.applyGradients(grads as Parameters<typeof opt.applyGradients>[0]);
      tf.dispose(Object.values(grads));
      return value;
    },
    dispose: () => { tf.dispose([...vars, ids!, targets!]); opt.dispose(); },
  };
}

/** A jitted jax-js training step: each call runs one step and resolves to its loss. */
interface JaxCharStep { step: () => Promise<number>; dispose: () => void }

/**
 * The same training step in jax-js (its WebAssembly device), from the same weights and tokens: the
 * loss under `jit(valueAndGrad)`, Adam as one jitted update over the parameter list (torch.optim.Adam's
 * formula). jax-js 0.1.25 has no `lax.scan` (nor a fori/while loop): the sequence's steps are unrolled
 * inside the jitted function. jax-js counts references: every function consumes its array arguments,
 * so an array used again is passed as `x.ref`.
 */
export function jaxCharStep(jax: Jax, s: CharSpec): JaxCharStep {
  const { numpy: np, nn, tree, jit, valueAndGrad } = jax;
  const { vocab: V, hidden: H, seq: T, batch: B } = s;
  const G = (s.cell === 'lstm' ? 4 : 3) * H;
  const refs = (t: Arr[]): Arr[] => t.map((a) => a.ref);
  let params: Arr[] = paramList(s).map(([, shape], i) => np.array(lcgFloats(shape.reduce((a, b) => a * b, 1), 10 + i, i === 0 ? 1 : 1 / Math.sqrt(H))).reshape(shape));
  const oneHot = (t: Int32Array) => nn.oneHot(np.array(t, { dtype: np.int32 }), V).astype(np.float32);   // (B·T, V)
  const x1h = oneHot(lcgInts(B * T, 1, V)), y1h = oneHot(lcgInts(B * T, 2, V));

  const loss = (p: Arr[], xx: Arr, yy: Arr): Arr => {
    const [emb, wIh, wHh, bIh, bHh, headW, headB] = p as [Arr, Arr, Arr, Arr, Arr, Arr, Arr];
    const x = np.dot(xx, emb);                                                             // (B·T, E): row b·T + t is token (b, t)
    const xg = np.dot(x, wIh.transpose()).add(bIh).reshape([B, T, G]);
    const wHhT = wHh.transpose();                                                          // (H, G)
    let h: Arr = np.zeros([B, H]);
    let c: Arr = np.zeros([B, H]);
    const outs: Arr[] = [];
    for (let t = 0; t < T; t++) {
      const xt = xg.ref.slice([], t);                                                      // (B, G)
      const hg = np.dot(h.ref, wHhT.ref).add(bHh.ref);
      if (s.cell === 'lstm') {
        const [i, f, g, o] = np.split(xt.add(hg), 4, 1) as [Arr, Arr, Arr, Arr];
        c = nn.sigmoid(f).mul(c).add(nn.sigmoid(i).mul(np.tanh(g)));
        h.dispose();
        h = nn.sigmoid(o).mul(np.tanh(c.ref));
      } else {
        const [xr, xz, xn] = np.split(xt, 3, 1) as [Arr, Arr, Arr];
        const [hr, hz, hn] = np.split(hg, 3, 1) as [Arr, Arr, Arr];
        const r = nn.sigmoid(xr.add(hr)), z = nn.sigmoid(xz.add(hz));
        const n = np.tanh(xn.add(r.mul(hn)));
        h = n.ref.add(z.mul(h.sub(n)));                                                    // (1 − z)·n + z·h
      }
      outs.push(h.ref);
    }
    h.dispose();
    c.dispose();
    xg.dispose();
    wHhT.dispose();
    bHh.dispose();
    const logits = np.dot(np.stack(outs, 1).reshape([B * T, H]), headW.transpose()).add(headB);   // (B·T, V)
    return nn.logSoftmax(logits).mul(yy).sum().mul(-1 / (B * T));
  };
  const vg = jit(valueAndGrad(loss));
  let m: Arr[] = params.map((a) => np.zerosLike(a.ref));
  let v: Arr[] = params.map((a) => np.zerosLike(a.ref));
  // Adam (torch.optim.Adam, no weight decay): s1 = lr / (1 − β1^t), s2 = 1 / (1 − β2^t).
  const update = jit((p: Arr[], g: Arr[], mm: Arr[], vv: Arr[], s1: Arr, s2: Arr) => {
    const m2 = tree.map((a: Arr, b: Arr) => a.mul(0.9).add(b.mul(0.1)), mm as never, refs(g) as never) as Arr[];
    const v2 = tree.map((a: Arr, b: Arr) => a.mul(0.999).add(b.ref.mul(b).mul(0.001)), vv as never, g as never) as Arr[];
    const p2 = tree.map((q: Arr, a: Arr, b: Arr) => q.sub(a.ref.mul(s1.ref).div(np.sqrt(b.ref.mul(s2.ref)).add(1e-8))), p as never, m2 as never, v2 as never) as Arr[];
    s1.dispose();
    s2.dispose();
    return [p2, m2, v2] as const;
  });
  let t = 0;
  return {
    step: async () => {
      t++;
      const [l, g] = vg(refs(params), x1h.ref, y1h.ref) as unknown as [Arr, Arr[]];
      [params, m, v] = update(params, g, m, v, np.array([2e-3 / (1 - 0.9 ** t)]), np.array([1 / (1 - 0.999 ** t)])) as unknown as [Arr[], Arr[], Arr[]];
      return (await l.data())[0]!;
    },
    dispose: () => { for (const a of [...params, ...m, ...v, x1h, y1h]) a.dispose(); },
  };
}

/** tfjs on `backend`: ms per step, its first loss, and process CPU ms per step (its cpu and wasm backends run on one thread in Node). */
async function runTf(ctx: SuiteContext, s: CharSpec, backend: TfBackend, o: MeasureOptions, cpuSteps: number): Promise<{ ms: Cell; firstLoss: Cell; cpuMs: Cell }> {
  const tf = ctx.tf;
  if (!tf) return { ms: 'n/a (tfjs not loaded)', firstLoss: 'n/a', cpuMs: 'n/a' };
  if (!(await useBackend(tf, backend))) return { ms: `n/a (tfjs ${backend} unavailable)`, firstLoss: 'n/a', cpuMs: 'n/a' };
  let m: ReturnType<typeof tfCharStep> | null = null;
  let last: TF.Scalar | null = null;
  try {
    m = tfCharStep(tf, s);
    const mm = m;
    const first = mm.step();
    const firstLoss = (await first.data())[0]!;
    first.dispose();
    const t = await measure(() => { const l = mm.step(); last?.dispose(); last = l; }, async () => { if (last) await last.data(); }, o);
    const c0 = process.cpuUsage();
    for (let i = 0; i < cpuSteps; i++) { const l = mm.step(); await l.data(); l.dispose(); }
    const c = process.cpuUsage(c0);
    return { ms: t.ms, firstLoss, cpuMs: (c.user + c.system) / 1000 / cpuSteps };
  } catch (e) {
    return { ms: failureCell(e), firstLoss: 'n/a', cpuMs: 'n/a' };
  } finally {
    (last as TF.Scalar | null)?.dispose();
    m?.dispose();
  }
}

/** jax-js on its wasm device: ms per step (each step awaits its loss), its first loss, and process CPU ms per step (one thread). */
async function runJax(ctx: SuiteContext, s: CharSpec, o: MeasureOptions, cpuSteps: number): Promise<{ ms: Cell; firstLoss: Cell; cpuMs: Cell }> {
  const jax = await loadJax();
  if (typeof jax === 'string') return { ms: jax, firstLoss: 'n/a', cpuMs: 'n/a' };
  let m: JaxCharStep | null = null;
  try {
    m = jaxCharStep(jax, s);
    const mm = m;
    const t0 = performance.now();
    const firstLoss = await mm.step();                                           // traces and compiles the step
    ctx.extra[`jax-js ${s.cell}`] = { firstStepMs: performance.now() - t0, note: 'the first step traces and compiles the unrolled sequence' };
    const t = await measure(mm.step, async () => {}, o);
    const c0 = process.cpuUsage();
    for (let i = 0; i < cpuSteps; i++) await mm.step();
    const c = process.cpuUsage(c0);
    return { ms: t.ms, firstLoss, cpuMs: (c.user + c.system) / 1000 / cpuSteps };
  } catch (e) {
    return { ms: failureCell(e), firstLoss: 'n/a', cpuMs: 'n/a' };
  } finally {
    m?.dispose();
  }
}

/** Process CPU milliseconds per step over `steps` steps (after two warm-up steps) on one thread. */
async function cpuMsOneThread(step: () => Tensor, steps: number): Promise<number> {
  const prev = getNumThreads();
  setNumThreads(1);
  try {
    for (let i = 0; i < 2; i++) { const l = step(); await l.item(); l.dispose(); }
    const c0 = process.cpuUsage();
    for (let i = 0; i < steps; i++) { const l = step(); await l.item(); l.dispose(); }
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1000 / steps;
  } finally {
    setNumThreads(prev);
  }
}

async function runWebgrad(s: CharSpec, o: MeasureOptions, cpuSteps: number): Promise<{ ms: Cell; firstLoss: Cell; cpuMs: Cell }> {
  let m: ReturnType<typeof webgradCharStep> | null = null;
  let last: Tensor | null = null;
  try {
    m = webgradCharStep(s);
    const mm = m;
    const first = mm.step();
    const firstLoss = await first.item();
    first.dispose();
    const t = await measure(() => { const l = mm.step(); last?.dispose(); last = l; }, async () => { if (last) await last.item(); }, o);
    (last as Tensor | null)?.dispose();
    last = null;
    return { ms: t.ms, firstLoss, cpuMs: await cpuMsOneThread(mm.step, cpuSteps) };
  } catch (e) {
    return { ms: failureCell(e), firstLoss: 'n/a', cpuMs: 'n/a' };
  } finally {
    (last as Tensor | null)?.dispose();
    m?.dispose();
  }
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

/** PyTorch's ms per step (the faster of its default thread count and one thread), its CPU ms per step on one thread, and its first loss. */
async function runTorch(ctx: SuiteContext, s: CharSpec, o: MeasureOptions): Promise<{ ms: Cell; firstLoss: Cell; cpuMs: Cell }> {
  const python = process.env.WEBGRAD_PYTHON ?? '/usr/bin/python3';
  const script = join(process.env.WEBGRAD_BENCH_DIR ?? join(process.cwd(), 'benchmarks'), 'peers', 'torch_rnn.py');
  const args = [script, '--cell', s.cell, '--vocab', String(s.vocab), '--embed', String(s.embed), '--hidden', String(s.hidden),
    '--seq', String(s.seq), '--batch', String(s.batch), '--steps', ctx.quick ? '5' : '20', '--warmup-s', String((o.warmupMs ?? 0) / 1000)];
  try {
    const runs: Record<string, number> = {};
    let firstLoss: Cell = 'n/a', cpuMs: Cell = 'n/a', version = '';
    for (const threads of [0, 1]) {
      const r = await execJson(python, [...args, '--threads', String(threads)], 600_000);
      runs[`threads=${r.threads}${threads === 0 ? ' (default)' : ''}`] = Number(r.ms_per_step);
      firstLoss = Number(r.first_loss);
      version = String(r.torch);
      if (threads === 1) cpuMs = Number(r.cpu_ms_per_step);
    }
    ctx.extra[`torch ${s.cell}`] = { version, runs, cpuMsOneThread: cpuMs };
    return { ms: Math.min(...Object.values(runs)), firstLoss, cpuMs };
  } catch (e) {
    return { ms: failureCell(e), firstLoss: 'n/a', cpuMs: 'n/a' };
  }
}

export const rnnSuite: Suite = {
  name: 'rnn',
  title: 'recurrent training step on the cpu (forward + backward + Adam)',
  async run(ctx) {
    const warmupMs = ctx.quick ? 1000 : 3000;
    const o: MeasureOptions = ctx.quick ? { targetMs: 300, minSamples: 3, budgetMs: 900, warmup: 2, warmupMs } : { targetMs: 1000, minSamples: 5, budgetMs: 5000, warmup: 3, warmupMs };
    for (const s of [CHAR_LSTM, CHAR_GRU]) {
      const title = `char ${s.cell.toUpperCase()} ${s.hidden} hidden, vocab ${s.vocab}, embed ${s.embed}, seq ${s.seq}, batch ${s.batch}`;
      ctx.log(`  ${s.cell}: webgrad cpu`);
      const ours = await runWebgrad(s, o, ctx.quick ? 5 : 15);
      ctx.log(`  ${s.cell}: pytorch cpu`);
      const torch = await runTorch(ctx, s, o);
      const tfjs: Partial<Record<TfBackend, { ms: Cell; firstLoss: Cell; cpuMs: Cell }>> = {};
      let jaxjs: { ms: Cell; firstLoss: Cell; cpuMs: Cell } | null = null;
      if (process.env.WEBGRAD_BENCH_TFJS !== '0') {
        for (const backend of ['wasm', 'cpu'] as const) {
          ctx.log(`  ${s.cell}: tfjs ${backend}`);
          // tfjs's plain-JS backend takes seconds per step: its CPU time is taken over fewer steps.
          tfjs[backend] = await runTf(ctx, s, backend, o, backend === 'cpu' ? 2 : ctx.quick ? 3 : 10);
        }
      }
      if (process.env.WEBGRAD_BENCH_JAXJS !== '0') {
        ctx.log(`  ${s.cell}: jax-js wasm`);
        jaxjs = await runJax(ctx, s, o, ctx.quick ? 3 : 10);
      }
      const peerRuns = { ...Object.fromEntries(Object.entries(tfjs).map(([b, r]) => [`tfjs ${b}`, r])), ...(jaxjs ? { 'jax-js wasm': jaxjs } : {}) };
      const peerRows = (k: 'ms' | 'cpuMs') => Object.fromEntries(Object.entries(peerRuns).map(([b, r]) => [b, r[k]]));
      ctx.entries.push({
        suite: 'rnn', name: `${title} — cpu vs PyTorch`, unit: 'ms/step', better: 'lower',
        ours: { 'webgrad cpu': ours.ms }, peers: { 'pytorch cpu': torch.ms, ...peerRows('ms') },
        ratio: makeRatio('time per step ÷ PyTorch', ours.ms, torch.ms, 'lower', { op: '<=', value: 1.5 }),
        notes: [firstLossNote(ours.firstLoss, { pytorch: torch.firstLoss, ...Object.fromEntries(Object.entries(peerRuns).map(([b, r]) => [b, r.firstLoss])) })],
      });
      ctx.extra[`${s.cell} first loss`] = { webgrad: ours.firstLoss, pytorch: torch.firstLoss, ...Object.fromEntries(Object.entries(peerRuns).map(([b, r]) => [b, r.firstLoss])) };
      // Process CPU time on one thread: on a shared machine, what a step costs whatever the load.
      ctx.entries.push({
        suite: 'rnn', name: `${title} — CPU time per step, one thread`, unit: 'cpu ms/step', better: 'lower',
        ours: { 'webgrad cpu': ours.cpuMs }, peers: { 'pytorch cpu': torch.cpuMs, ...peerRows('cpuMs') },
        ratio: makeRatio('CPU time per step ÷ PyTorch', ours.cpuMs, torch.cpuMs, 'lower'),
      });
    }
  },
};

const fmtLoss = (c: Cell): string => (num(c) !== null ? (c as number).toFixed(6) : String(c));

/** "first loss: webgrad …, pytorch … (identical to 1e-5 | DIFFERENT: …)": every peer's first loss against webgrad's. */
function firstLossNote(ours: Cell, peers: Record<string, Cell>): string {
  const o = num(ours);
  const differ = Object.entries(peers).filter(([, c]) => num(c) !== null && (o === null || Math.abs(num(c)! - o) > 1e-5 * Math.max(1, Math.abs(o)))).map(([k]) => k);
  const compared = Object.values(peers).some((c) => num(c) !== null);
  const verdict = !compared ? '' : differ.length ? ` (DIFFERENT: ${differ.join(', ')})` : ' (identical to 1e-5)';
  return `first loss: webgrad ${fmtLoss(ours)}, ${Object.entries(peers).map(([k, c]) => `${k} ${fmtLoss(c)}`).join(', ')}${verdict}; same weights and tokens`;
}
