// The packages as a user gets them from npm: build, `pnpm pack` each one, check what the tarballs
// hold, install them with npm into a fresh ESM project outside the monorepo (without the optional
// `webgpu` package), import every package and train on the cpu device there, and type-check a
// user's file against the installed declarations with the repository's TypeScript (strict,
// skipLibCheck false). Needs the npm registry for third-party dependencies.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGES, ROOT, packAll, removeStaleOutputs, run } from './pack.mjs';

const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const FIXTURE = join(ROOT, 'scripts', 'pack', 'fixture');
const work = mkdtempSync(join(tmpdir(), 'webgrad-pack-'));
const project = join(work, 'project');
afterAll(() => rmSync(work, { recursive: true, force: true }));

let tarballs: Record<string, string> = {};
const listing: Record<string, string[]> = {};
const manifests: Record<string, Record<string, any>> = {};

beforeAll(async () => {
  // The same build as `pnpm build` (a no-op when dist/ is current), so the tarballs hold the sources' output.
  await run(process.execPath, [TSC, '-b', ...PACKAGES.map((p) => join('packages', p))], { cwd: ROOT });
  tarballs = await packAll(join(work, 'tarballs'));
  for (const name of PACKAGES) {
    listing[name] = execFileSync('tar', ['-tzf', tarballs[name]!], { encoding: 'utf8' }).split('\n').filter(Boolean);
    manifests[name] = JSON.parse(execFileSync('tar', ['-xzOf', tarballs[name]!, 'package/package.json'], { encoding: 'utf8' }));
  }
}, 300_000);

describe('removeStaleOutputs', () => {
  it('deletes the outputs of sources that no longer exist, and nothing else', () => {
    const pkg = join(work, 'stale');
    const files = ['src/a.ts', 'src/sub/b.ts', 'dist/a.js', 'dist/a.d.ts.map', 'dist/sub/b.d.ts', 'dist/.tsbuildinfo',
      'dist/gone.js', 'dist/gone.js.map', 'dist/gone.d.ts', 'dist/old/c.js'];
    for (const f of files) {
      mkdirSync(join(pkg, f, '..'), { recursive: true });
      writeFileSync(join(pkg, f), '');
    }
    const removed = removeStaleOutputs(pkg).map((p) => p.slice(pkg.length + 1)).sort();
    expect(removed).toEqual(['dist/gone.d.ts', 'dist/gone.js', 'dist/gone.js.map', 'dist/old/c.js']);
    expect(files.filter((f) => existsSync(join(pkg, f)))).toEqual(['src/a.ts', 'src/sub/b.ts', 'dist/a.js', 'dist/a.d.ts.map', 'dist/sub/b.d.ts', 'dist/.tsbuildinfo']);
    expect(existsSync(join(pkg, 'dist', 'old'))).toBe(false);
  });
});

