// The web example (examples/web) in headless Chromium, driven over the DevTools protocol: the page
// trains its character GPT on WebGPU (SwiftShader here), then with WebGPU switched off (the cpu
// fallback, with and without cross-origin isolation), and LeNet-5 in its MNIST tab. Each run
// checks that the loss falls, the plot is drawn (pixels of a screenshot), samples or held-out
// predictions appear, the weights download as a valid safetensors file, and nothing is logged as
// an error — in the page or in its workers.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GPT, LeNet5, fromSafetensorsBytes, type Module } from '@webgrad/nn';
import { main } from '../examples/web/main.js';
import { SMOOTH_COLOR } from '../examples/web/plot.js';
import type { MnistState } from '../examples/web/mnist_tab.js';
import type { RunState } from '../examples/web/page.js';
import type { RunSettings } from '../examples/web/protocol.js';
import type { Site } from '../examples/web/serve.js';
import { findChromium, launchChromium } from './harness.js';

/** A DevTools protocol connection over Chromium's --remote-debugging-pipe. */
class DevTools {
  #id = 0;
  #pending = new Map<number, { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  #buffer = '';
  readonly listeners: ((m: { method: string; params: Record<string, unknown>; sessionId?: string }) => void)[] = [];

  constructor(private readonly out: NodeJS.WritableStream, input: NodeJS.ReadableStream) {
    input.on('data', (d: Buffer) => {
      this.#buffer += d.toString();
      for (let end = this.#buffer.indexOf('\0'); end >= 0; end = this.#buffer.indexOf('\0')) {
        const m = JSON.parse(this.#buffer.slice(0, end)) as { id?: number; result?: Record<string, unknown>; error?: { message: string }; method: string; params: Record<string, unknown>; sessionId?: string };
        this.#buffer = this.#buffer.slice(end + 1);
        const waiting = m.id !== undefined ? this.#pending.get(m.id) : undefined;
        if (waiting) {
          this.#pending.delete(m.id!);
          if (m.error) waiting.reject(new Error(`DevTools: ${m.error.message}`));
          else waiting.resolve(m.result ?? {});
        } else if (m.method) {
          for (const l of this.listeners) l(m);
        }
      }
    });
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = ++this.#id;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.out.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  }
}

/** RGBA pixels of a PNG (8-bit, not interlaced: what Chromium's screenshots are). */
function decodePng(png: Buffer): { width: number; height: number; rgba: Uint8Array } {
  let at = 8, width = 0, height = 0, colorType = 0;
  const idat: Buffer[] = [];
  while (at < png.length) {
    const len = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const body = png.subarray(at + 8, at + 8 + len);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0); height = body.readUInt32BE(4); colorType = body[9]!;
      if (body[8] !== 8 || body[12] !== 0 || (colorType !== 2 && colorType !== 6)) throw new Error(`decodePng: unsupported PNG (depth ${body[8]}, colour type ${colorType}, interlace ${body[12]})`);
    } else if (type === 'IDAT') idat.push(body);
    at += 12 + len;
  }
  const bpp = colorType === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const px = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x]!;
      const a = x >= bpp ? px[y * stride + x - bpp]! : 0;
      const b = y > 0 ? px[(y - 1) * stride + x]! : 0;
      const c = x >= bpp && y > 0 ? px[(y - 1) * stride + x - bpp]! : 0;
      const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][filter]!;
      px[y * stride + x] = (v + pred) & 255;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba.set(px.subarray(i * bpp, i * bpp + 3), i * 4);
    rgba[i * 4 + 3] = bpp === 4 ? px[i * 4 + 3]! : 255;
  }
  return { width, height, rgba };
}

interface PageRun {
  /** The device, badge and notice after the page's first model (the default settings, device 'auto'). */
  initial: Shown;
  state: RunState;
  deviceBadge: string;
  notice: string;
  sampleShown: string;
  /** Pixels of the plot's screenshot: all, those not white, those of the smoothed curve's colour. */
  plotPixels: PlotPixels;
  /** The downloaded weights file. */
  download: { name: string; bytes: Buffer };
  /** The notice after Reset with 0 layers. */
  refused: string;
  errors: string[];
}

interface Shown { device: RunState['device']; badge: string; notice: string }
interface PlotPixels { total: number; inked: number; curve: number }

