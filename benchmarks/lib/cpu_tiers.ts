// Timing the cpu device's kernel tiers against each other (cnn_cpu.ts, avg_pool_cpu.ts): CPU time
// of the whole process (every thread) and wall time per call, best of interleaved rounds.
import { setCpuKernels } from '@webgrad/core';

/** A case: its name, and a function that builds its inputs and returns one call of it. */
export type TierCase = readonly [string, () => () => void];

/** Best CPU ms, wall ms per call, and the fastest single call's wall ms. */
export interface TierTiming { cpu: number; wall: number; fastest: number }

/** CPU milliseconds (all threads of the process) and wall milliseconds per call over `n` calls, and the fastest call's wall ms. */
export function timeCalls(f: () => void, n: number): TierTiming {
  const c0 = process.cpuUsage(), t0 = performance.now();
  let fastest = Infinity;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    f();
    fastest = Math.min(fastest, performance.now() - t);
  }
  const c = process.cpuUsage(c0), t = performance.now() - t0;
  return { cpu: (c.user + c.system) / 1000 / n, wall: t / n, fastest };
}

const best = (a: TierTiming | undefined, b: TierTiming): TierTiming =>
  ({ cpu: Math.min(a?.cpu ?? Infinity, b.cpu), wall: Math.min(a?.wall ?? Infinity, b.wall), fastest: Math.min(a?.fastest ?? Infinity, b.fastest) });

/**
 * Runs each case on the fast tier (and the reference tier unless `fastOnly`), three warm-up calls
 * each, then `rounds` rounds alternating the tiers' order (10 calls per round, 2 for the reference),
 * and prints one line per case and tier. Leaves the fast tier selected.
 */
export function compareTiers(cases: readonly TierCase[], o: { rounds: number; fastOnly: boolean; digits: number }): void {
  const kinds = o.fastOnly ? (['fast'] as const) : (['fast', 'reference'] as const);
  console.log('case | kernels | cpu ms/call (best of rounds) | wall ms/call (best) | wall ms, fastest call');
  for (const [name, make] of cases) {
    const bests: Partial<Record<(typeof kinds)[number], TierTiming>> = {};
    const runs: Partial<Record<(typeof kinds)[number], () => void>> = {};
    for (const k of kinds) { setCpuKernels(k); const run = make(); runs[k] = run; for (let i = 0; i < 3; i++) run(); }
    for (let r = 0; r < o.rounds; r++) {
      for (const k of r % 2 ? [...kinds].reverse() : kinds) {
        const run = runs[k];
        if (!run) continue;
        setCpuKernels(k);
        bests[k] = best(bests[k], timeCalls(run, k === 'reference' ? 2 : 10));
      }
    }
    for (const k of kinds) {
      const b = bests[k];
      if (b) console.log(`${name} | ${k} | ${b.cpu.toFixed(o.digits)} | ${b.wall.toFixed(o.digits)} | ${b.fastest.toFixed(o.digits)}`);
    }
  }
  setCpuKernels('fast');
}
