// Safetensors dtypes: the dtype names of the format, their element sizes and the order the
// reference writer uses to lay tensors out (descending alignment, then name).

/** Element types of the safetensors format (names exactly as they appear in headers). */
export type SafeDType =
  | 'F64'
  | 'F32'
  | 'F16'
  | 'BF16'
  | 'F8_E5M2'
  | 'F8_E4M3'
  | 'I64'
  | 'I32'
  | 'I16'
  | 'I8'
  | 'U64'
  | 'U32'
  | 'U16'
  | 'U8'
  | 'BOOL';

/**
 * Rank of each dtype in the reference writer's dtype ordering (increasing alignment). Files are
 * laid out by descending rank, then by name, so output is byte-identical to the reference writer.
 */
const DTYPE_RANK: Readonly<Record<SafeDType, number>> = {
  BOOL: 0,
  U8: 1,
  I8: 2,
  F8_E5M2: 3,
  F8_E4M3: 4,
  I16: 5,
  U16: 6,
  F16: 7,
  BF16: 8,
  I32: 9,
  U32: 10,
  F32: 11,
  F64: 12,
  I64: 13,
  U64: 14,
};

const ITEM_SIZE: Readonly<Record<SafeDType, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

/** All supported dtypes. */
export const SAFE_DTYPES: readonly SafeDType[] = Object.keys(ITEM_SIZE) as SafeDType[];

/** Whether `x` is a safetensors dtype name ('F32', 'BF16', 'I64', …). */
export function isSafeDType(x: unknown): x is SafeDType {
  return typeof x === 'string' && Object.prototype.hasOwnProperty.call(ITEM_SIZE, x);
}

/** Bytes per element of a dtype. */
export function dtypeItemSize(dtype: SafeDType): number {
  return ITEM_SIZE[dtype];
}

/** Ordering rank used for layout (see DTYPE_RANK). */
export function dtypeRank(dtype: SafeDType): number {
  return DTYPE_RANK[dtype];
}
