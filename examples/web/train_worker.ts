// The Web Worker that trains the character GPT: a character vocabulary over the page's text, AdamW
// steps on random windows of it, a text sample every `sampleEvery` steps, the weights as
// safetensors on request (worker_runtime.ts runs the loop and picks the device).
import { keep, manualSeed, tensor, tidy, type DeviceName } from '@webgrad/core';
import { GPT, toSafetensorsBytes } from '@webgrad/nn';
import { AdamW, clipGradNorm } from '@webgrad/optim';
import { getBatch } from '../shared/batches.js';
import { CharTokenizer } from '../shared/char_tokenizer.js';
import type { GptReset, RunSettings } from './protocol.js';
import { post, selectDevice, serveJob } from './worker_runtime.js';

interface Run {
  settings: RunSettings;
  device: DeviceName;
  tok: CharTokenizer;
  data: Int32Array;
  model: GPT;
  opt: AdamW;
  step: number;
}

let run: Run | null = null;

/** `sampleLength` characters continuing a newline (or the text's first character). */
async function sample(r: Run): Promise<string> {
  const start = r.tok.chars.includes('\n') ? '\n' : r.tok.chars[0]!;
  const idx = tensor(r.tok.encode(start), { shape: [1, 1], dtype: 'int32', device: r.device });
  try {
    const out = await r.model.generate(idx, { maxNewTokens: r.settings.sampleLength, temperature: 0.8, topK: 20 });
    const ids = await out.data();
    out.dispose();
    return r.tok.decode(ids.subarray(1));
  } finally {
    idx.dispose();
  }
}

serveJob<GptReset>({
  async reset({ text, settings }) {
    if (run) { run.opt.dispose(); run.model.dispose(); run = null; }
    const report = await selectDevice(settings.device);
    post({ type: 'device', ...report });
    const tok = CharTokenizer.fromText(text);
    const data = tok.encode(text);
    if (data.length < settings.blockSize + 2) {
      throw new RangeError(`the text has ${data.length} characters; a context of ${settings.blockSize} needs at least ${settings.blockSize + 2}`);
    }
    if (settings.nEmbd % settings.nHead !== 0) {
      throw new RangeError(`the width (${settings.nEmbd}) must be a multiple of the number of heads (${settings.nHead})`);
    }
    manualSeed(settings.seed);
    const { nLayer, nHead, nEmbd, blockSize } = settings;
    const model = new GPT({ vocabSize: tok.vocabSize, blockSize, nLayer, nHead, nEmbd, dropout: 0, bias: true, device: report.device });
    const opt = new AdamW(model.configureOptimizerGroups(0.1), { lr: settings.lr, betas: [0.9, 0.99] });
    run = { settings, device: report.device, tok, data, model, opt, step: 0 };
    return model.numParameters();
  },

  ready: () => run !== null,

  async step() {
    const r = run!;
    const { batchSize, blockSize } = r.settings;
    const loss = tidy(() => {
      const { x, y } = getBatch(r.data, batchSize, blockSize, r.device); // (B, T) inputs and next-token targets
      const l = r.model.forward(x, y).loss!;
      l.backward();
      clipGradNorm(r.opt.params(), 1).dispose();
      r.opt.step();
      r.opt.zeroGrad();
      return keep(l);
    });
    const value = await loss.item();
    loss.dispose();
    r.step++;
    return { step: r.step, loss: value, items: batchSize * blockSize };
  },

  async afterStep(step) {
    const r = run!;
    if (step % r.settings.sampleEvery === 0) post({ type: 'sample', step, text: await sample(r) });
  },

  async weights() {
    if (!run) throw new Error('there is no model yet');
    const { settings, tok, step, model } = run;
    const { nLayer, nHead, nEmbd, blockSize } = settings;
    const config = { vocabSize: tok.vocabSize, blockSize, nLayer, nHead, nEmbd, bias: true };
    const metadata = { model: 'GPT', config: JSON.stringify(config), chars: JSON.stringify(tok.chars), step: String(step) };
    return { step, bytes: await toSafetensorsBytes(model, { metadata }) };
  },
});
