// Hidden states of a GPT backbone, and the scalar heads built on them (reward and value models).
//
// `gptHiddenStates` runs a GPT up to its final LayerNorm (the features its LM head reads), so a
// reward or value head (nn's `ValueHead`) can sit on the same transformer: (B, T) int32 → (B, T, C).
import { DTypeError, ShapeError, checkTensor, fmtShape, tidy, type Tensor } from '@webgrad/core';
import { Module, ValueHead, init, type GPT } from '@webgrad/nn';
import { checkGPT } from './args.js';

/** The GPT's final-LayerNorm features for idx (B, T) int32 → (B, T, C). Same computation as
 *  `GPT.forward` without the LM head (no KV cache; dropout follows the module's training mode). */
export function gptHiddenStates(gpt: GPT, idx: Tensor): Tensor {
  checkGPT('gptHiddenStates', 'gpt', gpt);
  if (checkTensor('gptHiddenStates', 'idx', idx).dtype !== 'int32') throw new DTypeError(`gptHiddenStates: idx must be int32 token ids, got ${idx.dtype}`);
  if (idx.ndim !== 2) throw new ShapeError(`gptHiddenStates: idx must be (B, T), got ${fmtShape(idx.shape)}`);
  const T = idx.shape[1]!;
  return tidy(() => {
    const tok = gpt.wte.forward(idx); // (B, T, C)
    const pos = gpt.wpe.positions(T, 0); // (T, C)
    let x = gpt.drop.forward(tok.add(pos)); // (B, T, C)
    for (const block of gpt.h) x = block.forward(x, null); // (B, T, C)
    return gpt.lnF.forward(x); // (B, T, C)
  });
}

/**
 * A GPT trunk with a scalar head: `forward(idx)` gives one score per position (B, T). It is the
 * value model of PPO (one value per token, TRL's `AutoModelForSequenceClassification` with a
 * `score` head read at every position) and the body of `RewardModel`. The head is Linear(C, 1)
 * initialised N(0, 1/(C+1)) with zero bias, as TRL's value head.
 */
export class ScalarHeadModel extends Module {
  /** The GPT trunk (its final hidden states are scored). */
  declare backbone: GPT;
  /** Linear(C, 1): one score per position. */
  declare score: ValueHead;

  constructor(backbone: GPT) {
    super();
    checkGPT(new.target.name, 'backbone', backbone);
    this.registerModule('backbone', backbone);
    const C = backbone.config.nEmbd;
    this.registerModule('score', new ValueHead(C, { dtype: backbone.config.dtype, device: backbone.wte.weight.device }));
    init.normal(this.score.head.weight, 0, 1 / Math.sqrt(C + 1));
    init.zeros(this.score.head.bias!);
  }

  /** idx (B, T) int32 → per-position scalar (B, T). */
  forward(idx: Tensor): Tensor {
    return tidy(() => this.score.forward(gptHiddenStates(this.backbone, idx))); // (B, T, C) → (B, T)
  }
}
