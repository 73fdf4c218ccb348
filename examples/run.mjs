#!/usr/bin/env node
// Runs an example without a build step: `node examples/run.mjs <name> [flags...]` bundles
// examples/<name>/main.ts with esbuild (the @webgrad/* packages resolved to their TypeScript
// sources), writes the bundle under examples/node_modules/.cache/webgrad-examples/, and imports it
// with process.argv set to [node, bundle, ...flags]. The `webgpu` package stays external; the
// bundle lives inside examples/node_modules so Node finds it as an examples dependency.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
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
const entry = join(here, name, 'main.ts');
if (!existsSync(entry)) {
  console.error(`unknown example '${name}'; available: ${available().join(', ')}`);
  process.exit(1);
}

/** Resolve @webgrad/<pkg> to packages/<pkg>/src/index.ts so no package needs building first. */
const webgradSources = {
  name: 'webgrad-sources',
  setup(build) {
    build.onResolve({ filter: /^@webgrad\/[a-z]+$/ }, (a) => ({ path: join(root, 'packages', a.path.slice('@webgrad/'.length), 'src', 'index.ts') }));
  },
};

const outfile = join(here, 'node_modules', '.cache', 'webgrad-examples', `${name}.mjs`);
await esbuild.build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'inline',
  external: ['webgpu'],
  plugins: [webgradSources],
  logLevel: 'warning',
  // Bundled CommonJS helpers may call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __wgCreateRequire } from 'node:module'; const require = __wgCreateRequire(import.meta.url);" },
});
process.argv = [process.argv[0], outfile, ...args];
await import(pathToFileURL(outfile).href);
