// Gradient checkpointing of the transformer models: a training step with each block under
// `checkpoint` gives the same loss and the same parameter gradients as without (the same kernels
// run, so bit for bit, dropout included), holds fewer bytes between forward and backward, and
// leaves memory() where it was.
import { describe, expect, it } from 'vitest';
import { ValueError, manualSeed, memory, randint, tensor, tidy, type DeviceName, type Tensor } from '@webgrad/core';
import { BertModel, GPT, Llama, type Module } from '@webgrad/nn';
import { DEVICES } from './helpers/layer_check.js';

const bytes = (device: DeviceName): number => memory().devices[device]?.bytes ?? 0;

/** Loss and every parameter's gradient (by name) of one step, the gradients taken off the model. */
async function step(model: Module, loss: () => Tensor): Promise<{ loss: number[]; grads: Map<string, number[]> }> {
  manualSeed(42);
  const l = tidy(() => { const v = loss(); v.backward(); return v.detach(); });
  const grads = new Map<string, number[]>();
  for (const [name, p] of model.namedParameters()) {
    grads.set(name, Array.from(await p.grad!.data()));
    p.grad!.dispose();
    p.grad = null;
  }
  const out = { loss: Array.from(await l.data()), grads };
  l.dispose();
  return out;
}

async function expectSameStep(model: Module & { gradientCheckpointing: boolean }, loss: () => Tensor): Promise<void> {
  model.gradientCheckpointing = false;
  const plain = await step(model, loss);
  model.gradientCheckpointing = true;
  const before = memory();
  const ckpt = await step(model, loss);
  expect(memory().tensors).toBe(before.tensors);
  expect(memory().bytes).toBe(before.bytes);
  expect(ckpt.loss).toEqual(plain.loss);
  expect([...ckpt.grads.keys()]).toEqual([...plain.grads.keys()]);
  for (const [name, g] of plain.grads) {
    expect(ckpt.grads.get(name), name).toEqual(g);
    expect(g.some((v) => v !== 0), `${name} has a gradient`).toBe(true);
  }
}

describe.each(DEVICES)('gradient checkpointing on %s', (device) => {
  const gptConfig = { vocabSize: 40, blockSize: 16, nLayer: 4, nHead: 4, nEmbd: 32, dropout: 0.1, device };

  it('GPT: loss and every parameter gradient equal with and without, dropout on', async () => {
    const model = new GPT(gptConfig);
    const idx = randint(0, 40, [3, 16], { device });
    const targets = randint(0, 40, [3, 16], { device });
    await expectSameStep(model, () => model.forward(idx, targets).loss!);
    model.dispose(); idx.dispose(); targets.dispose();
  });

  it('GPT: the graph held after forward is smaller', () => {
    const model = new GPT(gptConfig);
    const idx = randint(0, 40, [3, 16], { device });
    const targets = randint(0, 40, [3, 16], { device });
    const held = (on: boolean) => {
      model.gradientCheckpointing = on;
      const before = bytes(device);
      const loss = tidy(() => model.forward(idx, targets).loss!);
      const graph = bytes(device) - before;
      loss.backward();
      loss.dispose();
      for (const p of model.parameters()) { p.grad?.dispose(); p.grad = null; }
      expect(bytes(device)).toBe(before);
      return graph;
    };
    const plain = held(false), ckpt = held(true);
    // Without: every block's activations (ln, qkv, attention, MLP: ~17 (B, T, C)-sized tensors per
    // block, 6 KiB each here); with: the four block inputs plus the head's.
    expect(ckpt).toBeLessThan(plain / 2);
    expect(plain - ckpt).toBeGreaterThan(4 * 10 * 3 * 16 * 32 * 4);
    model.dispose(); idx.dispose(); targets.dispose();
  });

  it('Llama: loss and gradients equal with and without', async () => {
    const model = new Llama({ vocabSize: 30, hiddenSize: 16, intermediateSize: 32, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, maxPositionEmbeddings: 16, device });
    const idx = randint(0, 30, [2, 12], { device });
    const targets = randint(0, 30, [2, 12], { device });
    await expectSameStep(model, () => model.forward(idx, targets).loss!);
    model.dispose(); idx.dispose(); targets.dispose();
  });

  it('BERT: loss and gradients equal with and without, with a padding mask and dropout', async () => {
    const model = new BertModel({ vocabSize: 30, hiddenSize: 16, numLayers: 2, numHeads: 2, intermediateSize: 32, maxPositions: 16, dropout: 0.1, device });
    const ids = randint(0, 30, [2, 10], { device });
    const mask = tensor([[1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 0, 0, 0, 0]], { dtype: 'int32', device });
    await expectSameStep(model, () => { const o = model.forward(ids, { attentionMask: mask }); return o.lastHiddenState.square().mean().add(o.pooledOutput.sum()); });
    model.dispose(); ids.dispose(); mask.dispose();
  });
});

describe('gradient checkpointing flag', () => {
  it('comes from the config, is toggled by the enable/disable methods, and a non-boolean is refused', () => {
    const m = new GPT({ vocabSize: 8, blockSize: 4, nLayer: 1, nHead: 1, nEmbd: 4, gradientCheckpointing: true });
    expect(m.gradientCheckpointing).toBe(true);
    expect(m.gradientCheckpointingDisable()).toBe(m);
    expect(m.gradientCheckpointing).toBe(false);
    expect(m.gradientCheckpointingEnable().gradientCheckpointing).toBe(true);
    expect(() => new GPT({ vocabSize: 8, blockSize: 4, nLayer: 1, nHead: 1, nEmbd: 4, gradientCheckpointing: 1 as never })).toThrow(ValueError);
    expect(() => new GPT({ vocabSize: 8, blockSize: 4, nLayer: 1, nHead: 1, nEmbd: 4, gradientCheckpointing: 1 as never })).toThrow(/config\.gradientCheckpointing/);
    expect(() => new Llama({ vocabSize: 8, hiddenSize: 4, intermediateSize: 8, numHiddenLayers: 1, numAttentionHeads: 1, maxPositionEmbeddings: 4, gradientCheckpointing: 'yes' as never })).toThrow(/config\.gradientCheckpointing/);
    expect(() => new BertModel({ vocabSize: 8, hiddenSize: 4, numLayers: 1, numHeads: 1, gradientCheckpointing: null as never })).toThrow(/config\.gradientCheckpointing/);
    m.dispose();
  });

  it('records the checkpoint node only while training', () => {
    const m = new GPT({ vocabSize: 8, blockSize: 4, nLayer: 2, nHead: 1, nEmbd: 4, gradientCheckpointing: true });
    const idx = tensor([[1, 2, 3]], { dtype: 'int32' });
    // Each block's output is produced by one 'checkpoint' node, fed by the previous block's.
    const ops = (train: boolean) => tidy(() => {
      m.train(train);
      const logits = m.forward(idx).logits;
      const seen: string[] = [];
      const stack = [logits.gradFn];
      while (stack.length) {
        const n = stack.pop();
        if (!n) continue;
        seen.push(n.op);
        for (const e of n.edges) stack.push(e.node);
      }
      return seen.filter((op) => op === 'checkpoint').length;
    });
    expect(ops(true)).toBe(2);
    expect(ops(false)).toBe(0);
    m.dispose(); idx.dispose();
  });
});
