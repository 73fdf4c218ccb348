// A module in float16 or bfloat16: toDType converts its float parameters and buffers, and a
// forward/backward step computes in that dtype within a few of its ulps of the float64 module.
import { describe, expect, it } from 'vitest';
import { tensor } from '@webgrad/core';
import { Linear } from '@webgrad/nn';

describe.each([['float16', 2 ** -10], ['bfloat16', 2 ** -7]] as const)('Linear.toDType(%s)', (dtype, eps) => {
  it('converts the weights and runs forward and backward in the dtype', async () => {
    const m = new Linear(4, 3).toDType(dtype);
    expect(m.weight.dtype).toBe(dtype);
    expect(m.bias!.dtype).toBe(dtype);
    // The float64 twin holds the same (rounded) weights.
    const ref = new Linear(4, 3).toDType('float64');
    ref.loadStateDict({ weight: m.weight.double(), bias: m.bias!.double() });
    const x = tensor([[0.5, -1, 2, 0.25], [1, 1, -0.5, 3]], { dtype });
    const y = m.forward(x);
    expect(y.dtype).toBe(dtype);
    y.sum().backward();
    const y64 = ref.forward(x.double());
    y64.sum().backward();
    const close = (a: ArrayLike<number>, b: ArrayLike<number>, what: string) => Array.from(a).forEach((v, i) =>
      // A dot product of 4 terms plus a bias, each product and sum stored in the dtype: ≤ 8 rounding steps of ½ ulp.
      expect(Math.abs(v - b[i]!), `${what} ${i}`).toBeLessThanOrEqual(4 * eps * Math.max(1, Math.abs(b[i]!)) * 2));
    close(await y.data(), y64.dataSync(), 'y');
    close(await m.weight.grad!.data(), ref.weight.grad!.dataSync(), 'dW');
  });
});
