// LeNet-5 (LeCun et al. 1998) for 28×28 single-channel images (MNIST), in its common modern form:
// conv1 5×5 (padding 2) → ReLU → max-pool 2 → conv2 5×5 → ReLU → max-pool 2 → fc1 400→120 → ReLU
// → fc2 120→84 → ReLU → fc3 84→numClasses. Parameter names: conv1, conv2, fc1, fc2, fc3.
import { ShapeError, checkOptions, checkSize, fmtShape, maxPool2d, tidy, type Tensor } from '@webgrad/core';
import { Module } from '../module.js';
import { FACTORY_KEYS, checkFactory, checkFloatInput } from '../args.js';
import { Conv2d } from '../layers/conv.js';
import { Linear, type FactoryOptions } from '../layers/linear.js';

/** Options of LeNet5: input channels (default 1) and classes (default 10), plus where its parameters are created. */
export interface LeNetOptions extends FactoryOptions {
  /** Channels of the input images (default 1). */
  inChannels?: number;
  /** Classes predicted (default 10). */
  numClasses?: number;
}

export class LeNet5 extends Module {
  /** inChannels → 6, 5×5, padding 2. */
  declare conv1: Conv2d;
  /** 6 → 16, 5×5. */
  declare conv2: Conv2d;
  /** 400 → 120. */
  declare fc1: Linear;
  /** 120 → 84. */
  declare fc2: Linear;
  /** 84 → numClasses. */
  declare fc3: Linear;

  constructor(opts: LeNetOptions = {}) {
    super();
    checkOptions('LeNet5', opts, ['inChannels', 'numClasses', ...FACTORY_KEYS]);
    if (opts.inChannels !== undefined) checkSize('LeNet5', 'inChannels', opts.inChannels, 1);
    if (opts.numClasses !== undefined) checkSize('LeNet5', 'numClasses', opts.numClasses, 1);
    checkFactory('LeNet5', opts);
    const f = { dtype: opts.dtype, device: opts.device };
    this.registerModule('conv1', new Conv2d(opts.inChannels ?? 1, 6, 5, { ...f, padding: 2 }));
    this.registerModule('conv2', new Conv2d(6, 16, 5, f));
    this.registerModule('fc1', new Linear(16 * 5 * 5, 120, f));
    this.registerModule('fc2', new Linear(120, 84, f));
    this.registerModule('fc3', new Linear(84, opts.numClasses ?? 10, f));
  }

  /** x (N, C, 28, 28) → logits (N, numClasses) */
  forward(x: Tensor): Tensor {
    checkFloatInput('LeNet5', x);
    if (x.ndim !== 4 || x.shape[2] !== 28 || x.shape[3] !== 28) throw new ShapeError(`LeNet5: expected images (N, ${this.conv1.inChannels}, 28, 28), got ${fmtShape(x.shape)}`);
    return tidy(() => {
      let h = maxPool2d(this.conv1.forward(x).relu(), 2);        // (N, 6, 14, 14)
      h = maxPool2d(this.conv2.forward(h).relu(), 2);            // (N, 16, 5, 5)
      h = h.flatten(1);                                          // (N, 400)
      h = this.fc2.forward(this.fc1.forward(h).relu()).relu();   // (N, 84)
      return this.fc3.forward(h);                                // (N, numClasses)
    });
  }
}
