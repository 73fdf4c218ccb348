// compile's residual-gradient fusion: on a device with `layerNormBackwardAdd` (WebGPU), the add of
// a pre-norm block's residual gradient and its layerNorm backward's dx runs inside the layerNorm
// backward's launch, and the compiled step gives the eager values bit for bit. On the cpu device,
// which has no such kernel, nothing changes.
import { describe, expect, it } from 'vitest';
import { compile, hasDevice, layerNorm, noGrad, tensor, webgpuRuntime, type DeviceName, type Tensor } from '@webgrad/core';
import { randomArray, testDevices } from './helpers.js';

const D = 24, B = 3, T = 8;

/**
 * `layers` pre-norm residual blocks z ← z + gelu(layerNorm(z)·Wᵀ) over z = x + e (e a learned
 * offset, so every block's input has a gradient: the residual path's plus its layerNorm's dx),
 * trained by SGD on the mean square of the last z.
 */
function blocks(device: DeviceName, layers: number) {
  const p: Tensor[] = [tensor(randomArray(D, 1), { shape: [D], device }).requiresGrad_()];
  for (let l = 0; l < layers; l++) {
    p.push(tensor(randomArray(D, 10 + l).map((v) => 1 + 0.3 * v), { shape: [D], device }).requiresGrad_());
    p.push(tensor(randomArray(D, 20 + l), { shape: [D], device }).requiresGrad_());
    p.push(tensor(randomArray(D * D, 30 + l).map((v) => 0.3 * v), { shape: [D, D], device }).requiresGrad_());
  }
  const step = (x: Tensor): Tensor => {
    for (const t of p) { t.grad?.dispose(); t.grad = null; }
    let z = x.add(p[0]!);
    for (let l = 0; l < layers; l++) {
      const [w, b, W] = [p[1 + 3 * l]!, p[2 + 3 * l]!, p[3 + 3 * l]!];
      z = z.add(layerNorm(z, [D], w, b).matmul(W.transpose(0, 1)).gelu());
    }
    const loss = z.square().mean();
    loss.backward();
    noGrad(() => { for (const t of p) t.sub_(t.grad!.mul(0.05)); });
    return loss;
  };
  return { params: p, step };
}

const input = (i: number, device: DeviceName) => tensor(randomArray(B * T * D, 40 + i), { shape: [B, T, D], device });

async function same(got: Tensor, want: Tensor, what: string): Promise<void> {
  const g = await got.data(), w = await want.data();
  const i = Array.from(w).findIndex((v, k) => !Object.is(v, g[k]));
  expect(i, `${what}: element ${i}: got ${g[i]}, want ${w[i]}`).toBe(-1);
}

for (const device of testDevices()) {
  describe(`compile's residual-gradient fusion on ${device}`, () => {
    it('the compiled steps of stacked pre-norm blocks give the eager losses and parameters bit for bit', async () => {
      const eager = blocks(device, 3), comp = blocks(device, 3);
      const step = compile(comp.step);
      for (let i = 0; i < 6; i++) {
        const x = input(i, device);
        const le = eager.step(x), lc = step(x);
        await same(lc, le, `loss ${i}`);
        le.dispose(); lc.dispose(); x.dispose();
      }
      for (const [k, t] of comp.params.entries()) await same(t, eager.params[k]!, `parameter ${k}`);
      expect(step.stats()).toMatchObject({ replays: 3, fallbacks: 0 });
    });
  });
}

describe.runIf(hasDevice('webgpu'))('compile joins the residual gradient add and the layerNorm backward on webgpu', () => {
  it('a replay launches each block\'s layerNorm backward with the add of its dx, and no add of its own', async () => {
    const rt = webgpuRuntime();
    if (rt === null) throw new Error('no WebGPU runtime although the device is registered');
    const layers = 3;
    const { step } = blocks('webgpu', layers);
    // Without captures every entry of a replay is a dispatch of its own, whose label names its kernel.
    const f = compile(step, { capture: false });
    const tally = (run: (x: Tensor) => Tensor): Map<string, number> => {
      const x = input(9, 'webgpu');
      const { counts } = rt.tallyDispatches(() => run(x).dispose());
      x.dispose();
      return counts;
    };
    const eager = tally(step);
    for (let i = 0; i < 3; i++) { const x = input(i, 'webgpu'); f(x).dispose(); x.dispose(); }
    const replay = tally(f);
    expect(f.stats().replays).toBeGreaterThan(0);
    const count = (m: Map<string, number>, re: RegExp) => [...m].filter(([k]) => re.test(k)).reduce((s, [, n]) => s + n, 0);
    expect(count(eager, /^layerNormBackward$/)).toBe(layers);
    expect(count(eager, /^layerNormBackwardAdd$/)).toBe(0);
    expect(count(replay, /^layerNormBackwardAdd$/)).toBe(layers);
    expect(count(replay, /^layerNormBackward$/)).toBe(0);
    const total = (m: Map<string, number>) => [...m.values()].reduce((s, n) => s + n, 0);
    expect(total(replay)).toBeLessThanOrEqual(total(eager) - layers);
  });
});