const dir = mkdtempSync(join(tmpdir(), 'webgrad-web-example-'));
const screenshots = process.env.WEBGRAD_WEB_SCREENSHOTS;
let chromium: string;
let isolated: Site;
let plain: Site;
let webgpuRun: PageRun | undefined;
let cpuRun: PageRun | undefined;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A page open in a fresh headless Chromium, driven over the DevTools protocol. Console errors and
 *  exceptions of the page and of every worker it starts are collected in `errors`. */
async function openPage(name: string, url: string, webgpu: boolean) {
  const browser = launchChromium(chromium, 'about:blank', join(dir, `profile-${name}`), { webgpu, devtoolsPipe: true });
  const exited = new Promise<void>((r) => browser.once('exit', () => r()));
  const cdp = new DevTools(browser.stdio[3] as NodeJS.WritableStream, browser.stdio[4] as NodeJS.ReadableStream);
  const errors: string[] = [];
  let download: { guid?: string; name: string; done: () => void; failed: (e: Error) => void } | null = null;
  cdp.listeners.push(({ method, params }) => {
    if (method === 'Runtime.consoleAPICalled' && (params.type === 'error' || params.type === 'assert')) {
      errors.push(`console.${String(params.type)}: ${(params.args as { value?: unknown; description?: string }[]).map((a) => String(a.value ?? a.description)).join(' ')}`);
    } else if (method === 'Runtime.exceptionThrown') {
      const d = params.exceptionDetails as { text: string; exception?: { description?: string } };
      errors.push(`exception: ${d.exception?.description ?? d.text}`);
    } else if (method === 'Log.entryAdded') {
      const e = params.entry as { level: string; text: string; url?: string };
      if (e.level === 'error') errors.push(`log: ${e.text} ${e.url ?? ''}`);
    } else if (method === 'Target.attachedToTarget') {
      // A worker (a training worker, the cpu device's threads): its console and its own workers too.
      const child = params.sessionId as string;
      void Promise.all([
        cdp.send('Runtime.enable', {}, child), cdp.send('Log.enable', {}, child).catch(() => {}),
        cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: true }, child).catch(() => {}),
      ]).then(() => cdp.send('Runtime.runIfWaitingForDebugger', {}, child)).catch(() => {});
    } else if (method === 'Browser.downloadWillBegin' && download) {
      Object.assign(download, { guid: params.guid, name: params.suggestedFilename });
    } else if (method === 'Browser.downloadProgress' && download && params.guid === download.guid) {
      if (params.state === 'completed') download.done();
      if (params.state === 'canceled') download.failed(new Error('the download was cancelled'));
    }
  });
  const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true }) as { sessionId: string };
  const page = (method: string, params: Record<string, unknown> = {}) => cdp.send(method, params, sessionId);
  const evaluate = async <T>(expression: string): Promise<T> => {
    const r = await page('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true }) as { result: { value: T }; exceptionDetails?: { text: string } };
    if (r.exceptionDetails) throw new Error(`${expression}: ${r.exceptionDetails.text}`);
    return r.result.value;
  };
  /** Polls `expression` until true; fails at once if the run (`stateOf`) reports an error. */
  const waitFor = async (what: string, expression: string, stateOf: string, timeoutMs: number) => {
    const until = Date.now() + timeoutMs;
    while (!(await evaluate<boolean>(expression))) {
      const state = await evaluate<{ errors: string[] } | undefined>(stateOf);
      if (state?.errors.length) throw new Error(`${name}: the page reported: ${state.errors.join('; ')}`);
      if (Date.now() > until) throw new Error(`${name}: no ${what} within ${timeoutMs / 1000} s (state: ${JSON.stringify(state)?.slice(0, 2000)})\n${browser.log()}`);
      await sleep(100);
    }
  };
  const click = (id: string) => evaluate(`document.getElementById('${id}').click()`);
  const shown = () => evaluate<Shown>(`({
    badge: document.getElementById('device').textContent,
    notice: document.getElementById('notice').hidden ? '' : document.getElementById('notice').textContent,
  })`);
  /** Screenshot of element `id`, its pixels counted. */
  const plotPixels = async (id: string): Promise<PlotPixels> => {
    await evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))'); // the last redraw
    const rect = await evaluate<{ x: number; y: number; width: number; height: number }>(
      `(() => { const r = document.getElementById('${id}').getBoundingClientRect(); return { x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height }; })()`);
    const shot = await page('Page.captureScreenshot', { format: 'png', clip: { ...rect, scale: 1 } }) as { data: string };
    const png = decodePng(Buffer.from(shot.data, 'base64'));
    const [cr, cg, cb] = [1, 3, 5].map((i) => parseInt(SMOOTH_COLOR.slice(i, i + 2), 16));
    const counts = { total: png.width * png.height, inked: 0, curve: 0 };
    for (let i = 0; i < png.rgba.length; i += 4) {
      const [r, g, b] = [png.rgba[i]!, png.rgba[i + 1]!, png.rgba[i + 2]!];
      if (r < 245 || g < 245 || b < 245) counts.inked++;
      if (Math.abs(r - cr!) + Math.abs(g - cg!) + Math.abs(b - cb!) < 60) counts.curve++;
    }
    if (screenshots) {
      mkdirSync(screenshots, { recursive: true });
      const full = await page('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true }) as { data: string };
      writeFileSync(join(screenshots, `${name}.png`), Buffer.from(full.data, 'base64'));
    }
    return counts;
  };
  /** Clicks button `id` and returns the file the browser saved. */
  const downloadFrom = async (id: string) => {
    const downloadPath = join(dir, `downloads-${name}-${id}`);
    mkdirSync(downloadPath);
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath, eventsEnabled: true });
    const done = new Promise<void>((resolve, reject) => { download = { name: '', done: resolve, failed: reject }; });
    await click(id);
    await Promise.race([done, sleep(30_000).then(() => { throw new Error(`${name}: the download did not complete within 30 s`); })]);
    const files = readdirSync(downloadPath);
    expect(files).toEqual([download!.name]);
    return { name: files[0]!, bytes: readFileSync(join(downloadPath, files[0]!)) };
  };
  const close = async () => { browser.kill(); await exited; };
  try {
    await Promise.all([page('Runtime.enable'), page('Log.enable'), page('Page.enable')]);
    await page('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: true });
    await page('Emulation.setDeviceMetricsOverride', { width: 1280, height: 1000, deviceScaleFactor: 1, mobile: false });
    await page('Page.navigate', { url });
  } catch (e) {
    await close();
    throw e;
  }
  return { evaluate, waitFor, click, shown, plotPixels, downloadFrom, errors, close };
}

