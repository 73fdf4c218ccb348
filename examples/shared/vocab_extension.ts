// Growing a GPT's vocabulary, as Hugging Face's resize_token_embeddings: a new model with more
// token rows whose other weights are copied over. The old rows keep their ids; each new row starts
// at the mean of the old rows, so (with the LM head tied to the embedding) a new token's logit
// starts at the mean of the old logits and the model's predictions barely move (Hewitt 2021,
// "Initializing new word embeddings for pretrained language models").
import { noGrad, tensor, tidy } from '@webgrad/core';
import { GPT } from '@webgrad/nn';
import { CharTokenizer } from './char_tokenizer.js';

/** A copy of `model` with `vocabSize` token rows (≥ the model's); `model` is left as it was. */
export async function resizeTokenEmbeddings(model: GPT, vocabSize: number): Promise<GPT> {
  const { vocabSize: V, nEmbd: C, blockSize, nLayer, nHead, dropout, bias, dtype } = model.config;
  if (!Number.isInteger(vocabSize) || vocabSize < V) throw new RangeError(`resizeTokenEmbeddings: vocabSize must be an integer >= ${V}, got ${vocabSize}`);
  const device = model.wte.weight.device;
  const bigger = new GPT({ vocabSize, blockSize, nLayer, nHead, nEmbd: C, dropout, bias, dtype, device });
  const own = model.stateDict();
  const old = await model.wte.weight.data(); // (V, C)
  const rows = new Float32Array(vocabSize * C); // (V', C)
  rows.set(old);
  for (let c = 0; c < C; c++) {
    let mean = 0;
    for (let v = 0; v < V; v++) mean += old[v * C + c]!;
    mean /= V;
    for (let v = V; v < vocabSize; v++) rows[v * C + c] = mean;
  }
  noGrad(() => tidy(() => {
    for (const [name, t] of Object.entries(bigger.stateDict())) {
      if (name === 'wte.weight' || name === 'lmHead.weight') continue; // one tensor, tied
      t.copy_(own[name]!);
    }
    bigger.wte.weight.copy_(tensor(rows, { shape: [vocabSize, C], device }));
  }));
  bigger.train(model.training);
  return bigger;
}

/**
 * The tokenizer and model for `text`: unchanged when the vocabulary covers it, else the vocabulary
 * extended by the missing characters and the model resized (the old model is disposed).
 */
export async function fitVocabulary(model: GPT, tokenizer: CharTokenizer, text: string, say: (s: string) => void): Promise<{ model: GPT; tokenizer: CharTokenizer; added: string[] }> {
  const added = tokenizer.unknownChars(text);
  if (added.length === 0) return { model, tokenizer, added };
  const extended = tokenizer.extend(text);
  say(`vocabulary: adding ${added.length} character${added.length === 1 ? '' : 's'} the pretrained tokenizer lacks (${JSON.stringify(added.join(''))}): ${tokenizer.vocabSize} → ${extended.vocabSize} tokens, new embedding rows at the mean of the old ones`);
  const resized = await resizeTokenEmbeddings(model, extended.vocabSize);
  model.dispose();
  return { model: resized, tokenizer: extended, added };
}
