// Shared helpers for classification metrics: label arrays, length checks and the sorted label
// set (numbers ascending, strings by code unit), as scikit-learn's unique_labels gives.

/** A class label: an integer/number class id or a string. */
export type Label = number | string;
/** Labels of a dataset: number[] / Int32Array / any numeric ArrayLike, or string[]. */
export type LabelArray = ArrayLike<number> | ArrayLike<string>;

export function toLabelList(a: LabelArray): Label[] {
  return Array.from(a as ArrayLike<Label>);
}

export function checkPaired(name: string, a: LabelArray, b: LabelArray): void {
  if (a.length !== b.length) {
    throw new RangeError(`${name}: yTrue has ${a.length} entries but yPred has ${b.length}`);
  }
}

/** Sorted distinct labels over all given arrays; numbers and strings may not be mixed. */
export function uniqueLabels(...arrays: LabelArray[]): Label[] {
  const set = new Set<Label>();
  for (const a of arrays) for (let i = 0; i < a.length; i++) set.add(a[i]!);
  const list = [...set];
  const nums = list.filter((x) => typeof x === 'number').length;
  if (nums !== 0 && nums !== list.length) throw new TypeError('labels mix numbers and strings');
  for (const x of list) if (typeof x === 'number' && Number.isNaN(x)) throw new RangeError('labels contain NaN');
  return nums ? (list as number[]).sort((x, y) => x - y) : (list as string[]).sort();
}
