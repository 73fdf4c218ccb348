// The masked-LM loss predicted at the chosen positions only: the encoder runs on the whole batch,
// then the hidden states of the N chosen positions are gathered and BertForMaskedLM's own head
// (transform → tied decoder) maps them to the vocabulary. The same loss as the head's dense
// cross-entropy with −100 elsewhere, without computing logits nobody scores.
import { crossEntropy, tidy, type Tensor } from '@webgrad/core';
import type { BertForMaskedLM } from '@webgrad/nn';
import type { MlmBatch } from './mlm_data.js';

export function sparseMlmForward(model: BertForMaskedLM, batch: MlmBatch): { loss: Tensor; logits: Tensor } {
  return tidy(() => {
    const { lastHiddenState } = model.bert.forward(batch.inputs);                  // (B, T, H)
    const H = lastHiddenState.shape[2]!;
    const chosen = lastHiddenState.reshape([-1, H]).indexSelect(0, batch.positions); // (N, H)
    const logits = model.mlmHead.forward(chosen, model.bert.embeddings.wordEmbeddings.weight); // (N, V)
    return { loss: crossEntropy(logits, batch.targets), logits };
  });
}