/** Sets the form `formId` to `settings` and clicks `resetId` (settings apply on reset). */
const applySettings = (formId: string, resetId: string, settings: object) => `(() => {
  const f = document.getElementById('${formId}');
  for (const [k, v] of Object.entries(${JSON.stringify(settings)})) f.elements[k].value = String(v);
  document.getElementById('${resetId}').click();
})()`;

/** The character GPT tab: its first model, then `settings`, `steps` steps, the plot and the download. */
async function trainInPage(name: string, url: string, opts: { webgpu: boolean; steps: number; settings: Partial<RunSettings> }): Promise<PageRun> {
  const p = await openPage(name, url, opts.webgpu);
  try {
    const state = 'window.webgradRun';
    await p.waitFor('model', 'window.webgradRun?.ready === true', state, 60_000);
    const initial = { ...(await p.shown()), device: await p.evaluate<RunState['device']>('window.webgradRun.device') };
    await p.evaluate(applySettings('settings', 'reset', { nLayer: 0 }));
    const refused = (await p.shown()).notice;
    await p.evaluate(applySettings('settings', 'reset', opts.settings));
    await p.waitFor('model after reset', 'window.webgradRun.ready === true', state, 60_000);
    await p.click('start');
    await p.waitFor(`${opts.steps} steps`, `window.webgradRun.losses.length >= ${opts.steps}`, state, 90_000);
    await p.click('pause');
    await p.waitFor('pause', 'window.webgradRun.running === false', state, 30_000);
    const plotPixels = await p.plotPixels('plot');
    const download = await p.downloadFrom('download');
    const now = await p.shown();
    const sampleShown = await p.evaluate<string>(`document.getElementById('sample').textContent`);
    return { initial, state: await p.evaluate<RunState>(state), deviceBadge: now.badge, notice: now.notice, sampleShown, plotPixels, download, refused, errors: p.errors };
  } finally {
    await p.close();
  }
}

