// A traced run of the example, replayed in PyTorch (benchmarks/peers/nanogpt_reference.py
// --replay) from the same initial weights and batches: every training step's loss and every
// evaluation must agree. Needs a python3 that imports torch (scripts/install-pytorch.sh, or
// WEBGRAD_PYTHON); without one this file fails, and WEBGRAD_TEST_PYTORCH=0 leaves it out (refused
// under CI=true, like the WebGPU and browser switches).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { generateCorpus } from '../shared/corpus.js';
import { DEFAULT_OPTIONS, pretrainGpt } from './pretrain.js';

const candidates = process.env.WEBGRAD_PYTHON ? [process.env.WEBGRAD_PYTHON] : ['/usr/bin/python3', 'python3'];
const torchPython = candidates.find((py) => spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 }).status === 0);
const replayScript = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'benchmarks', 'peers', 'nanogpt_reference.py');
const root = mkdtempSync(join(tmpdir(), 'webgrad-replay-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('pretrain-gpt against PyTorch', () => {
  it('a traced run replayed in PyTorch gives the same losses at every step and evaluation', async () => {
    if (!torchPython) {
      throw new Error(`no python with torch among ${candidates.join(', ')}: run scripts/install-pytorch.sh (Debian), `
        + 'set WEBGRAD_PYTHON, or leave this test out with WEBGRAD_TEST_PYTORCH=0');
    }
    const out = join(root, 'traced');
    await pretrainGpt({
      ...DEFAULT_OPTIONS, text: generateCorpus({ chars: 20_000, seed: 7 }), device: 'cpu', nLayer: 1, nHead: 2, nEmbd: 16,
      blockSize: 16, batchSize: 8, steps: 6, lr: 1e-2, minLr: 1e-3, warmup: 2, dropout: 0, evalInterval: 3, evalIters: 2,
      finalEvalIters: 3, seed: 3, sampleTokens: 0, fsync: false, handleSigint: false, stream: { write: () => true, isTTY: false },
      out, trace: true,
    });
    const json = join(root, 'replay.json');
    const r = spawnSync(torchPython, [replayScript, '--replay', out, '--json', json], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const rep = JSON.parse(readFileSync(json, 'utf8')) as {
      steps: number; max_train_delta: number; max_eval_delta: number; max_lr_delta: number;
      evaluations: { step: number; batches: number }[];
    };
    expect(rep.steps).toBe(6);
    expect(rep.evaluations.map((e) => [e.step, e.batches])).toEqual([[0, 2], [3, 2], [6, 2], [6, 3]]);
    // float32 on both sides, different summation orders: agreement to ~1e-6 of losses near 3.
    expect(rep.max_train_delta).toBeLessThan(2e-5);
    expect(rep.max_eval_delta).toBeLessThan(2e-5);
    expect(rep.max_lr_delta).toBeLessThan(1e-12);
  });
});
