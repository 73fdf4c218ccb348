// Typed errors. Every message names the op and the shapes/dtypes/devices involved, so a user can
// fix the call without a debugger.

/** Base class of every error the library raises; `name` is the subclass's name. */
export class WebgradError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
/** Shapes that cannot be broadcast, reshaped, multiplied or concatenated as asked. */
export class ShapeError extends WebgradError {}
/** A dtype the op does not accept, or a dtype mismatch. */
export class DTypeError extends WebgradError {}
/** Tensors on different devices in one op, or an unknown / unavailable device. */
export class DeviceError extends WebgradError {}
/** Use of a tensor after `dispose()`. */
export class DisposedError extends WebgradError {}
/** An index out of range (dims, gather/embedding indices, slices). */
export class IndexError extends WebgradError {}
/** Misuse of autograd: backward of a non-scalar without a gradient, a graph freed twice, an in-place
 *  change to a tensor saved for backward, in-place on a leaf that requires grad. */
export class AutogradError extends WebgradError {}
/** A bad argument value that is not about shapes, dtypes or devices. */
export class ValueError extends WebgradError {}
/** A tensor too large to allocate: more elements than one tensor can hold, or a failed allocation. */
export class OutOfMemoryError extends WebgradError {}

/** A shape as it appears in error messages: `[2, 3]`. */
export const fmtShape = (s: readonly number[]): string => `[${s.join(', ')}]`;
