// The starting policy of the RL examples: a small character GPT trained from scratch by supervised
// fine-tuning on a checkable task's demonstrations (loss on the completion tokens only), on the
// shared Trainer. The demonstrations are imperfect on purpose (a share of near misses, some
// without the EOS), so the policy leaves room for reinforcement learning. The result is
// checkpointed in `dir` and reused by a later run with the same settings.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { manualSeed, randint, tensor, type DeviceName } from '@webgrad/core';
import { GPT } from '@webgrad/nn';
import { AdamW, latestCheckpoint, loadCheckpoint } from '@webgrad/optim';
import { seededRandom } from '@webgrad/rl';
import { Trainer, type ProgressStream } from '@webgrad/train';
import type { CharTokenizer } from './char_tokenizer.js';
import { demonstrations, type CheckableTask } from './checkable_tasks.js';

export interface TaskPolicyOptions {
  task: CheckableTask;
  tokenizer: CharTokenizer;
  device: DeviceName;
  seed: number;
  /** Demonstrations to train on, and the share of them that are wrong. */
  examples: number;
  noise: number;
  steps: number;
  batchSize: number;
  lr: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  blockSize: number;
  /** Checkpoint directory (reused when its settings match). */
  dir: string;
  say: (s: string) => void;
  stream?: ProgressStream;
  tty?: boolean;
  fsync?: boolean;
}

export interface TaskPolicy {
  model: GPT;
  /** Whether the checkpoint in `dir` was reused. */
  reused: boolean;
  /** Loss of the last step (NaN when reused). */
  finalLoss: number;
}

/** The settings that make a checkpoint reusable, stored with it. */
function settings(o: TaskPolicyOptions) {
  return {
    task: o.task.name, chars: o.tokenizer.chars.join(''), seed: o.seed, examples: o.examples, noise: o.noise, steps: o.steps, batchSize: o.batchSize, lr: o.lr,
    model: { vocabSize: o.tokenizer.vocabSize, blockSize: o.blockSize, nLayer: o.nLayer, nHead: o.nHead, nEmbd: o.nEmbd, dropout: 0 },
  };
}

/** Train (or reload) the task policy. */
export async function trainTaskPolicy(o: TaskPolicyOptions): Promise<TaskPolicy> {
  const want = settings(o);
  const model = new GPT({ ...want.model, device: o.device });
  const ckptDir = join(o.dir, 'checkpoints');
  const latest = existsSync(ckptDir) ? await latestCheckpoint(ckptDir) : null;
  if (latest) {
    const meta = await loadCheckpoint(latest.path, { restoreRng: false });
    if (JSON.stringify((meta.extra as { user?: unknown } | undefined)?.user) === JSON.stringify(want)) {
      await loadCheckpoint(latest.path, { model, restoreRng: false });
      o.say(`policy: reusing the SFT checkpoint ${latest.path}`);
      return { model, reused: true, finalLoss: NaN };
    }
    rmSync(o.dir, { recursive: true, force: true });
  }
  const demos = demonstrations(o.task, o.examples, o.noise, seededRandom(o.seed));
  const rows = demos.map((d) => ({ ids: o.tokenizer.encode(d.prompt + d.completion), promptLength: d.prompt.length }));
  const T = Math.max(...rows.map((r) => r.ids.length)) - 1;
  if (T > o.blockSize) throw new RangeError(`task policy: demonstrations of ${T + 1} tokens exceed blockSize ${o.blockSize} + 1`);
  o.say(`policy: SFT of a GPT (${o.nLayer} layers, ${o.nEmbd} wide, ${(model.numParameters() / 1e3).toFixed(0)}k parameters) from scratch on ${o.examples} '${o.task.name}' demonstrations (${Math.round(o.noise * 100)}% wrong), ${o.steps} steps`);
  manualSeed(o.seed);
  const optimizer = new AdamW(model.parameters(), { lr: o.lr, weightDecay: 0 });
  let lastLoss = NaN;
  const trainer = new Trainer({
    model, optimizer, steps: o.steps, outDir: o.dir, checkpointExtra: want, gradClip: 1, itemsName: 'rows', itemsPerStep: o.batchSize,
    stream: o.stream, tty: o.tty, fsync: o.fsync, handleSigint: false, logInterval: 25,
    trainLoss: () => {
      // B random demonstrations: inputs (B, T) and targets (B, T), −100 on prompt and padding targets.
      const pickT = randint(0, rows.length, [o.batchSize], { device: 'cpu' });
      const picks = Array.from(pickT.dataSync());
      pickT.dispose();
      const x = new Int32Array(o.batchSize * T);
      const y = new Int32Array(o.batchSize * T).fill(-100);
      picks.forEach((r, b) => {
        const { ids, promptLength } = rows[r]!;
        x.set(ids.subarray(0, Math.min(T, ids.length - 1)), b * T);
        for (let t = promptLength - 1; t < ids.length - 1; t++) y[b * T + t] = ids[t + 1]!;
      });
      const xs = tensor(x, { shape: [o.batchSize, T], dtype: 'int32', device: o.device });
      const ys = tensor(y, { shape: [o.batchSize, T], dtype: 'int32', device: o.device });
      return model.forward(xs, ys).loss!;
    },
    onStep: (info) => { if (info.loss !== undefined) lastLoss = info.loss; },
  });
  await trainer.run();
  optimizer.dispose();
  return { model, reused: false, finalLoss: lastLoss };
}
