// The Trainer's --resume after a kill in the middle of re-saving a checkpoint: the previous copy
// was moved aside and the new one was still a temp directory. The resumed run must start from the
// copy moved aside and end with the same weights as a run that was never interrupted.
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { manualSeed, randn } from '@webgrad/core';
import { Linear } from '@webgrad/nn';
import { cosineWithWarmup, latestCheckpoint, LrScheduler, AdamW } from '@webgrad/optim';
import { Trainer } from '@webgrad/train';

const root = mkdtempSync(join(tmpdir(), 'webgrad-trainer-resume-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function trainer(outDir: string, resume: boolean, stopAt?: number) {
  manualSeed(5);
  const model = new Linear(3, 1);
  const optimizer = new AdamW(model.parameters(), { lr: 0.05 });
  const scheduler = new LrScheduler(cosineWithWarmup({ lr: 0.05, warmupSteps: 2, decaySteps: 8, minLr: 0.001 }), { onLr: (lr) => optimizer.setLr(lr) });
  const loss = () => model.forward(randn([4, 3])).sub(1).square().mean();
  const t = new Trainer({
    model, optimizer, scheduler, steps: 8, trainLoss: loss, evalLoss: loss, evalInterval: 3, evalIters: 2, outDir, resume,
    handleSigint: false, fsync: false, stream: { write: () => true }, tty: false,
    onStep: stopAt === undefined ? undefined : (info, tr) => { if (info.step === stopAt) tr.stop(); },
  });
  return { t, model };
}

const weights = async (m: Linear) => Promise.all(m.parameters().map(async (p) => [...(await p.data())]));

describe('Trainer --resume', () => {
  it('resumes from the checkpoint a killed re-save had moved aside, exactly', async () => {
    const straight = trainer(join(root, 'straight'), false);
    await straight.t.run();

    const out = join(root, 'killed');
    const first = trainer(out, false, 5);
    const stopped = await first.t.run();
    expect(stopped.interrupted).toBe(true);
    const ckpts = join(out, 'checkpoints');
    expect((await latestCheckpoint(ckpts))!.step).toBe(5);
    // What a kill between the two renames of a re-save of step 5 leaves behind.
    renameSync(join(ckpts, 'checkpoint-00000005'), join(ckpts, '.old-checkpoint-00000005'));
    mkdirSync(join(ckpts, '.tmp-checkpoint-00000005-1-abcdef'));
    writeFileSync(join(ckpts, '.tmp-checkpoint-00000005-1-abcdef', 'model.safetensors'), new Uint8Array(7));

    const resumed = trainer(out, true);
    const r = await resumed.t.run();
    expect(r.startStep).toBe(5);
    expect(r.step).toBe(8);
    expect(await weights(resumed.model)).toEqual(await weights(straight.model));
    expect(readdirSync(ckpts).filter((e) => e.startsWith('.'))).toEqual([]);
    expect((await latestCheckpoint(ckpts))!.step).toBe(8);
  });
});
