// The two classification heads on the encoder. 'cls' is BERT's own (BertForSequenceClassification:
// pooler tanh(dense(h[CLS])) → dropout → linear). 'mean' averages the final hidden states of the
// real tokens → dropout → linear: an encoder pre-trained by MLM alone never learns to gather the
// sequence into [CLS] (BERT's pooler is trained by next-sentence prediction), while every token's
// state carries what MLM taught it — so a mean-pooled head can use the pre-training from step 1.
import { crossEntropy, tidy, type Tensor } from '@webgrad/core';
import { BertForSequenceClassification, BertModel, Dropout, Linear, Module, init, type BertConfig } from '@webgrad/nn';

export type Pooling = 'cls' | 'mean';

export interface ClassifierOutput { logits: Tensor; loss?: Tensor }

export class MeanPoolClassifier extends Module {
  declare bert: BertModel;
  declare dropout: Dropout;
  declare classifier: Linear;

  constructor(config: BertConfig & { numLabels: number }) {
    super();
    this.registerModule('bert', new BertModel(config));
    this.registerModule('dropout', new Dropout(config.classifierDropout ?? this.bert.config.dropout));
    this.registerModule('classifier', new Linear(this.bert.config.hiddenSize, config.numLabels, { dtype: config.dtype, device: config.device }));
    init.normal(this.classifier.weight, 0, this.bert.config.initStd);
    init.zeros(this.classifier.bias!);
  }

  /** ids (B, T), attentionMask (B, T) 1 = token → logits (B, numLabels); with labels (B), the mean cross-entropy. */
  forward(ids: Tensor, opts: { attentionMask?: Tensor | null; labels?: Tensor | null } = {}): ClassifierOutput {
    return tidy(() => {
      const { lastHiddenState: h } = this.bert.forward(ids, { attentionMask: opts.attentionMask }); // (B, T, H)
      const m = (opts.attentionMask ?? ids.ne(-1)).float().unsqueeze(-1);                        // (B, T, 1)
      const pooled = h.mul(m).sum(1).div(m.sum(1));                                                // (B, H)
      const logits = this.classifier.forward(this.dropout.forward(pooled));                        // (B, C)
      return opts.labels ? { logits, loss: crossEntropy(logits, opts.labels) } : { logits };
    });
  }
}

export type Classifier = BertForSequenceClassification | MeanPoolClassifier;

export function makeClassifier(pooling: Pooling, config: BertConfig & { numLabels: number }): Classifier {
  return pooling === 'cls' ? new BertForSequenceClassification(config) : new MeanPoolClassifier(config);
}

/** The new (not pre-trained) modules of a classifier. */
export function headOf(model: Classifier): Module[] {
  return model instanceof BertForSequenceClassification ? [model.bert.pooler, model.classifier] : [model.classifier];
}
