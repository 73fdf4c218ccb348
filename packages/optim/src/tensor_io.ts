// Host snapshots of tensors and their safetensors form: reading a tensor back (`await t.data()`),
// converting between core dtypes and safetensors dtypes, and rebuilding tensors from parsed
// files. Shared by LoRA adapter files and checkpoints. Every conversion is exact (no dtype change).
import { tensor, type DeviceName, type DType, type Tensor } from '@webgrad/core';
import { decodeTensor, type SafeDType, type SafeTensorInput, type SafeTensorView } from '@webgrad/nn';
import type { TensorSnapshot } from './optimizer.js';

const TO_SAFE: Record<DType, SafeDType> = { float32: 'F32', float64: 'F64', float16: 'F16', bfloat16: 'BF16', int32: 'I32', bool: 'BOOL' };
const FROM_SAFE: Partial<Record<SafeDType, DType>> = { F32: 'float32', F64: 'float64', F16: 'float16', BF16: 'bfloat16', I32: 'int32', BOOL: 'bool' };

/** Read a tensor back to the host (exact, in its own dtype). */
export async function snapshotTensor(t: Tensor): Promise<TensorSnapshot> {
  return { dtype: t.dtype, shape: [...t.shape], data: await t.data() };
}

/** A tensor snapshot as a safetensors writer input (same bytes; the dtype under its safetensors name). */
export function snapshotToSafe(s: TensorSnapshot): SafeTensorInput {
  return { dtype: TO_SAFE[s.dtype], shape: s.shape, data: s.data };
}

/** A parsed safetensors entry as a snapshot; null when its dtype has no core equivalent. */
export function safeToSnapshot(v: SafeTensorView): TensorSnapshot | null {
  const dtype = FROM_SAFE[v.dtype];
  if (!dtype) return null;
  return { dtype, shape: [...v.shape], data: decodeTensor(v) as TensorSnapshot['data'] };
}

/** A new tensor holding a snapshot's values. */
export function snapshotToTensor(s: TensorSnapshot, device?: DeviceName): Tensor {
  return tensor(s.data, { dtype: s.dtype, shape: s.shape, device });
}
