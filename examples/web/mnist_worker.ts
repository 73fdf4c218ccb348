// The Web Worker that trains LeNet-5 on MNIST digits: the digits come from the server as one
// binary file (serve.ts: the `mnist` package's digits, split as the mnist example splits them);
// Adam steps on random batches of the training part, and every `evalEvery` steps the accuracy on
// the first `evalSize` held-out digits, with the predictions for the first of them
// (worker_runtime.ts runs the loop and picks the device).
import { argmax, crossEntropy, keep, manualSeed, noGrad, randint, tensor, tidy, type DeviceName } from '@webgrad/core';
import { LeNet5, toSafetensorsBytes } from '@webgrad/nn';
import { Adam } from '@webgrad/optim';
import type { MnistReset, MnistSettings } from './protocol.js';
import { post, selectDevice, serveJob } from './worker_runtime.js';

/** The usual MNIST normalization (as the mnist example's): mean and standard deviation of the pixels. */
const PIXEL_MEAN = 0.1307, PIXEL_STD = 0.3081;
const AREA = 28 * 28;
/** Held-out digits shown with their predictions. */
const SHOWN = 32;
const EVAL_BATCH = 500;

/** mnist.bin: u32 nTrain, u32 nTest (little-endian), then every label (u8), then every image (u8 grey levels). */
interface Digits { nTrain: number; nTest: number; labels: Uint8Array; pixels: Uint8Array }

let digits: Promise<Digits> | null = null;
function loadDigits(): Promise<Digits> {
  digits ??= (async () => {
    const res = await fetch(new URL('mnist.bin', self.location.href));
    if (!res.ok) throw new Error(`the digits could not be loaded (GET mnist.bin: ${res.status} ${res.statusText})`);
    const buf = new Uint8Array(await res.arrayBuffer());
    const view = new DataView(buf.buffer);
    const nTrain = view.getUint32(0, true), nTest = view.getUint32(4, true), n = nTrain + nTest;
    if (buf.length !== 8 + n + n * AREA) throw new Error(`mnist.bin: ${buf.length} bytes do not hold ${n} digits`);
    return { nTrain, nTest, labels: buf.subarray(8, 8 + n), pixels: buf.subarray(8 + n) };
  })().catch((e) => { digits = null; throw e; });
  return digits;
}

interface Run { settings: MnistSettings; device: DeviceName; data: Digits; model: LeNet5; opt: Adam; step: number }
let run: Run | null = null;

/** Images `ids` (indices into all digits) as a normalized (N, 1, 28, 28) tensor and their labels. */
function batch(d: Digits, ids: ArrayLike<number>, device: DeviceName) {
  const x = new Float32Array(ids.length * AREA);
  const y = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const at = ids[i]! * AREA;
    for (let p = 0; p < AREA; p++) x[i * AREA + p] = (d.pixels[at + p]! / 255 - PIXEL_MEAN) / PIXEL_STD;
    y[i] = d.labels[ids[i]!]!;
  }
  return { x: tensor(x, { shape: [ids.length, 1, 28, 28], device }), y: tensor(y, { shape: [ids.length], dtype: 'int32', device }) };
}

async function evaluate(r: Run): Promise<void> {
  const { nTrain } = r.data;
  const nTest = Math.min(r.settings.evalSize, r.data.nTest);
  const predicted = new Int32Array(nTest);
  for (let s = 0; s < nTest; s += EVAL_BATCH) {
    const ids = Array.from({ length: Math.min(EVAL_BATCH, nTest - s) }, (_, i) => nTrain + s + i);
    const pred = noGrad(() => tidy(() => argmax(r.model.forward(batch(r.data, ids, r.device).x), 1)));
    predicted.set(await pred.data(), s);
    pred.dispose();
  }
  let correct = 0;
  for (let i = 0; i < nTest; i++) if (predicted[i] === r.data.labels[nTrain + i]) correct++;
  const shown = { // (nTest >= SHOWN: evalSize's minimum)
    pixels: r.data.pixels.slice(nTrain * AREA, (nTrain + SHOWN) * AREA),
    labels: Array.from(r.data.labels.subarray(nTrain, nTrain + SHOWN)),
    predicted: Array.from(predicted.subarray(0, SHOWN)),
  };
  post({ type: 'eval', step: r.step, accuracy: correct / nTest, evaluated: nTest, shown });
}

serveJob<MnistReset>({
  async reset({ settings }) {
    if (run) { run.opt.dispose(); run.model.dispose(); run = null; }
    const report = await selectDevice(settings.device);
    post({ type: 'device', ...report });
    const data = await loadDigits();
    manualSeed(settings.seed);
    const model = new LeNet5({ device: report.device });
    const opt = new Adam(model.parameters(), { lr: settings.lr });
    run = { settings, device: report.device, data, model, opt, step: 0 };
    return model.numParameters();
  },

  ready: () => run !== null,

  async step() {
    const r = run!;
    const B = r.settings.batchSize;
    const idsT = randint(0, r.data.nTrain, [B], { device: 'cpu' });
    const ids = idsT.dataSync();
    idsT.dispose();
    const loss = tidy(() => {
      const { x, y } = batch(r.data, ids, r.device);
      const l = crossEntropy(r.model.forward(x), y); // logits (B, 10) against labels (B)
      l.backward();
      r.opt.step();
      r.opt.zeroGrad();
      return keep(l);
    });
    const value = await loss.item();
    loss.dispose();
    r.step++;
    return { step: r.step, loss: value, items: B };
  },

  async afterStep(step) {
    if (step % run!.settings.evalEvery === 0) await evaluate(run!);
  },

  async weights() {
    if (!run) throw new Error('there is no model yet');
    const metadata = { model: 'LeNet5', step: String(run.step), normalization: JSON.stringify({ mean: PIXEL_MEAN, std: PIXEL_STD }) };
    return { step: run.step, bytes: await toSafetensorsBytes(run.model, { metadata }) };
  },
});
