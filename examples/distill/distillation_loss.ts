// The knowledge-distillation objective of Hinton, Vinyals & Dean (2015), "Distilling the
// Knowledge in a Neural Network": the student matches the teacher's class distribution softened
// by a temperature T, and the true labels.
//
//   loss = alpha · T² · KL(softmax(teacher / T) ‖ softmax(student / T)) + (1 − alpha) · CE(student, y)
//
// The gradient of the soft term with respect to a student logit is (p_student − p_teacher) / T per
// item, so the factor T² keeps its size comparable to the hard term's as T changes (the paper's
// §2). KL uses nn's klDiv (PyTorch's F.kl_div) with 'batchmean', the per-item divergence.
import { crossEntropy, tidy, type Tensor } from '@webgrad/core';
import { klDiv } from '@webgrad/nn';

export interface DistillationOptions {
  /** Softening temperature T > 0 (1: the plain distributions). */
  temperature: number;
  /** Weight of the soft (teacher) term in [0, 1]; 1 − alpha goes to the labels. */
  alpha: number;
}

/** Check the options; the message names the bad one. */
export function checkDistillationOptions(o: DistillationOptions): DistillationOptions {
  if (!(typeof o.temperature === 'number' && Number.isFinite(o.temperature) && o.temperature > 0)) {
    throw new RangeError(`distillationLoss: temperature must be a number > 0, got ${String(o.temperature)}`);
  }
  if (!(typeof o.alpha === 'number' && o.alpha >= 0 && o.alpha <= 1)) throw new RangeError(`distillationLoss: alpha must be in [0, 1], got ${String(o.alpha)}`);
  return o;
}

/** KL from the softened teacher to the softened student, times T² (mean over the batch). */
export function softTargetLoss(studentLogits: Tensor, teacherLogits: Tensor, temperature: number): Tensor {
  return tidy(() => {
    const s = studentLogits.div(temperature).logSoftmax(-1); // (B, C) log-probabilities
    const t = teacherLogits.detach().div(temperature).logSoftmax(-1); // (B, C), no gradient to the teacher
    return klDiv(s, t, { reduction: 'batchmean', logTarget: true }).mul(temperature * temperature);
  });
}

/** The distillation loss of a batch: student and teacher logits (B, C), labels (B) int32. */
export function distillationLoss(studentLogits: Tensor, teacherLogits: Tensor, labels: Tensor, opts: DistillationOptions): Tensor {
  const { temperature, alpha } = checkDistillationOptions(opts);
  return tidy(() => {
    const hard = crossEntropy(studentLogits, labels);
    if (alpha === 0) return hard;
    const soft = softTargetLoss(studentLogits, teacherLogits, temperature);
    return alpha === 1 ? soft : soft.mul(alpha).add(hard.mul(1 - alpha));
  });
}
