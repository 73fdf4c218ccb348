// Argument checks the losses and trainers of this package share, built on core's validators: the
// models and optimizer a trainer is given, prompts, and the generation options of the samplers.
import { ValueError, checkInt, checkOptions, checkSize, fmtValue } from '@webgrad/core';
import { GPT, SAMPLING_KEYS, checkSamplingOptions, type SamplingOptions } from '@webgrad/nn';
import { Optimizer } from '@webgrad/optim';

export function checkGPT(op: string, name: string, v: unknown): GPT {
  if (!(v instanceof GPT)) throw new ValueError(`${op}: ${name} must be a GPT, got ${fmtValue(v)}`);
  return v;
}

export function checkOptimizer(op: string, v: unknown): void {
  if (!(v instanceof Optimizer)) throw new ValueError(`${op}: optimizer must be an Optimizer (e.g. AdamW), got ${fmtValue(v)}`);
}

/** A required object argument (a trainer's input, its config) whose keys are `keys`. */
export function checkInput<T extends object>(op: string, input: T, keys: readonly string[], name = 'input'): T {
  if (input === undefined) throw new ValueError(`${op}: ${name} must be an object like { ${keys.join(', ')} }, got undefined`);
  return checkOptions(op, input, keys, name);
}

/** Prompts: a non-empty array of non-empty arrays of token ids. */
export function checkPrompts(op: string, prompts: unknown): void {
  if (!Array.isArray(prompts) || prompts.length === 0) throw new ValueError(`${op}: prompts must be a non-empty array of token-id arrays, got ${fmtValue(prompts)}`);
  prompts.forEach((p, i) => {
    if (!Array.isArray(p) || p.length === 0) throw new ValueError(`${op}: prompts[${i}] must be a non-empty array of token ids, got ${fmtValue(p)}`);
    p.forEach((t, j) => checkSize(op, `prompts[${i}][${j}]`, t));
  });
}

export interface GenerationOptions extends SamplingOptions {
  maxNewTokens: number;
  numGenerations?: number;
  stopTokens?: readonly number[];
  padToken?: number;
  seed?: number;
}

export const GENERATION_KEYS = ['maxNewTokens', 'numGenerations', 'stopTokens', 'padToken', 'seed', ...SAMPLING_KEYS] as const;

/** The sampling options of a rollout (the keys of GENERATION_KEYS; the caller checks the keys). */
export function checkGeneration(op: string, o: GenerationOptions): void {
  checkSize(op, 'maxNewTokens', o.maxNewTokens, 1);
  if (o.numGenerations !== undefined) checkSize(op, 'numGenerations', o.numGenerations, 1);
  if (o.stopTokens !== undefined) {
    if (!Array.isArray(o.stopTokens)) throw new ValueError(`${op}: stopTokens must be an array of token ids, got ${fmtValue(o.stopTokens)}`);
    o.stopTokens.forEach((t, i) => checkSize(op, `stopTokens[${i}]`, t));
  }
  if (o.padToken !== undefined) checkSize(op, 'padToken', o.padToken);
  if (o.seed !== undefined) checkInt(op, 'seed', o.seed);
  checkSamplingOptions(op, o);
}
