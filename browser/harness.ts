// What the browser test needs around the page: a bundle of it (esbuild, the @webgrad/* packages from
// their sources), a local server that sends the headers for cross-origin isolation (so the page has
// SharedArrayBuffer) and takes the page's report, and a headless Chromium with WebGPU switched on.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, resolve } from 'node:path';
import * as esbuild from 'esbuild';

const root = resolve(import.meta.dirname, '..');
const PACKAGES = ['kernels', 'core', 'nn', 'optim', 'rl'];

/** Bundles the entry points (default browser/page.ts and browser/worker.ts; ES modules) with an
 *  index.html that loads `page.js` into `outDir`. */
export async function bundlePage(outDir: string, entries: Record<string, string> = {
  page: join(root, 'browser', 'page.ts'), worker: join(root, 'browser', 'worker.ts'),
}): Promise<void> {
  await esbuild.build({
    entryPoints: entries,
    outdir: outDir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    alias: Object.fromEntries(PACKAGES.map((p) => [`@webgrad/${p}`, join(root, 'packages', p, 'src', 'index.ts')])),
    // Node-only modules are imported lazily behind runtime checks; in a page they are never loaded.
    external: ['node:*', 'webgpu'],
    logLevel: 'warning',
  });
  // A page that fails to load still reports, so the test fails at once with the reason.
  writeFileSync(join(outDir, 'index.html'), `<!doctype html><meta charset="utf-8"><title>webgrad</title>
<script type="module">
import('./page.js').catch((e) => fetch('/result', { method: 'POST', body: JSON.stringify({ pageError: String(e && e.stack || e) }) }));
</script>
`);
}

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript' };

/** Serves `dir` on 127.0.0.1 (COOP/COEP set) and resolves `report` with the JSON the page POSTs to /result. */
export async function servePage(dir: string): Promise<{ url: string; report: Promise<Record<string, unknown>>; server: Server }> {
  let deliver!: (r: Record<string, unknown>) => void;
  const report = new Promise<Record<string, unknown>>((r) => { deliver = r; });
  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/result') {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => { res.end('ok'); deliver(JSON.parse(body) as Record<string, unknown>); });
      return;
    }
    const name = (req.url ?? '/').split('?')[0] === '/' ? 'index.html' : (req.url ?? '').slice(1).split('?')[0]!;
    if (!/^[\w.-]+$/.test(name)) { res.writeHead(404).end(); return; }
    let body: Buffer;
    try { body = readFileSync(join(dir, name)); } catch { res.writeHead(404).end(); return; }
    res.writeHead(200, {
      'content-type': TYPES[extname(name)] ?? 'application/octet-stream',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
    });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/`, report, server };
}

/** WEBGRAD_CHROMIUM, else the first Chromium or Chrome on PATH; null when there is none. */
export function findChromium(): string | null {
  const candidates = process.env.WEBGRAD_CHROMIUM ? [process.env.WEBGRAD_CHROMIUM] : ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];
  return candidates.find((c) => spawnSync(c, ['--version'], { stdio: 'ignore', timeout: 30_000 }).status === 0) ?? null;
}

export interface LaunchOptions {
  /** The flags that switch WebGPU on (default true); without them Chromium on Linux finds no adapter. */
  webgpu?: boolean;
  /** Speak the DevTools protocol over pipes (--remote-debugging-pipe): the child's stdio[3] takes
   *  commands, stdio[4] gives replies and events, each a JSON message ended by a NUL byte. */
  devtoolsPipe?: boolean;
  args?: string[];
}

/**
 * Headless Chromium on `url`. WebGPU is behind flags on Linux; with them Chromium uses its Vulkan
 * backend, on the software driver (SwiftShader or lavapipe) where there is no GPU. `--no-sandbox`
 * because CI runs as root.
 */
export function launchChromium(chromium: string, url: string, userDataDir: string, opts: LaunchOptions = {}): ChildProcess & { log: () => string } {
  const child = spawn(chromium, [
    '--headless=new', '--no-sandbox', '--no-first-run', '--no-default-browser-check', `--user-data-dir=${userDataDir}`,
    ...(opts.webgpu === false ? [] : ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-angle=vulkan', '--use-vulkan=native', '--ignore-gpu-blocklist']),
    ...(opts.devtoolsPipe ? ['--remote-debugging-pipe'] : []),
    ...(opts.args ?? []),
    url,
  ], { stdio: opts.devtoolsPipe ? ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-20_000); });
  return Object.assign(child, { log: () => log });
}
