#!/usr/bin/env node
// Runs benchmarks/profile.ts without a build step (see its header):
// `node benchmarks/profile.mjs [--device cpu|webgpu|all] [--steps N] [--model nano|larger] [--top N]`.
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { transpileWorkspace } from '../scripts/transpile_workspace.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const cache = join(here, 'node_modules', '.cache', 'webgrad-profile');
await transpileWorkspace(cache, [join(here, 'profile.ts')]);
const main = join(cache, 'benchmarks', 'profile.js');
process.argv = [process.argv[0], main, ...process.argv.slice(2)];
await import(pathToFileURL(main).href);
