// Shape arithmetic: sizes, strides, broadcasting, dim normalization.
import { IndexError, ShapeError, fmtShape } from './errors.js';
import { checkDim, checkNumel, checkShapeArg, fmtValue } from './validate.js';

/** A tensor shape: the size of each dimension, outermost first. */
export type Shape = readonly number[];

/** Element count and row-major strides: the kernels package's definitions. */
export { numel, contiguousStrides } from '@webgrad/kernels';

/** Whether two shapes have the same rank and sizes. */
export const shapesEqual = (a: Shape, b: Shape): boolean =>
  a.length === b.length && a.every((v, i) => v === b[i]);

/** Broadcast shapes right-aligned, like NumPy/PyTorch. */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i];
      if (out[o] === 1) out[o] = d;
      else if (d !== 1 && d !== out[o]) {
        throw new ShapeError(`${op}: shapes ${shapes.map(fmtShape).join(' and ')} cannot be broadcast together (dim ${o - rank}: ${out[o]} vs ${d})`);
      }
    }
  }
  return out;
}

/** Normalize a possibly negative integer dim into [0, rank); anything else is an IndexError naming `op`. */
export function normDim(op: string, dim: number, rank: number, name = 'dim'): number {
  return checkDim(op, name, dim, rank);
}

/** A dim, a list of distinct dims, or undefined (every dim), normalized and sorted. */
export function normDims(op: string, dims: number | readonly number[] | undefined, rank: number): number[] {
  if (dims === undefined) return [...Array(rank).keys()];
  if (typeof dims !== 'number' && !Array.isArray(dims)) {
    throw new IndexError(`${op}: dim must be an integer or an array of integers, got ${fmtValue(dims)}`);
  }
  const list: readonly number[] = typeof dims === 'number' ? [dims] : dims;
  const out = list.map((d) => normDim(op, d, rank));
  if (new Set(out).size !== out.length) throw new IndexError(`${op}: dims ${fmtShape(list)} repeat a dimension`);
  return out.sort((a, b) => a - b);
}

/** A shape to allocate: an array of integer sizes >= 0 whose element count one tensor can hold. */
export function checkShape(op: string, shape: Shape, name = 'shape'): void {
  checkShapeArg(op, name, shape);
  checkNumel(op, shape);
}
