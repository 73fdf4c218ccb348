// Shared by examples/run.mjs and benchmarks/run.mjs: run TypeScript programs against the
// @webgrad/* sources without a build step.
//
// esbuild transpiles the packages' sources and the program's own files file by file — not bundled,
// so module order, import cycles and top-level await behave exactly as native ES modules — into a
// cache directory, where small shim packages map each `@webgrad/<pkg>` import to its transpiled
// sources (the same mapping as the paths in tsconfig.check.json). The cache lives inside the
// caller's node_modules, so the caller's own dependencies (webgpu, @tensorflow/*) resolve from there.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Every .ts source under dir (tests, declaration files and node_modules left out). */
export function sources(dir, recurse = true) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: recurse })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => join(e.parentPath ?? e.path, e.name))
    .filter((p) => !p.split(/[\\/]/).includes('node_modules'));
}

/** Transpile every package plus `programSources` into `cache` (cleared first) and write the shims. */
export async function transpileWorkspace(cache, programSources) {
  const packages = readdirSync(join(root, 'packages')).filter((p) => existsSync(join(root, 'packages', p, 'src', 'index.ts')));
  rmSync(cache, { recursive: true, force: true });
  await esbuild.build({
    entryPoints: [...packages.flatMap((p) => sources(join(root, 'packages', p, 'src'))), ...programSources],
    outdir: cache,
    outbase: root,
    bundle: false,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  for (const p of packages) {
    const dir = join(cache, 'node_modules', '@webgrad', p);
    mkdirSync(dir, { recursive: true });
    const target = relative(dir, join(cache, 'packages', p, 'src', 'index.js')).split('\\').join('/');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `@webgrad/${p}`, type: 'module', main: 'index.js' }));
    writeFileSync(join(dir, 'index.js'), `export * from '${target}';\n`);
  }
}

/** Transpiles the workspace and one program (`program`: a file URL or path of a .ts file in this
 *  repository), with the helpers in the `lib/` folder beside it, into `node_modules/.cache/<cacheName>`
 *  beside the program, and runs it as the main module with this process's arguments: the body of
 *  the benchmarks' one-line `.mjs` launchers. */
export async function runProgram(program, cacheName) {
  const file = program instanceof URL ? fileURLToPath(program) : resolve(program);
  const cache = join(dirname(file), 'node_modules', '.cache', cacheName);
  await transpileWorkspace(cache, [file, ...sources(join(dirname(file), 'lib'))]);
  const main = join(cache, relative(root, file).replace(/\.ts$/, '.js'));
  process.argv = [process.argv[0], main, ...process.argv.slice(2)];
  await import(pathToFileURL(main).href);
}
