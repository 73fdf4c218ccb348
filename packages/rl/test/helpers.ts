// Shared helpers for the rl tests: small tensors on the CPU, reading values, and a tiny GPT.
import { tensor, type Tensor } from '@webgrad/core';
import { GPT } from '@webgrad/nn';
import { expect } from 'vitest';

export const f32 = (data: number[] | number[][]): Tensor => tensor(data as number[], { dtype: 'float32', device: 'cpu' });
export const read = (t: Tensor): number[] => Array.from(t.dataSync());
export const num = (t: Tensor): number => t.dataSync()[0]!;

export function expectClose(got: number[] | number, want: number[] | number, tol = 1e-5): void {
  const g = Array.isArray(got) ? got : [got];
  const w = Array.isArray(want) ? want : [want];
  expect(g.length).toBe(w.length);
  g.forEach((x, i) => expect(Math.abs(x - w[i]!), `index ${i}: got ${x}, want ${w[i]}`).toBeLessThanOrEqual(tol));
}

export function tinyGPT(opts: { vocabSize?: number; blockSize?: number; nEmbd?: number } = {}): GPT {
  return new GPT({ vocabSize: opts.vocabSize ?? 8, blockSize: opts.blockSize ?? 8, nLayer: 1, nHead: 2, nEmbd: opts.nEmbd ?? 16, device: 'cpu' });
}