/** The header of a safetensors file: u64 little-endian length, then that many bytes of JSON. */
function safetensorsHeader(bytes: Buffer): { tensors: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>; metadata: Record<string, string>; dataBytes: number } {
  const n = Number(bytes.readBigUInt64LE(0));
  expect(8 + n).toBeLessThanOrEqual(bytes.length);
  const header = JSON.parse(bytes.toString('utf8', 8, 8 + n)) as Record<string, unknown>;
  const { __metadata__: metadata, ...tensors } = header;
  return { tensors: tensors as never, metadata: (metadata ?? {}) as Record<string, string>, dataBytes: bytes.length - 8 - n };
}

/** Smaller than the page's defaults: SwiftShader runs WebGPU on the CPU, where a step of the default
 *  model takes seconds (and the first one compiles every pipeline). */
const SMALL = { nLayer: 1, nHead: 2, nEmbd: 32, blockSize: 32, batchSize: 8, lr: 0.01, sampleEvery: 5, sampleLength: 40 };

/** Loads `bytes` into `model` (every name and shape must match) and disposes of the model. */
function loadInto(model: Module, bytes: Buffer): void {
  try {
    fromSafetensorsBytes(model, new Uint8Array(bytes));
  } finally {
    model.dispose();
  }
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function checkRun(r: PageRun, steps: number, { sampleEvery, sampleLength }: typeof SMALL): void {
  expect(r.errors, r.errors.join('\n')).toEqual([]);
  expect(r.state.errors).toEqual([]);
  // A setting out of range is refused, naming it, before anything reaches the worker.
  expect(r.refused).toBe("layers must be a number from 1 to 8, got '0'");
  // The loss falls: from about ln(vocabulary) to clearly below it.
  const losses = r.state.losses.map((p) => p.loss);
  expect(losses.length).toBeGreaterThanOrEqual(steps);
  expect(r.state.losses.map((p) => p.step).slice(0, 3)).toEqual([1, 2, 3]);
  expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)) - 0.4);
  // The plot: axes, grid and labels ink the region, and the smoothed curve is there in its colour.
  expect(r.plotPixels.inked).toBeGreaterThan(0.02 * r.plotPixels.total);
  expect(r.plotPixels.curve).toBeGreaterThan(150);
  // Samples: one every sampleEvery steps, sampleLength characters, the latest shown.
  expect(r.state.samples.map((s) => s.step)).toEqual(Array.from({ length: Math.floor(losses.length / sampleEvery) }, (_, i) => (i + 1) * sampleEvery));
  const last = r.state.samples[r.state.samples.length - 1]!;
  expect([...last.text]).toHaveLength(sampleLength);
  expect(r.sampleShown).toBe(last.text);
  // The weights: a safetensors file of F32 tensors with consistent offsets, which loads into a GPT
  // of the config in its metadata.
  expect(r.download.name).toBe(`char-gpt-step${losses.length}.safetensors`);
  const { tensors, metadata, dataBytes } = safetensorsHeader(r.download.bytes);
  const config = JSON.parse(metadata.config!) as { vocabSize: number; nEmbd: number; nHead: number; nLayer: number; blockSize: number; bias: boolean };
  expect(metadata.step).toBe(String(losses.length));
  expect((JSON.parse(metadata.chars!) as string[]).length).toBe(config.vocabSize);
  expect(tensors['wte.weight']?.shape).toEqual([config.vocabSize, config.nEmbd]);
  expect(tensors['wpe.weight']?.shape).toEqual([config.blockSize, config.nEmbd]);
  expect(Object.keys(tensors).filter((k) => k.startsWith(`h.${config.nLayer - 1}.`)).length).toBeGreaterThan(0);
  let end = 0;
  for (const [k, t] of Object.entries(tensors).sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0])) {
    expect(t.dtype, k).toBe('F32');
    expect(t.data_offsets[0], k).toBe(end);
    expect(t.data_offsets[1] - t.data_offsets[0], k).toBe(4 * t.shape.reduce((a, b) => a * b, 1));
    end = t.data_offsets[1];
  }
  expect(end).toBe(dataBytes);
  loadInto(new GPT(config), r.download.bytes);
}

