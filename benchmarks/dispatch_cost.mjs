#!/usr/bin/env node
// Runs benchmarks/dispatch_cost.ts without a build step (see its header):
// `node benchmarks/dispatch_cost.mjs [--chain N] [--reps N]`.
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { transpileWorkspace } from '../scripts/transpile_workspace.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const cache = join(here, 'node_modules', '.cache', 'webgrad-dispatch-cost');
await transpileWorkspace(cache, [join(here, 'dispatch_cost.ts')]);
const main = join(cache, 'benchmarks', 'dispatch_cost.js');
process.argv = [process.argv[0], main, ...process.argv.slice(2)];
await import(pathToFileURL(main).href);
