// compile's epilogue fusion: on a device with `matmulEpilogue` (WebGPU), a matmul and the
// elementwise kernels that read its product — a Linear's bias add, GELU, a residual add, and in the
// backward GELU's gradient after the dX matmul (moved past the dW matmul between them) — run as one
// launch, and the compiled step gives the eager values bit for bit; a bias gradient (dY summed over
// rows) is written by the weight-gradient matmul dYᵀ·X, summed in another order, so within rounding.
// On the cpu device, which has no such kernel, nothing changes.
import { describe, expect, it } from 'vitest';
import { compile, hasDevice, noGrad, tensor, webgpuRuntime, type DeviceName, type Tensor } from '@webgrad/core';
import { randomArray, testDevices } from './helpers.js';

/** A residual MLP block (x + W2·gelu(W1·x + b1) + b2) trained by SGD on its mean square (the biases too with `trainBias`): the step the tests compile. */
function block(device: DeviceName, trainBias: boolean) {
  // Big enough for the register-blocked matmul on a software adapter (gemv takes M·N·K ≤ 16³).
  const D = 16, H = 40;
  const p = {
    w1: tensor(randomArray(H * D, 1), { shape: [H, D], device }).requiresGrad_(),
    b1: tensor(randomArray(H, 2), { shape: [H], device }).requiresGrad_(trainBias),
    w2: tensor(randomArray(D * H, 3), { shape: [D, H], device }).requiresGrad_(),
    b2: tensor(randomArray(D, 4), { shape: [D], device }).requiresGrad_(trainBias),
  };
  const params = Object.values(p).filter((t) => t.requiresGrad);
  const step = (x: Tensor): Tensor => {
    for (const t of params) { t.grad?.dispose(); t.grad = null; }
    const h = x.matmul(p.w1.transpose(0, 1)).add(p.b1).gelu();
    const y = h.matmul(p.w2.transpose(0, 1)).add(p.b2).add(x);
    const loss = y.square().mean();
    loss.backward();
    noGrad(() => { for (const t of params) t.sub_(t.grad!.mul(0.05)); });
    return loss;
  };
  return { params, step };
}

const input = (i: number, device: DeviceName) => tensor(randomArray(4 * 16 * 16, 20 + i), { shape: [4, 16, 16], device });

/** Equal bit for bit, or with `tol` within tol·(1 + |want|). */
async function same(got: Tensor, want: Tensor, what: string, tol = 0): Promise<void> {
  const g = await got.data(), w = await want.data();
  const i = Array.from(w).findIndex((v, k) => (tol === 0 ? !Object.is(v, g[k]) : !(Math.abs(v - g[k]!) <= tol * (1 + Math.abs(v)))));
  expect(i, `${what}: element ${i}: got ${g[i]}, want ${w[i]}`).toBe(-1);
}

async function compare(device: DeviceName, trainBias: boolean, tol: number): Promise<void> {
  const eager = block(device, trainBias), comp = block(device, trainBias);
  const step = compile(comp.step);
  for (let i = 0; i < 6; i++) {
    const x = input(i, device);
    const le = eager.step(x), lc = step(x);
    await same(lc, le, `loss ${i}`, tol);
    le.dispose(); lc.dispose(); x.dispose();
  }
  for (const [k, t] of comp.params.entries()) await same(t, eager.params[k]!, `parameter ${k}`, tol);
  expect(step.stats()).toMatchObject({ replays: 3, fallbacks: 0 });
}

for (const device of testDevices()) {
  describe(`compile's epilogue fusion on ${device}`, () => {
    it('the compiled block step (biases fixed) gives the eager losses and weights bit for bit', async () => {
      await compare(device, false, 0);
    });

    it('with trained biases, whose gradients the weight-gradient matmuls sum, the eager values within rounding', async () => {
      await compare(device, true, device === 'cpu' ? 0 : 1e-6);
    });
  });
}

describe.runIf(hasDevice('webgpu'))('compile\'s bias-gradient folding on webgpu', () => {
  it('a step reading the folded sum beside the weight gradient gets the sum written before it reads it', async () => {
    // s = dy summed over rows is written by the matmul dyᵀ·x; the add after it reads both (it cannot
    // join the matmul's epilogue, which runs beside the sums), and the mul reads the product alone.
    const f = (x: Tensor, dy: Tensor) => {
      const s = dy.sum(0);
      const dw = dy.transpose(0, 1).matmul(x);
      return { dw: dw.mul(2), both: dw.add(s.reshape([24, 1])), s };
    };
    const comp = compile(f);
    for (let i = 0; i < 5; i++) {
      const x = tensor(randomArray(30 * 12, 50 + i), { shape: [30, 12], device: 'webgpu' });
      const dy = tensor(randomArray(30 * 24, 60 + i), { shape: [30, 24], device: 'webgpu' });
      const want = f(x, dy), got = comp(x, dy);
      for (const k of ['dw', 'both', 's'] as const) await same(got[k], want[k], `${k} ${i}`, 1e-6);
      for (const t of [x, dy, want.dw, want.both, want.s, got.dw, got.both, got.s]) t.dispose();
    }
    expect(comp.stats()).toMatchObject({ replays: 2, fallbacks: 0 });
    expect(comp.stats().kernelsAfterFusion).toBeLessThan(comp.stats().kernelsBeforeFusion);
  });
});

describe.runIf(hasDevice('webgpu'))('compile fuses matmul epilogues on webgpu', () => {
  it('a replay launches the bias adds, GELU, the residual add, GELU\'s gradient and the bias gradients inside their matmuls', async () => {
    const rt = webgpuRuntime();
    if (rt === null) throw new Error('no WebGPU runtime although the device is registered');
    const { step } = block('webgpu', true);
    // Without captures every entry of a replay is a dispatch of its own, whose label names its kernel.
    const f = compile(step, { capture: false });
    const tally = async (run: (x: Tensor) => Tensor): Promise<Map<string, number>> => {
      const x = input(9, 'webgpu');
      const { result: l, counts } = rt.tallyDispatches(() => run(x));
      await l.data();
      l.dispose(); x.dispose();
      return counts;
    };
    const eager = await tally(step);
    for (let i = 0; i < 3; i++) { const x = input(i, 'webgpu'); f(x).dispose(); x.dispose(); }
    const replay = await tally(f);
    expect(f.stats().replays).toBeGreaterThan(0);
    const count = (m: Map<string, number>, re: RegExp) => [...m].filter(([k]) => re.test(k)).reduce((s, [, n]) => s + n, 0);
    // Forward: W1·x + b1 → gelu, and W2·h + b2 + x; backward: geluGrad(pre, dY·W2) past dW2, dW2
    // with b2's gradient, dW1 with b1's and the SGD update of W1 (grad·0.05 subtracted in place).
    expect(count(replay, /^matmul\..*\.epilogue$/)).toBe(5);
    expect(count(replay, /^reduce\.sum/)).toBe(count(eager, /^reduce\.sum/) - 2);
    expect(count(replay, /^matmul\.register\.epilogue$/)).toBeGreaterThan(0);
    expect(count(replay, /^ew\.(gelu|geluGrad)/)).toBe(0);
    expect(count(eager, /^ew\.(gelu|geluGrad)/)).toBe(2);
    const total = (m: Map<string, number>) => [...m.values()].reduce((s, n) => s + n, 0);
    expect(total(replay)).toBeLessThan(total(eager) - 4);
  });
});