beforeAll(async () => {
  const found = findChromium();
  if (!found) {
    throw new Error('web example test: no Chromium found. Install it (Debian/Ubuntu: bash scripts/setup.sh, or apt-get install chromium), '
      + 'or set WEBGRAD_CHROMIUM to a Chrome/Chromium binary; WEBGRAD_TEST_BROWSER=0 leaves this test out.');
  }
  chromium = found;
  isolated = (await main(['--port', '0']))!;
  plain = (await main(['--port', '0', '--isolation=false']))!;
}, 60_000);

afterAll(async () => {
  await Promise.all([isolated?.close(), plain?.close()]);
  rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
});

describe('examples/web in headless Chromium', () => {
  it('serves the page cross-origin isolated, and without the headers when asked', async () => {
    const a = await fetch(isolated.url);
    expect(a.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(a.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(await a.text()).toContain('<script type="module" src="page.js">');
    const b = await fetch(plain.url);
    expect(b.headers.get('cross-origin-embedder-policy')).toBeNull();
    expect((await fetch(new URL('/missing.js', isolated.url))).status).toBe(404);
    expect((await fetch(new URL('/page.js.map', isolated.url))).headers.get('content-type')).toBe('application/json');
    // The MNIST tab's digits: 7,000 + 2,000 labels and 28×28 images after two u32 counts.
    const digits = new Uint8Array(await (await fetch(new URL('/mnist.bin', isolated.url))).arrayBuffer());
    const view = new DataView(digits.buffer);
    expect([view.getUint32(0, true), view.getUint32(4, true)]).toEqual([7000, 2000]);
    expect(digits.length).toBe(8 + 9000 * (1 + 784));
    expect(Math.max(...digits.subarray(8, 8 + 9000))).toBe(9);
  });

  it('trains on WebGPU: the loss falls, the plot is drawn, samples appear, the weights download', async () => {
    const r = await trainInPage('webgpu', isolated.url, { webgpu: true, steps: 10, settings: { ...SMALL, device: 'webgpu' } });
    webgpuRun = r;
    // 'auto' (the page's first model) passes over a software adapter for the cpu device, and says so.
    expect(r.initial.device).toMatchObject({ device: 'cpu', softwareAdapter: expect.stringMatching(/swiftshader|lavapipe|llvmpipe/i) });
    expect(r.initial.notice).toMatch(/is a software renderer .* Choose device "webgpu"/);
    console.log(`web example on WebGPU (${r.deviceBadge}): loss ${r.state.losses[0]!.loss.toFixed(3)} → ${r.state.losses[r.state.losses.length - 1]!.loss.toFixed(3)} in ${r.state.losses.length} steps`);
    expect(r.state.device?.device).toBe('webgpu');
    expect(r.deviceBadge).toMatch(/^WebGPU · \S/);
    expect(r.notice).toBe('');
    checkRun(r, 10, SMALL);
  }, 120_000);

  it('without WebGPU: trains on the cpu device with its threads, and says so', async () => {
    const r = await trainInPage('cpu', isolated.url, { webgpu: false, steps: 10, settings: SMALL });
    cpuRun = r;
    expect(r.initial.device).toMatchObject({ device: 'cpu', fallbackReason: 'No WebGPU adapter found' });
    expect(r.state.device).toMatchObject({ device: 'cpu', crossOriginIsolated: true });
    expect(r.state.device!.fallbackReason).toBe('No WebGPU adapter found');
    expect(r.deviceBadge).toBe(`cpu · WebAssembly, ${r.state.device!.threads} thread${r.state.device!.threads === 1 ? '' : 's'}`);
    expect(r.notice).toBe(`WebGPU is not available in this browser (No WebGPU adapter found), so the model trains on the cpu device (WebAssembly, ${r.state.device!.threads} thread${r.state.device!.threads === 1 ? '' : 's'}).`);
    checkRun(r, 10, SMALL);
  }, 120_000);

  it('served without COOP/COEP: the cpu device on one thread, and the page says why', async () => {
    const r = await trainInPage('one-thread', plain.url, { webgpu: false, steps: 10, settings: SMALL });
    expect(r.state.device).toMatchObject({ device: 'cpu', threads: 1, crossOriginIsolated: false });
    expect(r.deviceBadge).toBe('cpu · WebAssembly, 1 thread');
    expect(r.notice).toMatch(/not cross-origin isolated \(the server sent no COOP\/COEP headers\), so the cpu device runs on one thread\.$/);
    checkRun(r, 10, SMALL);
  }, 120_000);

  it('the MNIST tab trains LeNet-5: the loss falls, held-out accuracy rises, digits are shown, the weights download', async () => {
    const p = await openPage('mnist', isolated.url, false);
    try {
      const state = 'window.webgradMnist';
      await p.waitFor('page', 'window.webgradRun !== undefined', 'window.webgradRun', 60_000);
      await p.evaluate(`document.querySelector('[data-tab="mnist"]').click()`);
      await p.waitFor('model', 'window.webgradMnist?.ready === true', state, 60_000);
      await p.evaluate(applySettings('mnist-settings', 'mnist-reset', { batchSize: 32, lr: 0.003, evalEvery: 8, evalSize: 200 }));
      await p.waitFor('model after reset', 'window.webgradMnist.ready === true', state, 60_000);
      await p.click('mnist-start');
      await p.waitFor('2 evaluations', 'window.webgradMnist.evals.length >= 2', state, 90_000);
      await p.click('mnist-pause');
      await p.waitFor('pause', 'window.webgradMnist.running === false', state, 30_000);
      const plot = await p.plotPixels('mnist-plot');
      const download = await p.downloadFrom('mnist-download');
      const run = await p.evaluate<MnistState>(state);
      const figures = await p.evaluate<{ caption: string; wrong: boolean }[]>(
        `Array.from(document.querySelectorAll('#mnist-digits figure'), (f) => ({ caption: f.textContent, wrong: f.classList.contains('wrong') }))`);
      const shown = await p.shown();

      expect(p.errors, p.errors.join('\n')).toEqual([]);
      expect(run.device).toMatchObject({ device: 'cpu', fallbackReason: 'No WebGPU adapter found' });
      expect(shown.badge).toMatch(/^cpu · WebAssembly/);
      const losses = run.losses.map((l) => l.loss);
      expect(losses.length).toBeGreaterThanOrEqual(16);
      expect(mean(losses.slice(0, 5))).toBeGreaterThan(1.9); // about ln 10 untrained
      expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)) - 0.5);
      expect(run.evals.map((e) => e.step).slice(0, 2)).toEqual([8, 16]);
      const last = run.evals[run.evals.length - 1]!;
      expect(last.evaluated).toBe(200);
      expect(last.accuracy).toBeGreaterThan(0.3); // chance is 0.1
      // The digit grid: the first 32 held-out digits, the wrong answers marked.
      expect(figures).toHaveLength(32);
      figures.forEach((f, i) => {
        const wrong = last.predicted[i] !== last.labels[i];
        expect(f).toEqual({ caption: wrong ? `${last.predicted[i]} (is ${last.labels[i]})` : String(last.labels[i]), wrong });
      });
      expect(plot.curve).toBeGreaterThan(150);
      expect(download.name).toBe(`lenet5-mnist-step${losses.length}.safetensors`);
      const { tensors, metadata, dataBytes } = safetensorsHeader(download.bytes);
      expect(metadata.model).toBe('LeNet5');
      expect(tensors['conv1.weight']).toMatchObject({ dtype: 'F32', shape: [6, 1, 5, 5] });
      expect(tensors['fc3.weight']).toMatchObject({ dtype: 'F32', shape: [10, 84] });
      expect(Object.values(tensors).reduce((a, t) => a + 4 * t.shape.reduce((x, y) => x * y, 1), 0)).toBe(dataBytes);
      expect(dataBytes).toBe(4 * 61_706);
      loadInto(new LeNet5(), download.bytes);
    } finally {
      await p.close();
    }
  }, 150_000);

  it('the WebGPU and cpu runs agree step by step (same seed, same batches)', () => {
    const gpu = webgpuRun!.state.losses.map((p) => p.loss), cpu = cpuRun!.state.losses.map((p) => p.loss);
    expect(Math.min(gpu.length, cpu.length)).toBeGreaterThanOrEqual(10);
    gpu.slice(0, cpu.length).forEach((l, i) => expect(Math.abs(l - cpu[i]!), `step ${i + 1}: ${l} vs ${cpu[i]}`).toBeLessThanOrEqual(2e-3 * Math.max(1, Math.abs(l))));
  });
});
