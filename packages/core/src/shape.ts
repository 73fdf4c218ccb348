// Shape arithmetic: sizes, strides, broadcasting, dim normalization.
import { IndexError, ShapeError, fmtShape } from './errors.js';

export type Shape = readonly number[];

/** Element count and row-major strides: the kernels package's definitions. */
export { numel, contiguousStrides } from '@webgrad/kernels';

export const shapesEqual = (a: Shape, b: Shape): boolean =>
  a.length === b.length && a.every((v, i) => v === b[i]);

/** Broadcast shapes right-aligned, like NumPy/PyTorch. */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i]!;
      if (out[o] === 1) out[o] = d;
      else if (d !== 1 && d !== out[o]) {
        throw new ShapeError(`${op}: shapes ${shapes.map(fmtShape).join(' and ')} cannot be broadcast together (dim ${o - rank}: ${out[o]} vs ${d})`);
      }
    }
  }
  return out;
}

/** Normalize a possibly negative dim into [0, rank). */
export function normDim(op: string, dim: number, rank: number): number {
  const r = Math.max(rank, 1);
  if (!Number.isInteger(dim) || dim < -r || dim >= r) {
    throw new IndexError(`${op}: dim ${dim} is out of range for a tensor of rank ${rank} (expected in [${-r}, ${r - 1}])`);
  }
  return dim < 0 ? dim + r : dim;
}

export function normDims(op: string, dims: number | readonly number[] | undefined, rank: number): number[] {
  if (dims === undefined) return [...Array(rank).keys()];
  const list = typeof dims === 'number' ? [dims] : dims;
  const out = list.map((d) => normDim(op, d, rank));
  if (new Set(out).size !== out.length) throw new IndexError(`${op}: dims ${fmtShape(list)} repeat a dimension`);
  return out.sort((a, b) => a - b);
}

export function checkShape(op: string, shape: Shape): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`${op}: invalid shape ${fmtShape(shape)}: sizes must be non-negative integers`);
  }
}
