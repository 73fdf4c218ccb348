// Every ```ts block of every package's README.md type-checks against the workspace sources (as a
// user's strict TypeScript would) and runs as a program: transpiled with the workspace sources
// (scripts/transpile_workspace.mjs, as `pnpm example` runs the examples) and run by Node in a fresh
// directory, so a README that stops matching the API fails here.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without declarations
import { transpileWorkspace } from '../../../scripts/transpile_workspace.mjs';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const PACKAGES = ['kernels', 'core', 'nn', 'optim', 'data', 'train', 'rl'];

/** The ```ts blocks of a markdown file, in order. */
function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

const examples = PACKAGES.flatMap((pkg) => {
  const readme = join(root, 'packages', pkg, 'README.md');
  const blocks = existsSync(readme) ? tsBlocks(readFileSync(readme, 'utf8')) : [];
  return blocks.map((code, i) => ({ pkg, name: `${pkg}_${i + 1}`, code }));
});

// Inside examples/node_modules, so the transpiled sources resolve the packages' own dependencies
// (webgpu, @huggingface/tokenizers) from there, as `pnpm example` does; one pair of folders per run.
const cacheRoot = join(root, 'examples', 'node_modules', '.cache');
const cache = join(cacheRoot, `webgrad-readmes-${process.pid}`);
const srcDir = join(cacheRoot, `webgrad-readmes-src-${process.pid}`);
const work = mkdtempSync(join(tmpdir(), 'webgrad-readmes-'));

beforeAll(async () => {
  rmSync(srcDir, { recursive: true, force: true });
  mkdirSync(srcDir, { recursive: true });
  const files = examples.map(({ name, code }) => {
    const file = join(srcDir, `${name}.ts`);
    writeFileSync(file, code);
    return file;
  });
  await transpileWorkspace(cache, files);
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(srcDir, { recursive: true, force: true });
  rmSync(cache, { recursive: true, force: true });
});

describe('package READMEs', () => {
  it.each(PACKAGES)('packages/%s/README.md has a TypeScript example', (pkg) => {
    expect(examples.filter((e) => e.pkg === pkg).length).toBeGreaterThan(0);
  });

  it('the examples type-check', () => {
    const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.check.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
    const files = examples.map(({ name }) => join(srcDir, `${name}.ts`));
    const program = ts.createProgram(files, { ...config.options, noEmit: true });
    const errors = files.flatMap((f) => ts.getPreEmitDiagnostics(program, program.getSourceFile(f)))
      .map((d) => `${d.file?.fileName.split('/').pop()}:${d.file ? d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1 : '?'}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    expect(errors).toEqual([]);
  });

  it.each(examples.map((e) => [e.name, e] as const))('example %s runs', async (_name, { name }) => {
    const program = join(cache, 'examples', 'node_modules', '.cache', `webgrad-readmes-src-${process.pid}`, `${name}.js`);
    const cwd = join(work, name);                          // files the example writes land here
    mkdirSync(cwd);
    const run = await promisify(execFile)(process.execPath, [program], { cwd, timeout: 90_000, maxBuffer: 16 << 20 }).catch((e: { stdout?: string; stderr?: string; message: string }) => e);
    if ('message' in run) throw new Error(`packages/${name.split('_')[0]}/README.md example ${name.split('_')[1]} failed: ${run.message}\n${run.stdout ?? ''}\n${run.stderr ?? ''}`);
    expect(run.stdout, 'an example shows what it computed').not.toBe('');
  });
});
