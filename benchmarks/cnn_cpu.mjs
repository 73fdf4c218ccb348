#!/usr/bin/env node
// Runs benchmarks/cnn_cpu.ts without a build step (see its header).
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { transpileWorkspace } from '../scripts/transpile_workspace.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const cache = join(here, 'node_modules', '.cache', 'webgrad-cnn-cpu');
await transpileWorkspace(cache, [join(here, 'cnn_cpu.ts')]);
const main = join(cache, 'benchmarks', 'cnn_cpu.js');
process.argv = [process.argv[0], main, ...process.argv.slice(2)];
await import(pathToFileURL(main).href);
