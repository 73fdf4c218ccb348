// Timing with tinybench, and the arithmetic that turns times into rates.
//
// GPU work is asynchronous: a dispatch returns before the GPU has run it. So a GPU measurement is
// always "warm up, then run `inner` iterations and finish with one readback", and the time of that
// whole batch divided by `inner` is the per-iteration time. `inner` is chosen from a timed probe
// iteration so that one sample lasts about `targetMs`; tinybench then takes several samples.
import { Bench } from 'tinybench';

export interface Timing {
  /** Mean milliseconds per iteration. */
  ms: number;
  /** Median milliseconds per iteration (over samples). */
  p50: number;
  /** Relative margin of error of the mean, in percent. */
  rme: number;
  /** Samples taken, and iterations inside each sample. */
  samples: number;
  inner: number;
}

export interface MeasureOptions {
  /** Milliseconds one sample should last (default 200). */
  targetMs?: number;
  /** Minimum samples (default 3). */
  minSamples?: number;
  /** Time budget for the samples in ms (default 500). */
  budgetMs?: number;
  /** Largest `inner` allowed (default 1000). */
  maxInner?: number;
  /** Fixed `inner` (skips the probe's choice). */
  inner?: number;
  /** Warm-up calls of `step` before the probe (default 1). */
  warmup?: number;
  /** Keep warming up until this many milliseconds have passed too (default 0): a JIT-compiled
   *  step (V8 running webgrad or tfjs) needs a number of calls, not of milliseconds, to reach its
   *  steady speed, and fast steps need more calls than a count suited to slow ones gives. */
  warmupMs?: number;
}

/**
 * Times `step` (one iteration; may enqueue GPU work) followed, once per sample, by `sync` (a readback
 * that waits for everything enqueued). Returns per-iteration figures.
 */
export async function measure(step: () => unknown, sync: () => Promise<unknown>, opts: MeasureOptions = {}): Promise<Timing> {
  const targetMs = opts.targetMs ?? 200;
  const w0 = performance.now();
  for (let i = 0; i < (opts.warmup ?? 1); i++) await step();
  await sync();
  while (performance.now() - w0 < (opts.warmupMs ?? 0)) {
    await step();
    await sync();
  }
  let inner = opts.inner ?? 0;
  if (!inner) {
    const t0 = performance.now();
    await step();
    await sync();
    const probe = performance.now() - t0;
    inner = Math.max(1, Math.min(opts.maxInner ?? 1000, Math.round(targetMs / Math.max(probe, 1e-3))));
  }
  const bench = new Bench({
    time: opts.budgetMs ?? 500,
    iterations: opts.minSamples ?? 3,
    warmup: false,
    throws: true,
  });
  bench.add('sample', async () => {
    for (let i = 0; i < inner; i++) await step();
    await sync();
  });
  await bench.run();
  const r = bench.tasks[0]!.result as unknown as { latency?: { mean: number; p50: number; rme: number; samplesCount?: number }; error?: unknown; runtime?: unknown };
  if (r.error) throw r.error;
  if (!r.latency) throw new Error('tinybench produced no statistics');
  const samples = r.latency.samplesCount ?? opts.minSamples ?? 3;
  return { ms: r.latency.mean / inner, p50: r.latency.p50 / inner, rme: r.latency.rme, samples, inner };
}

/** GFLOP/s of an op that does `flops` floating-point operations in `ms` milliseconds. */
export function gflops(flops: number, ms: number): number {
  return flops / (ms * 1e6);
}

/** GB/s of an op that moves `bytes` bytes in `ms` milliseconds. */
export function gbps(bytes: number, ms: number): number {
  return bytes / (ms * 1e6);
}

/** FLOPs of a [M, K] × [K, N] matmul (one multiply and one add per term), times `batch`. */
export function matmulFlops(M: number, N: number, K: number, batch = 1): number {
  return 2 * M * N * K * batch;
}

/**
 * FLOPs of scaled-dot-product attention forward over `bh` heads of length T and width D: two
 * matmuls (QKᵀ and PV) of 2·T·T·D each; a causal mask halves the useful work (the FlashAttention
 * convention). Softmax is not counted.
 */
export function attentionFlops(bh: number, T: number, D: number, causal: boolean): number {
  const full = 4 * bh * T * T * D;
  return causal ? full / 2 : full;
}
