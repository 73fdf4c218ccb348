#!/usr/bin/env node
// Runs the benchmark suites without a build step: `node benchmarks/run.mjs [suite...] [--quick]
// [--out DIR]` (see benchmarks/README.md).
//
// The @webgrad/* sources and benchmarks/ (main.ts, lib/, suites/) are transpiled into
// benchmarks/node_modules/.cache/webgrad-bench/ (scripts/transpile_workspace.mjs). `webgpu` and
// @tensorflow/* are ordinary dependencies of the benchmarks package.
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { sources, transpileWorkspace } from '../scripts/transpile_workspace.mjs';

const here = dirname(fileURLToPath(import.meta.url));

const cache = join(here, 'node_modules', '.cache', 'webgrad-bench');
await transpileWorkspace(cache, [...sources(here, false), ...sources(join(here, 'lib')), ...sources(join(here, 'suites'))]);

// tfjs-core's Node build (CommonJS) leaves out the op gradients, and its ES-module files cannot be
// imported by Node directly (extensionless specifiers): bundle the gradient registrations into one
// file. They register into tfjs's global registry and run through its global engine, so they serve
// the CommonJS copy the suites import.
await esbuild.build({
  stdin: { contents: "import '@tensorflow/tfjs-core/dist/register_all_gradients.js';", resolveDir: here, loader: 'js' },
  outfile: join(cache, 'tfjs_gradients.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'error',
}).catch(() => { /* tfjs missing: the suites report it unavailable */ });

process.env.WEBGRAD_BENCH_DIR = here;
process.env.WEBGRAD_BENCH_ROOT ??= process.cwd();
const main = join(cache, 'benchmarks', 'main.js');
process.argv = [process.argv[0], main, ...process.argv.slice(2)];
await import(pathToFileURL(main).href);
