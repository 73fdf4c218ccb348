// Dropout (Srivastava et al. 2014), inverted: kept values are scaled by 1/(1−p) at training time so
// evaluation is the identity. The mask comes from the seeded counter RNG, so it is the same on every device.
import { requireFloat } from '../dtype.js';
import { checkBool, checkRange, checkTensor } from '../validate.js';
import type { Tensor } from '../tensor.js';
import { rand } from './creation.js';
import { cast } from './cast.js';
import { tidy } from '../memory.js';
import { ge, mul, mulScalar } from './elementwise.js';

/** Zero each element with probability `p` and scale the rest by 1/(1 − p) while `training` (torch.nn.functional.dropout); returns `x` itself when not training or p = 0. While training with 0 < p < 1, a non-float input raises a DTypeError. */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  checkTensor('dropout', 'input', x);
  checkRange('dropout', 'p', p, 0, 1);
  checkBool('dropout', 'training', training);
  if (!training || p === 0) return x;
  if (p < 1) requireFloat('dropout', x); // scaling by 1/(1-p) needs a float result, as in PyTorch
  return tidy(() => {
    if (p === 1) return mulScalar(x, 0);
    const keep = cast(ge(rand(x.shape, { device: x.device }), p), x.dtype);
    return mulScalar(mul(x, keep), 1 / (1 - p));
  });
}
