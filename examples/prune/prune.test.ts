// The prune example end to end on a tiny configuration: both sweeps run, the masks hold through
// the fine-tune (no pruned weight comes back), the sparsities are the ones asked for, and the
// curves, table and summary are written.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { main, optionsFromArgv } from './main.js';
import { pruneExample } from './prune.js';

const out = mkdtempSync(join(tmpdir(), 'webgrad-prune-example-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

it('sweeps LeNet-5 and a char GPT, keeping masks through the fine-tune', async () => {
  let text = '';
  const argv = [
    '--train-digits', '128', '--test-digits', '64', '--batch-size', '16', '--gpt-steps', '3', '--finetune-steps', '3', '--sparsities', '0,0.5',
    '--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--block-size', '16', '--eval-batches', '1', '--out', out,
  ];
  const r = await pruneExample({ ...optionsFromArgv(argv), stream: { write: (s: string) => { text += s; } } });
  for (const sweep of [r.lenet!, r.gpt!]) {
    expect(sweep.points.map((p) => `${p.method} ${p.pattern?.join(':') ?? p.target}`)).toEqual([
      'unstructured 0', 'unstructured 0.5', 'structured 0', 'structured 0.5', 'n:m 3:4', 'n:m 2:4', 'n:m 1:4', 'n:m 1:8', 'n:m 1:16',
    ]);
    for (const p of sweep.points) expect(p.sparsityAfter).toBeGreaterThanOrEqual(p.sparsity);
    expect(sweep.points[1]!.sparsity).toBe(0.5);
    expect(existsSync(sweep.chart) && readFileSync(sweep.chart, 'utf8').startsWith('<svg')).toBe(true);
  }
  const gpt = r.gpt!.points;
  expect(gpt.find((p) => p.pattern?.join(':') === '2:4')!.sparsity).toBe(0.5);
  expect(gpt.find((p) => p.method === 'structured' && p.target === 0.5)!.sparsity).toBe(0.5); // half the heads, half the MLP neurons
  expect(text).toContain('| method | target | weights = 0 | accuracy pruned | accuracy fine-tuned |');
  expect(JSON.parse(readFileSync(r.summaryPath, 'utf8')).gpt.points).toHaveLength(9);
}, 300_000);

it('refuses sparsities outside [0, 1] and a width the N:M patterns cannot group', async () => {
  const error = console.error;
  console.error = () => {};
  try {
    for (const argv of [['--sparsities', '0,1.5'], ['--n-embd', '24', '--n-head', '4']]) {
      expect(await main(argv)).toBeNull();
      expect(process.exitCode).toBe(2);
      process.exitCode = undefined;
    }
  } finally {
    console.error = error;
  }
  expect(() => optionsFromArgv(['--sparsities', 'x'])).toThrow(/--sparsities must be comma-separated numbers in \[0, 1\], got 'x'/);
});
