// Argument checks that the layers, models and losses of this package share, built on core's
// validators: a layer's dtype/device options and the floating-point input a layer needs.
import { DTypeError, checkDType, checkEnum, checkTensor, fmtValue, isFloat, type DeviceName, type Tensor } from '@webgrad/core';

/** The option keys of FactoryOptions. */
export const FACTORY_KEYS = ['dtype', 'device'] as const;
export const DEVICE_NAMES: readonly DeviceName[] = ['cpu', 'webgpu'];

/** A layer's `dtype` (floating point: its parameters are trained) and `device`, when given. */
export function checkFactory(op: string, opts: { dtype?: unknown; device?: unknown }): void {
  if (opts.dtype !== undefined && !isFloat(checkDType(op, opts.dtype))) {
    throw new DTypeError(`${op}: dtype must be 'float32' or 'float64' (its parameters are trained), got ${fmtValue(opts.dtype)}`);
  }
  if (opts.device !== undefined) checkEnum(op, 'device', opts.device, DEVICE_NAMES);
}

/** A floating-point tensor, as PyTorch's float layers and losses require of their inputs. */
export function checkFloatInput(op: string, x: Tensor, name = 'input'): void {
  checkTensor(op, name, x);
  if (!isFloat(x.dtype)) throw new DTypeError(`${op}: ${name} must be float32 or float64, got ${x.dtype} (convert with .float())`);
}