describe.each(PACKAGES)('the @webgrad/%s tarball', (name) => {
  it('holds the README, the license, the built JavaScript and declarations, and no build state', () => {
    const files = listing[name]!;
    expect(files).toContain('package/README.md');
    expect(files).toContain('package/LICENSE');
    const license = execFileSync('tar', ['-xzOf', tarballs[name]!, 'package/LICENSE'], { encoding: 'utf8' });
    expect(license).toBe(readFileSync(join(ROOT, 'LICENSE'), 'utf8'));
    expect(files.filter((f) => f.endsWith('.tsbuildinfo'))).toEqual([]);
    expect(files).toContain('package/dist/index.js');
    expect(files).toContain('package/dist/index.d.ts');
    // Every output has its source: no leftovers of removed or renamed files from an old build
    // (packAll deletes them from dist/ before packing, as a release must).
    const sources = new Set(files.filter((f) => f.startsWith('package/src/')).map((f) => f.slice('package/src/'.length).replace(/\.ts$/, '')));
    const orphans = files.filter((f) => f.startsWith('package/dist/') && /\.(js|d\.ts)$/.test(f))
      .filter((f) => !sources.has(f.slice('package/dist/'.length).replace(/\.(js|d\.ts)$/, '')));
    expect(orphans, 'outputs in dist/ without a source in src/').toEqual([]);
  });

  it('has a manifest npm can install: ESM, versions instead of workspace ranges, Node >= 20', () => {
    const m = manifests[name]!;
    expect(m.name).toBe(`@webgrad/${name}`);
    expect(m.type).toBe('module');
    expect(m.license).toBe('MIT');
    expect(m.engines).toEqual({ node: '>=20' });
    expect(JSON.stringify(m)).not.toContain('workspace:');
    expect(m.exports['.']).toEqual({ types: './dist/index.d.ts', import: './dist/index.js' });
    for (const dep of Object.keys(m.dependencies ?? {}).filter((d) => d.startsWith('@webgrad/'))) {
      expect(m.dependencies[dep], dep).toBe(manifests[dep.slice('@webgrad/'.length)]!.version);
    }
    // Only the kernels know of Dawn, and only as an optional peer: cpu and browser users never download it.
    expect(m.dependencies?.webgpu).toBeUndefined();
    expect(m.optionalDependencies?.webgpu).toBeUndefined();
    if (name === 'kernels') {
      expect(m.peerDependencies?.webgpu).toMatch(/^\^0\./);
      expect(m.peerDependenciesMeta?.webgpu).toEqual({ optional: true });
      expect(m.dependencies['@webgpu/types']).toBeDefined();
    }
  });
});

describe('a fresh npm project with every package installed from the tarballs', () => {
  beforeAll(async () => {
    cpSync(FIXTURE, project, { recursive: true });
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'webgrad-pack-check', private: true, type: 'module' }, null, 2));
    const typesNode = JSON.parse(readFileSync(join(ROOT, 'node_modules', '@types', 'node', 'package.json'), 'utf8')).version;
    await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...PACKAGES.map((p) => tarballs[p]!), `@types/node@${typesNode}`], { cwd: project });
  }, 300_000);

  it('installs without webgpu (an optional peer) and with the WebGPU types', () => {
    expect(existsSync(join(project, 'node_modules', 'webgpu'))).toBe(false);
    expect(existsSync(join(project, 'node_modules', '@webgpu', 'types', 'package.json'))).toBe(true);
    for (const name of PACKAGES) expect(existsSync(join(project, 'node_modules', '@webgrad', name, 'dist', 'index.js')), name).toBe(true);
  });

  it('imports every package, trains on the cpu device (loss falls), and names the package initWebGPU needs', async () => {
    const out = await run(process.execPath, ['train.mjs'], { cwd: project });
    const r = JSON.parse(out.trim().split('\n').pop()!);
    for (const name of PACKAGES) expect(r.exportCounts[name], name).toBeGreaterThan(0);
    expect(r.device).toBe('cpu');
    expect(r.steps).toBe(64);
    expect(r.lossAfter).toBeLessThan(r.lossBefore * 0.1);
    expect(r.lastStepLoss).toBeLessThan(r.firstStepLoss);
    expect(r.webgpuError).toMatchObject({ name: 'WebGPUUnavailableError', typed: true });
    expect(r.webgpuError.message).toContain('`npm install webgpu`');
  }, 120_000);

  it('type-checks a user file that imports every package (strict, skipLibCheck false, NodeNext)', async () => {
    const diagnostics = await typeCheck('tsconfig.json');
    expect(diagnostics).toEqual([]);
  }, 120_000);
});

/**
 * Errors of `tsc -p <config>` in the project, less those of @huggingface/tokenizers 0.2.0 (a
 * dependency of @webgrad/data): its declarations import relative paths without extensions, which
 * NodeNext resolution rejects (TS2834) whoever imports them.
 */
async function typeCheck(config: string): Promise<string[]> {
  let output = '';
  try {
    await run(process.execPath, [TSC, '-p', config], { cwd: project });
  } catch (e) {
    output = (e as Error).message;
  }
  const errors = output.split('\n').filter((l) => /error TS\d+/.test(l));
  return errors.filter((l) => !/^node_modules\/@huggingface\/tokenizers\/types\/.*error TS2834:/.test(l));
}
