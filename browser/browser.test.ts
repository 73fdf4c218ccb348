// webgrad in a real browser (headless Chromium): the same smoke run — a tiny GPT trained a few
// steps and one thread-split matmul — on the cpu device in a page, on WebGPU through navigator.gpu,
// and on the cpu device with two threads in a Web Worker, each against the same run in Node; and the
// WebGPU unary functions on the browser's adapter (SwiftShader without a GPU) against the CPU's.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundlePage, findChromium, launchChromium, servePage } from './harness.js';
import { smokeRun, type SmokeResult } from './smoke.js';

const dir = mkdtempSync(join(tmpdir(), 'webgrad-browser-'));
let report: Record<string, unknown>;
let node: SmokeResult;

beforeAll(async () => {
  const chromium = findChromium();
  if (!chromium) {
    throw new Error('browser test: no Chromium found. Install it (Debian/Ubuntu: bash scripts/setup.sh, or apt-get install chromium), '
      + 'or set WEBGRAD_CHROMIUM to a Chrome/Chromium binary; WEBGRAD_TEST_BROWSER=0 leaves this test out.');
  }
  node = await smokeRun('cpu');
  await bundlePage(join(dir, 'site'));
  const { url, report: pending, server } = await servePage(join(dir, 'site'));
  const browser = launchChromium(chromium, url, join(dir, 'profile'));
  try {
    report = await Promise.race([
      pending,
      new Promise<never>((_, reject) => { browser.once('exit', (code) => reject(new Error(`Chromium exited (${code}) before the page reported:\n${browser.log()}`))); }),
      new Promise<never>((_, reject) => { setTimeout(() => reject(new Error(`no report from the page within 150 s:\n${browser.log()}`)), 150_000); }),
    ]);
    if (report.pageError) throw new Error(`the page failed to load: ${String(report.pageError)}`);
  } finally {
    const exited = browser.exitCode !== null ? Promise.resolve() : new Promise((r) => browser.once('exit', r));
    browser.kill();
    server.close();
    await exited;
  }
}, 180_000);

afterAll(() => rmSync(dir, { recursive: true, force: true, maxRetries: 5 }));

const closeTo = (a: number[], b: number[], tol: number) => {
  expect(a).toHaveLength(b.length);
  a.forEach((v, i) => expect(Math.abs(v - b[i]!), `element ${i}: ${v} vs ${b[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[i]!))));
};

describe('in headless Chromium', () => {
  it('the page is cross-origin isolated (SharedArrayBuffer for the cpu threads)', () => {
    expect(report.crossOriginIsolated).toBe(true);
  });

  it('cpu device on the main thread: one thread, the same losses as Node', () => {
    expect(report.cpuError).toBeUndefined();
    const r = report.cpu as SmokeResult;
    expect(r.threads).toBe(1);
    expect(r.losses[r.losses.length - 1]!).toBeLessThan(r.losses[0]! - 0.1);
    closeTo(r.losses, node.losses, 1e-5);
    closeTo(r.matmul, node.matmul, 1e-5);
  });

  it('cpu device in a Web Worker: two threads, the same results', () => {
    expect(report.workerError).toBeUndefined();
    const r = report.worker as SmokeResult;
    expect(r.threads).toBe(2);
    closeTo(r.losses, node.losses, 1e-5);
    closeTo(r.matmul, node.matmul, 1e-5);
  });

  it('webgpu device through navigator.gpu: the cpu losses', () => {
    expect(report.webgpuError).toBeUndefined();
    console.log(`browser WebGPU adapter: ${JSON.stringify(report.adapter)}`);
    expect(report.adapter).toBeTruthy();
    const r = report.webgpu as SmokeResult;
    expect(r.device).toBe('webgpu');
    closeTo(r.losses, node.losses, 1e-4);
    closeTo(r.matmul, node.matmul, 1e-4);
  });

  it('webgpu unary functions agree with the cpu ones on the browser\'s adapter, near 0 and 1 and far out', () => {
    const r = report.webgpu as SmokeResult;
    for (const [op, want] of Object.entries(node.unary)) {
      const got = r.unary[op]!;
      want.forEach((w, i) => {
        if (typeof w === 'string') { expect(got[i], `${op}[${i}]`).toBe(w); return; }
        // A few f32 ulp; the absolute 1e-6 covers gelu's far tail, where 1 + erf(x/√2) cancels in f32.
        expect(Math.abs((got[i] as number) - w), `${op}[${i}]: ${got[i]} vs ${w}`).toBeLessThanOrEqual(1e-6 + 1e-6 * Math.abs(w));
      });
    }
  });
});
