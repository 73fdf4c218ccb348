// Gradual unfreezing of a pre-trained encoder under a new head (Howard & Ruder 2018, ULMFiT), in
// three stages of `stageEpochs` epochs each: the head alone, then the top half of the encoder
// layers too, then everything (embeddings included). optim's GradualUnfreezing applies it; the
// Trainer calls the returned hook at the start of every epoch.
import type { Module } from '@webgrad/nn';
import { GradualUnfreezing } from '@webgrad/optim';
import { headOf, type Classifier } from './classifier.js';

export interface UnfreezingPlan {
  unfreezer: GradualUnfreezing;
  /** Apply epoch `e`'s stage; returns a description when the trainable set changed, else null. */
  onEpoch(epoch: number): string | null;
}

export function encoderUnfreezing(model: Classifier, stageEpochs: number): UnfreezingPlan {
  const layers: Module[] = [...model.bert.layers];
  const units = [model.bert.embeddings, ...layers]; // bottom → top
  const top = Math.ceil(layers.length / 2);
  const head = headOf(model);
  const unfreezer = new GradualUnfreezing(units, { schedule: [[0, 0], [stageEpochs, top], [2 * stageEpochs, units.length]], alwaysTrainable: head });
  let shown = -1;
  return {
    unfreezer,
    onEpoch(epoch) {
      unfreezer.step(epoch);
      const k = unfreezer.numTrainable;
      if (k === shown) return null;
      shown = k;
      const headName = head.length > 1 ? 'the head (pooler + classifier)' : 'the head (classifier)';
      const what = k === 0 ? headName : k === units.length ? 'everything (embeddings, all layers, head)' : `the head and the top ${k} of ${layers.length} layers`;
      return `epoch ${epoch}: training ${what} — ${model.numParameters({ trainableOnly: true }).toLocaleString('en-US')} parameters`;
    },
  };
}
