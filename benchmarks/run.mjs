#!/usr/bin/env node
// Runs the benchmark suites without a build step: `node benchmarks/run.mjs [suite...] [--quick]
// [--out DIR]` bundles benchmarks/main.ts with esbuild (the @webgrad/* packages resolved to their
// TypeScript sources, as in tsconfig.check.json), writes the bundle under
// benchmarks/node_modules/.cache/webgrad-bench/, and imports it. `webgpu` and @tensorflow/* stay
// external: the bundle lives inside benchmarks/node_modules so Node resolves them as dependencies
// of the benchmarks package.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');

/** Resolve @webgrad/<pkg> to packages/<pkg>/src/index.ts so no package needs building first. */
const webgradSources = {
  name: 'webgrad-sources',
  setup(build) {
    build.onResolve({ filter: /^@webgrad\/[a-z]+$/ }, (a) => ({ path: join(root, 'packages', a.path.slice('@webgrad/'.length), 'src', 'index.ts') }));
  },
};

const outfile = join(here, 'node_modules', '.cache', 'webgrad-bench', 'main.mjs');
await esbuild.build({
  entryPoints: [join(here, 'main.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'inline',
  external: ['webgpu', '@tensorflow/*'],
  plugins: [webgradSources],
  logLevel: 'warning',
  // Bundled CommonJS helpers may call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __wgCreateRequire } from 'node:module'; const require = __wgCreateRequire(import.meta.url);" },
});
process.env.WEBGRAD_BENCH_DIR = here;
process.env.WEBGRAD_BENCH_ROOT ??= process.cwd();
process.argv = [process.argv[0], outfile, ...process.argv.slice(2)];
await import(pathToFileURL(outfile).href);
