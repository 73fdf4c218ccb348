// Packs the published packages the way a release does: `pnpm pack` in each package folder, which
// writes the tarball npm would publish (workspace:* ranges replaced by versions, `files` applied).
// tsc never deletes the output of a source that was removed or renamed, so first each dist/ loses
// the .js/.d.ts (and maps) that no source under src/ produces any more.
// Usage: node scripts/pack/pack.mjs <folder>   (run `pnpm build` first: the tarballs hold dist/)
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, unlinkSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The packages published to npm, in dependency order. */
export const PACKAGES = ['kernels', 'core', 'nn', 'optim', 'data', 'train', 'rl'];

/** Runs a command; resolves with its stdout, rejects with its output when it exits non-zero. */
export function run(cmd, args, opts = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolvePromise(out);
      else reject(new Error(`${cmd} ${args.join(' ')} (in ${opts.cwd ?? process.cwd()}) exited with ${code}:\n${out}${err}`));
    });
  });
}

/** Deletes the files under `pkgDir`/dist compiled from a src/ file that no longer exists; returns their paths. */
export function removeStaleOutputs(pkgDir) {
  const removed = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(path);
        if (readdirSync(path).length === 0) rmdirSync(path);
        continue;
      }
      const stem = relative(join(pkgDir, 'dist'), path).match(/^(.*)\.(?:js|d\.ts)(?:\.map)?$/)?.[1];
      if (stem !== undefined && !existsSync(join(pkgDir, 'src', `${stem}.ts`))) {
        unlinkSync(path);
        removed.push(path);
      }
    }
  };
  if (existsSync(join(pkgDir, 'dist'))) walk(join(pkgDir, 'dist'));
  return removed;
}

/** Packs every package into `dest`; returns { name: tarball path }. */
export async function packAll(dest) {
  mkdirSync(dest, { recursive: true });
  const entries = await Promise.all(PACKAGES.map(async (name) => {
    removeStaleOutputs(join(ROOT, 'packages', name));
    const out = await run('pnpm', ['pack', '--json', '--pack-destination', dest], { cwd: join(ROOT, 'packages', name) });
    const { filename } = JSON.parse(out.slice(out.indexOf('{')));
    return [name, resolve(dest, filename)];
  }));
  return Object.fromEntries(entries);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dest = process.argv[2];
  if (!dest) {
    console.error('usage: node scripts/pack/pack.mjs <folder>');
    process.exit(2);
  }
  for (const file of Object.values(await packAll(resolve(dest)))) console.log(file);
}
