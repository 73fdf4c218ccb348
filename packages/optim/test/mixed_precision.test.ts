// Mixed-precision training: autocast (core) with float32 master weights and GradScaler. A step
// whose float16 gradients overflow is skipped with the parameters and optimizer state untouched
// and the scale halved; clean steps grow it; a float16 run whose gradients underflow to zero
// without scaling trains with it; the optimizer only ever holds float32 tensors. The GradScaler
// cases run on every device present, the underflow case on the cpu.
import { describe, expect, it } from 'vitest';
import { autocast, hasDevice, keep, matmul, tensor, tidy, type DeviceName, type Tensor } from '@webgrad/core';
import { GPT } from '@webgrad/nn';
import { Adam, AdamW, GradScaler, clipGradNorm } from '../src/index.js';

const pseudo = (n: number, seed: number, lo = -1, hi = 1) => {
  let s = seed;
  return Array.from({ length: n }, () => { s = (s * 1103515245 + 12345) % 2147483648; return lo + ((hi - lo) * s) / 2147483648; });
};

async function snapshot(ts: Tensor[]): Promise<number[][]> {
  return Promise.all(ts.map(async (t) => Array.from(await t.data())));
}

const devices: DeviceName[] = hasDevice('webgpu') ? ['cpu', 'webgpu'] : ['cpu'];

for (const device of devices) describe(`GradScaler with autocast float16 (${device})`, () => {
  const config = { vocabSize: 11, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 16, dropout: 0, device };
  const batch = () => {
    const ids = pseudo(18, 5, 0, 11).map(Math.floor);
    return {
      x: tensor(Int32Array.from(ids.slice(0, 16)), { shape: [2, 8], dtype: 'int32', device }),
      y: tensor(Int32Array.from(ids.slice(2, 18)), { shape: [2, 8], dtype: 'int32', device }),
    };
  };

  /** One iteration as torch's AMP recipe: scaled backward, unscale, clip, step (maybe skipped), update. */
  async function iteration(model: GPT, opt: AdamW, scaler: GradScaler): Promise<boolean> {
    const { x, y } = batch();
    tidy(() => {
      const loss = autocast({ dtype: 'float16' }, () => model.forward(x, y).loss!);
      scaler.scale(loss).backward();
      scaler.unscale_(opt);
      clipGradNorm(model.parameters(), 1).dispose();
    });
    const stepped = await scaler.step(opt);
    scaler.update();
    opt.zeroGrad();
    return stepped;
  }

  it('an overflowing step (scale 2^40: float16 gradients become inf) is skipped, parameters and optimizer state unchanged, scale halved', async () => {
    const model = new GPT(config);
    const opt = new AdamW(model.parameters(), { lr: 1e-2 });
    const scaler = new GradScaler({ initScale: 2 ** 40, growthInterval: 1000 });
    const before = await snapshot(model.parameters());
    expect(await iteration(model, opt, scaler)).toBe(false);
    expect(scaler.getScale()).toBe(2 ** 39);
    expect(await snapshot(model.parameters())).toEqual(before);
    expect(Object.keys((await opt.stateDict()).state)).toEqual([]); // no moments were created: step() never ran
    // The scale backs off until the gradients fit, then steps are taken.
    let skipped = 1;
    while (!(await iteration(model, opt, scaler))) skipped++;
    expect(scaler.getScale()).toBe(2 ** (40 - skipped));
    expect(scaler.getScale()).toBeLessThan(2 ** 30);
    expect(await snapshot(model.parameters())).not.toEqual(before);
    for (const p of model.parameters()) expect(p.dtype).toBe('float32');
    opt.dispose(); model.dispose();
  });

  it('the scale grows ×2 after growthInterval clean steps; the optimizer holds only float32 tensors', async () => {
    const model = new GPT(config);
    const opt = new AdamW(model.parameters(), { lr: 1e-3 });
    const scaler = new GradScaler({ initScale: 256, growthInterval: 3 });
    for (let i = 0; i < 3; i++) expect(await iteration(model, opt, scaler)).toBe(true);
    expect(scaler.getScale()).toBe(512);
    expect(scaler.growthTracker).toBe(0);
    expect(await iteration(model, opt, scaler)).toBe(true);
    expect(scaler.growthTracker).toBe(1);
    const sd = await opt.stateDict();
    expect(Object.keys(sd.state).length).toBe(model.parameters().length);
    for (const p of model.parameters()) expect(p.dtype).toBe('float32');
    for (const st of Object.values(sd.state)) {
      expect(st.step).toBe(4);
      for (const b of Object.values(st.buffers)) expect(b.dtype).toBe('float32');
    }
    opt.dispose(); model.dispose();
  });
});

describe('loss scaling rescues float16 gradients that underflow', () => {
  // y = x·W in float16 under autocast; the loss is a tiny multiple of the squared error (as a
  // small-magnitude loss is), so dL/dy ≈ 1e-9 — below float16's smallest subnormal (2^-24 ≈ 6e-8)
  // — and the gradient flowing back into the float16 product is exactly 0 without scaling.
  // Adam's step is invariant to the gradient's scale, so with loss scaling it trains as usual.
  const x = () => tensor(pseudo(32, 1), { shape: [8, 4] });
  const wTrue = tensor(pseudo(8, 2), { shape: [4, 2] });
  const target = () => matmul(x(), wTrue);
  const lossOf = (w: Tensor) => autocast({ dtype: 'float16' }, () => matmul(x(), w).sub(target()).square().mean().mul(1e-8));

  async function train(scaler: GradScaler | null, steps: number): Promise<{ first: number; last: number; w: Tensor }> {
    const w = keep(tensor(pseudo(8, 3), { shape: [4, 2], requiresGrad: true }));
    const opt = new Adam([w], { lr: 0.05 });
    let first = 0, last = 0;
    for (let i = 0; i < steps; i++) {
      const l = keep(tidy(() => {
        const loss = lossOf(w);
        (scaler ? scaler.scale(loss) : loss).backward();
        return loss.detach();
      }));
      const v = (await l.item()) / 1e-8;
      l.dispose();
      if (i === 0) first = v;
      last = v;
      if (i === 0 && !scaler) expect(Array.from(await w.grad!.data()).every((g) => g === 0)).toBe(true);
      if (scaler) { await scaler.step(opt); scaler.update(); } else opt.step();
      opt.zeroGrad();
    }
    opt.dispose();
    return { first, last, w };
  }

  it('without scaling the float16 gradients are all zero and nothing trains; with a GradScaler the loss falls by 4×', async () => {
    const plain = await train(null, 40);
    expect(plain.last).toBe(plain.first);
    const scaled = await train(new GradScaler({ initScale: 2 ** 16 }), 40);
    expect(scaled.first).toBe(plain.first);
    expect(scaled.last).toBeLessThan(scaled.first / 4);
    expect(scaled.w.grad === null || scaled.w.grad.dtype === 'float32').toBe(true);
  });
});
