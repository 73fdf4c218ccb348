#!/usr/bin/env node
// Runs benchmarks/fused_chain.ts without a build step (see its header):
// `node benchmarks/fused_chain.mjs [--n 64,65536] [--chain 1000] [--rounds 7] [--device cpu,webgpu]`.
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { transpileWorkspace } from '../scripts/transpile_workspace.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const cache = join(here, 'node_modules', '.cache', 'webgrad-fused-chain');
await transpileWorkspace(cache, [join(here, 'fused_chain.ts')]);
const main = join(cache, 'benchmarks', 'fused_chain.js');
process.argv = [process.argv[0], main, ...process.argv.slice(2)];
await import(pathToFileURL(main).href);
