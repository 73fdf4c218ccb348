// The benchmark program: `node benchmarks/run.mjs [suite...] [--quick] [--out DIR]` bundles and runs
// this file. Suites: kernels, overhead, training (its memory table included). With no suite named,
// all run. Prints one table per suite and writes <out>/<timestamp>.json (every figure, the machine,
// the adapter) and <out>/<timestamp>.svg (the ratios).
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import type { Suite, SuiteContext } from './lib/context.js';
import { setupGPU } from './lib/gpu.js';
import { loadTf, tfInfo } from './lib/tfjs.js';
import { suiteTable, goalMet, missingKernels, type Entry } from './lib/report.js';
import { barChartSvg, type Bar } from './lib/svg.js';
import { kernelsSuite } from './suites/kernels.js';
import { overheadSuite } from './suites/overhead.js';
import { trainingSuite, memoryEntries, type MemorySnapshot } from './suites/training.js';
import { cpuModelsSuite } from './suites/cpu_models.js';
import { rnnSuite } from './suites/rnn.js';

const SUITES: Suite[] = [kernelsSuite, overheadSuite, trainingSuite, rnnSuite, cpuModelsSuite];
SUITES.push((await import('./suites/compiled.js')).compiledSuite);

interface Args { suites: Suite[]; quick: boolean; out: string }

function parseArgs(argv: string[]): Args {
  const names: string[] = [];
  let quick = false;
  let out = join(process.env.WEBGRAD_BENCH_ROOT ?? process.cwd(), 'bench-results');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') quick = true;
    else if (a === '--out') out = resolve(argv[++i] ?? out);
    else if (a.startsWith('--out=')) out = resolve(a.slice(6));
    else if (a === '--help' || a === '-h') {
      console.log(`usage: pnpm bench [${SUITES.map((s) => s.name).join('|')}|memory ...] [--quick] [--out DIR]`);
      process.exit(0);
    } else if (a.startsWith('-')) {
      console.error(`unknown flag ${a}`);
      process.exit(2);
    } else names.push(a === 'memory' ? 'training' : a);
  }
  const unknown = names.filter((n) => !SUITES.some((s) => s.name === n));
  if (unknown.length) {
    console.error(`unknown suite(s): ${unknown.join(', ')}; available: ${SUITES.map((s) => s.name).join(', ')}, memory`);
    process.exit(2);
  }
  return { suites: names.length ? SUITES.filter((s) => names.includes(s.name)) : SUITES, quick, out };
}

/** The ratio bars of the chart: every entry that has a headline ratio. */
export function chartBars(entries: readonly Entry[]): Bar[] {
  return entries.filter((e) => e.ratio).map((e) => {
    const r = e.ratio!;
    const bar: Bar = { label: `${e.name} (${r.label})`, value: r.advantage, group: e.suite };
    if (r.goal) bar.goal = r.goal.op === '>=' ? r.goal.value : 1 / r.goal.value;
    return bar;
  });
}

function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    platform: os.platform(), release: os.release(), arch: os.arch(), node: process.version,
    cpuModel: cpus[0]?.model ?? 'unknown', cpuCount: cpus.length, cpus: cpus.map((c) => ({ model: c.model, speed: c.speed })),
    totalMemoryBytes: os.totalmem(), freeMemoryBytes: os.freemem(), loadavg: os.loadavg(),
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  // Dawn's Node binding settles its promises (requestAdapter, mapAsync, onSubmittedWorkDone) from
  // its own thread without holding the event loop open, and tfjs awaits them too: hold it open for
  // the whole run, or Node may exit mid-await (exit code 13).
  setInterval(() => {}, 1 << 30);
  const started = new Date();
  const t0 = performance.now();
  const { setup, error } = await setupGPU();
  // tfjs only after navigator.gpu exists (setupGPU installs it), so its WebGPU backend finds the adapter.
  const { tf, error: tfError } = await loadTf();
  console.log(`webgrad benchmarks${args.quick ? ' (quick)' : ''} — ${os.cpus()[0]?.model ?? 'cpu'} ×${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`);
  console.log(setup ? `WebGPU adapter: ${JSON.stringify(setup.info)}` : `WebGPU: unavailable (${error})`);
  if (!tf) console.log(`TensorFlow.js: unavailable (${tfError})`);

  const results: Record<string, { entries: Entry[]; extra: Record<string, unknown>; seconds: number }> = {};
  const allEntries: Entry[] = [];
  for (const suite of args.suites) {
    const ctx: SuiteContext = {
      quick: args.quick, gpu: setup, tf, entries: [], extra: {},
      log: (m) => process.stderr.write(`${m}\n`),
    };
    if (error) ctx.gpuError = error;
    console.error(`\n[${suite.name}] running...`);
    const s0 = performance.now();
    try {
      await suite.run(ctx);
    } catch (e) {
      ctx.entries.push({ suite: suite.name, name: 'suite failed', unit: '', better: 'higher', ours: { error: (e as Error).stack ?? String(e) }, peers: {} });
    }
    results[suite.name] = { entries: ctx.entries, extra: ctx.extra, seconds: (performance.now() - s0) / 1000 };
    console.log(`\n${suiteTable(suite.title, ctx.entries)}`);
    allEntries.push(...ctx.entries);
    if (suite.name === 'training' && Array.isArray(ctx.extra.memory)) {
      const mem = memoryEntries(ctx.extra.memory as { model: string; device: string; afterWarmup: MemorySnapshot; end: MemorySnapshot }[]);
      results.memory = { entries: mem, extra: {}, seconds: 0 };
      console.log(`\n${suiteTable('memory (live bytes over the training run; must stay flat)', mem)}`);
      allEntries.push(...mem);
    }
  }

  const goals = allEntries.filter((e) => e.ratio?.goal);
  const met = goals.filter((e) => goalMet(e.ratio) === true).length;
  const missed = goals.filter((e) => goalMet(e.ratio) === false).map((e) => e.name);
  const unknown = goals.filter((e) => goalMet(e.ratio) === null).length;
  console.log(`\ngoals: ${met} met, ${missed.length} missed${missed.length ? ` (${missed.join('; ')})` : ''}, ${unknown} without a figure`);

  if (missingKernels.size) console.log(`kernels not implemented yet: ${[...missingKernels].join(', ')}`);

  const stamp = started.toISOString().replace(/[:.]/g, '-');
  mkdirSync(args.out, { recursive: true });
  const json = {
    timestamp: started.toISOString(), seconds: (performance.now() - t0) / 1000, quick: args.quick, argv: process.argv.slice(2),
    machine: machine(),
    adapter: setup ? { ...setup.info, features: [...setup.rt.features] } : { unavailable: error },
    tfjs: tf ? tfInfo(tf) : { unavailable: tfError },
    missingKernels: [...missingKernels],
    suites: results,
  };
  const jsonPath = join(args.out, `${stamp}.json`);
  writeFileSync(jsonPath, `${JSON.stringify(json, null, 2)}\n`);
  const sub = `${setup ? setup.info.description || setup.info.device || setup.info.vendor : 'no WebGPU'}${setup?.info.isSoftware ? ' (software)' : ''} · ${os.cpus()[0]?.model ?? ''} ×${os.cpus().length} · ${started.toISOString()}${args.quick ? ' · quick' : ''}`;
  const svgPath = join(args.out, `${stamp}.svg`);
  writeFileSync(svgPath, barChartSvg('webgrad vs peers', chartBars(allEntries), sub));
  console.log(`\nwrote ${jsonPath}\nwrote ${svgPath}`);
}

await main();
// Dawn's instance keeps native handles that can hold the process open; the results are written.
process.exit(0);
