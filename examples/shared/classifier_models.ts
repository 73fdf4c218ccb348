// The digit classifiers of the MNIST examples: a multilayer perceptron built from nn's layers and
// nn's LeNet-5. Both map images (N, 1, 28, 28) to logits (N, 10).
import type { DeviceName } from '@webgrad/core';
import { Flatten, LeNet5, Linear, ReLU, Sequential, type Module } from '@webgrad/nn';
import { IMAGE_SIZE, NUM_CLASSES } from './mnist_digits.js';

export type ModelKind = 'mlp' | 'lenet';

/** The hidden widths of the MNIST example's MLP. */
export const MLP_HIDDEN = [256, 128] as const;

/** Flatten → (Linear → ReLU) per hidden width → Linear to the 10 classes. */
export function buildMlp(hidden: readonly number[], device?: DeviceName): Sequential {
  const net = new Sequential(new Flatten()); // (N, 1, 28, 28) → (N, 784)
  let width = IMAGE_SIZE * IMAGE_SIZE;
  for (const h of hidden) {
    net.append(new Linear(width, h, { device })).append(new ReLU());
    width = h;
  }
  return net.append(new Linear(width, NUM_CLASSES, { device }));
}

/** A fresh model of the given kind (its initial weights come from core's global generator). */
export function buildClassifier(kind: ModelKind, device?: DeviceName): Module {
  return kind === 'lenet' ? new LeNet5({ device, numClasses: NUM_CLASSES }) : buildMlp(MLP_HIDDEN, device);
}

/** A one-line description of a model kind, for logs and tables. */
export function describeClassifier(kind: ModelKind): string {
  return kind === 'lenet' ? 'LeNet-5 (2 conv + 3 linear)' : `MLP 784-${MLP_HIDDEN.join('-')}-10`;
}
