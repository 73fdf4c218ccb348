// The three ways the example prunes each model, all to a target sparsity s of the prunable
// weights (every conv and Linear weight of LeNet-5; the four Linear weights of each GPT block —
// embeddings, LayerNorms and biases are left dense):
//   unstructured  one global magnitude threshold across the weights (globalUnstructured);
//   structured    a fraction s of each layer's output channels (LeNet's filters and neurons, the
//                 GPT's MLP neurons) by L2 norm with their biases, plus the weights that read a
//                 pruned channel in the next layer, and for the GPT a fraction s of the heads —
//                 what could be cut out of the dense tensors;
//   N:M           N of every M consecutive weights along the input dim (2:4 is 50%), on the layers
//                 whose input width is a multiple of M.
import { noGrad, ones, type Tensor } from '@webgrad/core';
import { Conv2d, LeNet5, Linear, type GPT, type Module } from '@webgrad/nn';
import { customFromMask, globalUnstructured, nmStructured, pruneChannels, pruneHeads } from '@webgrad/optim';

export type Method = 'unstructured' | 'structured' | 'n:m';
export const METHODS: readonly Method[] = ['unstructured', 'structured', 'n:m'];

/** The N:M patterns of the sweep and the sparsity each gives: 1 − N/M. */
export const NM_PATTERNS: readonly [number, number][] = [[3, 4], [2, 4], [1, 4], [1, 8], [1, 16]];

/** A model the sweep prunes: its prunable weights and how each method prunes it. */
export interface Prunable<M extends Module> {
  /** [layer, 'weight'] for every weight the sparsity counts. */
  targets(model: M): [Module, string][];
  /** Prune a fraction s of the output channels (and heads) of `model`. */
  structured(model: M, s: number): Promise<void>;
}

/** Zero the inputs of `next` that read the channels `gone` of the layer before (`width` inputs per channel). */
function pruneInputs(next: Linear | Conv2d, gone: readonly number[], width: number): void {
  if (gone.length === 0) return;
  const w = next.weight;
  const mask = noGrad(() => ones([...w.shape], { device: w.device }));
  noGrad(() => {
    for (const c of gone) {
      if (next instanceof Conv2d) mask.narrow(1, c, 1).zero_(); // (out, in, kh, kw): input channel c
      else mask.narrow(1, c * width, width).zero_(); // (out, in): the in-columns of channel c
    }
  });
  customFromMask(next, 'weight', mask);
  mask.dispose();
}

export const LENET: Prunable<LeNet5> = {
  targets: (m) => [m.conv1, m.conv2, m.fc1, m.fc2, m.fc3].map((l) => [l, 'weight']),
  async structured(m, s) {
    // conv1 → conv2 (input channels), conv2 → fc1 (16 channels of 5×5 flattened), fc1 → fc2 → fc3.
    const chain: [Linear | Conv2d, Linear | Conv2d, number][] = [[m.conv1, m.conv2, 1], [m.conv2, m.fc1, 25], [m.fc1, m.fc2, 1], [m.fc2, m.fc3, 1]];
    for (const [layer, next, width] of chain) pruneInputs(next, await pruneChannels(layer, { amount: s }), width);
  },
};

export const GPT_BLOCKS: Prunable<GPT> = {
  targets: (m) => [...m.h].flatMap((b) => [b.attn.cAttn, b.attn.cProj, b.mlp.cFc, b.mlp.cProj].map((l) => [l, 'weight'] as [Module, string])),
  async structured(m, s) {
    for (const b of m.h) {
      await pruneHeads(b.attn, { amount: s }); // q/k/v rows and cProj columns of each head
      pruneInputs(b.mlp.cProj, await pruneChannels(b.mlp.cFc, { amount: s }), 1); // MLP neurons
    }
  },
};

/** Prune `model` by `method` to sparsity `s` (for N:M, `pattern` gives N and M instead). */
export async function prune<M extends Module>(model: M, p: Prunable<M>, method: Method, s: number, pattern?: [number, number]): Promise<void> {
  if (method === 'unstructured') await globalUnstructured(p.targets(model), { amount: s });
  else if (method === 'structured') await p.structured(model, s);
  else {
    const [n, m] = pattern!;
    for (const [layer, name] of p.targets(model)) {
      const w = layer.getParameter(name)!;
      if (w.shape[1]! % m === 0) await nmStructured(layer, name, { n, m });
    }
  }
}

/** Fraction of the prunable weights that are exactly 0. */
export async function weightSparsity(model: Module, p: Prunable<Module>): Promise<number> {
  let zeros = 0, total = 0;
  for (const [layer, name] of p.targets(model)) {
    const v = await (layer.getParameter(name) as Tensor).data();
    for (let i = 0; i < v.length; i++) if (v[i] === 0) zeros++;
    total += v.length;
  }
  return zeros / total;
}
