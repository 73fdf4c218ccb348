// Packs the published packages the way a release does: `pnpm pack` in each package folder, which
// writes the tarball npm would publish (workspace:* ranges replaced by versions, `files` applied).
// Usage: node scripts/pack/pack.mjs <folder>   (run `pnpm build` first: the tarballs hold dist/)
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
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

/** Packs every package into `dest`; returns { name: tarball path }. */
export async function packAll(dest) {
  mkdirSync(dest, { recursive: true });
  const entries = await Promise.all(PACKAGES.map(async (name) => {
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
