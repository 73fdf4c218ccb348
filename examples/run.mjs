#!/usr/bin/env node
// Runs an example without a build step: `node examples/run.mjs <name> [flags...]`.
//
// The @webgrad/* sources, examples/shared, examples/<name> and every example folder these import
// from (`../pretrain-gpt/...`: examples build on each other) are transpiled into
// examples/node_modules/.cache/webgrad-examples/ (scripts/transpile_workspace.mjs), then the
// example's main.js is imported with process.argv set to [node, main.js, ...flags]. `webgpu` is an
// ordinary dependency of the examples package.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sources, transpileWorkspace } from '../scripts/transpile_workspace.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const [name, ...args] = process.argv.slice(2);

const available = () => readdirSync(here, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(here, d.name, 'main.ts')))
  .map((d) => d.name);

if (!name || name === '--help' || name === '-h') {
  console.log(`usage: pnpm example <name> [flags]\nexamples: ${available().join(', ')}\n(pass --help after the name for its flags)`);
  process.exit(name ? 0 : 1);
}
if (!/^[\w-]+$/.test(name) || !existsSync(join(here, name, 'main.ts'))) {
  console.error(`unknown example '${name}'; available: ${available().join(', ')}`);
  process.exit(1);
}

const cache = join(here, 'node_modules', '.cache', 'webgrad-examples');
// shared, the example, and the example folders their files import from, transitively.
const folders = new Set(['shared', name]);
for (const dir of folders) {
  for (const file of sources(join(here, dir))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/from\s+'\.\.\/([\w-]+)\//g)) {
      if (existsSync(join(here, m[1]))) folders.add(m[1]);
    }
  }
}
await transpileWorkspace(cache, [...folders].flatMap((dir) => sources(join(here, dir))));

const main = join(cache, 'examples', name, 'main.js');
process.argv = [process.argv[0], main, ...args];
await import(pathToFileURL(main).href);
