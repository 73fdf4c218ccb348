// nanoGPT's CPU-configuration GPT as the benchmarks train it, and a training step of it: the model
// specs the suites share, and the step (zero the gradients, forward with the loss, backward, AdamW)
// that the compiled suite and the dispatch tally time or count, eager or under `compile`.
import { tensor, tidy, type DeviceName, type Tensor } from '@webgrad/core';
import { GPT } from '@webgrad/nn';
import { AdamW } from '@webgrad/optim';

export interface GptSpec { vocab: number; block: number; layers: number; heads: number; embd: number; batch: number }

/** nanoGPT's CPU configuration (4 layers, 4 heads, 128 wide, context 64, batch 12, character vocabulary). */
export const NANOGPT_CPU: GptSpec = { vocab: 65, block: 64, layers: 4, heads: 4, embd: 128, batch: 12 };

/** Fixed pseudo-random token ids in [0, vocab) (a linear congruential sequence from `seed`). */
export function tokenIds(count: number, vocab: number, seed: number): Int32Array {
  const out = new Int32Array(count);
  let a = seed >>> 0;
  for (let i = 0; i < count; i++) { a = (Math.imul(a, 1664525) + 1013904223) >>> 0; out[i] = a % vocab; }
  return out;
}

export interface GptTrainStep {
  /** One training step on (ids, targets); returns the loss. */
  step: (x: Tensor, y: Tensor) => Tensor;
  /** A batch of ids and its targets, on the step's device. */
  idx: Tensor;
  tgt: Tensor;
  /** Frees the model, the optimizer's state and the batch. */
  dispose: () => void;
}

/** The GPT of `g` on `device` with AdamW (weight decay 0.1 on the matrices, lr 1e-3), a fixed batch, and its training step. */
export function gptTrainStep(device: DeviceName, g: GptSpec = NANOGPT_CPU): GptTrainStep {
  const model = new GPT({ vocabSize: g.vocab, blockSize: g.block, nLayer: g.layers, nHead: g.heads, nEmbd: g.embd }).to(device);
  const opt = new AdamW(model.configureOptimizerGroups(0.1), { lr: 1e-3 });
  const idx = tensor(tokenIds(g.batch * g.block, g.vocab, 3), { shape: [g.batch, g.block], dtype: 'int32', device });
  const tgt = tensor(tokenIds(g.batch * g.block, g.vocab, 4), { shape: [g.batch, g.block], dtype: 'int32', device });
  const step = (x: Tensor, y: Tensor): Tensor => tidy(() => {
    opt.zeroGrad();
    const l = model.forward(x, y).loss!;
    l.backward();
    opt.step();
    return l;
  });
  return { step, idx, tgt, dispose: () => { idx.dispose(); tgt.dispose(); for (const p of model.parameters()) p.dispose(); opt.dispose(); } };
}
