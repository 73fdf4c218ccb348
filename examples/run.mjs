#!/usr/bin/env node
// Runs an example without a build step: `node examples/run.mjs <name> [flags...]`.
//
// esbuild transpiles the TypeScript sources of the @webgrad/* packages, examples/shared and
// examples/<name> file by file (no bundling, so module order, cycles and top-level await behave
// exactly as native ES modules) into examples/node_modules/.cache/webgrad-examples/, where small
// shim packages map each `@webgrad/<pkg>` import to its transpiled sources. The example's
// main.js is then imported with process.argv set to [node, main.js, ...flags]. `webgpu` stays an
// ordinary dependency, found through examples/node_modules.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
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

/** Every .ts source under dir (tests and declaration files left out). */
function sources(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => join(e.parentPath ?? e.path, e.name));
}

const packages = readdirSync(join(root, 'packages')).filter((p) => existsSync(join(root, 'packages', p, 'src', 'index.ts')));
const cache = join(here, 'node_modules', '.cache', 'webgrad-examples');
rmSync(join(cache, 'packages'), { recursive: true, force: true });
rmSync(join(cache, 'examples'), { recursive: true, force: true });
await esbuild.build({
  entryPoints: [
    ...packages.flatMap((p) => sources(join(root, 'packages', p, 'src'))),
    ...sources(join(here, 'shared')),
    ...sources(join(here, name)),
  ],
  outdir: cache,
  outbase: root,
  bundle: false,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'inline',
  logLevel: 'warning',
});
// node_modules/@webgrad/<pkg> inside the cache: a package that re-exports the transpiled sources.
for (const p of packages) {
  const dir = join(cache, 'node_modules', '@webgrad', p);
  mkdirSync(dir, { recursive: true });
  const target = relative(dir, join(cache, 'packages', p, 'src', 'index.js')).split('\\').join('/');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `@webgrad/${p}`, type: 'module', main: 'index.js' }));
  writeFileSync(join(dir, 'index.js'), `export * from '${target}';\n`);
}

const main = join(cache, 'examples', name, 'main.js');
process.argv = [process.argv[0], main, ...args];
await import(pathToFileURL(main).href);
