#!/usr/bin/env node
// Runs the benchmark suites without a build step: `node benchmarks/run.mjs [suite...] [--quick]
// [--out DIR]` (see benchmarks/README.md).
//
// esbuild transpiles the TypeScript sources of the @webgrad/* packages and of benchmarks/ (main.ts,
// lib/, suites/) file by file — not bundled, so module order, import cycles and top-level await
// behave exactly as native ES modules — into benchmarks/node_modules/.cache/webgrad-bench/, where
// small shim packages map each `@webgrad/<pkg>` import to its transpiled sources (the same mapping
// as the paths in tsconfig.check.json). `webgpu` and @tensorflow/* are ordinary dependencies of the
// benchmarks package, found through benchmarks/node_modules because the cache lives inside it.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');

/** Every .ts source under dir (tests, declaration files and node_modules left out). */
function sources(dir, recurse = true) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: recurse })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => join(e.parentPath ?? e.path, e.name))
    .filter((p) => !p.includes(`${'/'}node_modules${'/'}`));
}

const packages = readdirSync(join(root, 'packages')).filter((p) => existsSync(join(root, 'packages', p, 'src', 'index.ts')));
const cache = join(here, 'node_modules', '.cache', 'webgrad-bench');
rmSync(cache, { recursive: true, force: true });
await esbuild.build({
  entryPoints: [
    ...packages.flatMap((p) => sources(join(root, 'packages', p, 'src'))),
    ...sources(here, false),
    ...sources(join(here, 'lib')),
    ...sources(join(here, 'suites')),
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

// node_modules/@webgrad/<pkg> inside the cache: a package that re-exports the transpiled sources.
for (const p of packages) {
  const dir = join(cache, 'node_modules', '@webgrad', p);
  mkdirSync(dir, { recursive: true });
  const target = relative(dir, join(cache, 'packages', p, 'src', 'index.js')).split('\\').join('/');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `@webgrad/${p}`, type: 'module', main: 'index.js' }));
  writeFileSync(join(dir, 'index.js'), `export * from '${target}';\n`);
}

process.env.WEBGRAD_BENCH_DIR = here;
process.env.WEBGRAD_BENCH_ROOT ??= process.cwd();
const main = join(cache, 'benchmarks', 'main.js');
process.argv = [process.argv[0], main, ...process.argv.slice(2)];
await import(pathToFileURL(main).href);
