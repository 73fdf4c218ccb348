// Bundling and serving the page. esbuild bundles page.ts and the two training workers (with the
// @webgrad/* packages from their TypeScript sources, minified, with source maps) into memory; a small HTTP server sends them with
// index.html and style.css. By default it sends the two headers that make the page cross-origin
// isolated (COOP same-origin, COEP require-corp): without them browsers withhold SharedArrayBuffer
// and the cpu device's WebAssembly kernels run on one thread. /mnist.bin holds the MNIST tab's
// digits, made on the first request from the `mnist` package.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { IMAGE_SIZE, loadMnistDigits, mnistSplitIndices } from '../shared/mnist_digits.js';

const PACKAGES = ['kernels', 'core', 'nn', 'optim'];
const STATIC = ['index.html', 'style.css'];
const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', css: 'text/css; charset=utf-8', js: 'text/javascript; charset=utf-8', map: 'application/json' };

/** The repository root: the first folder above this file that holds the packages' sources (this
 *  file also runs from the examples' transpiled copy, which has no .ts sources). */
export function repoRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'packages', 'core', 'src', 'index.ts')) && existsSync(join(dir, 'examples', 'web', 'page.ts'))) return dir;
    if (dirname(dir) === dir) throw new Error(`examples/web: no webgrad checkout above ${from}`);
  }
}

/** The page's files by URL path: '/' (index.html), '/style.css', and the bundles '/page.js',
 *  '/train_worker.js', '/mnist_worker.js' with their '.js.map' files. */
export async function buildSite(root = repoRoot()): Promise<Map<string, Uint8Array>> {
  const src = join(root, 'examples', 'web');
  const result = await esbuild.build({
    entryPoints: { page: join(src, 'page.ts'), train_worker: join(src, 'train_worker.ts'), mnist_worker: join(src, 'mnist_worker.ts') },
    outdir: '/',
    write: false,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    alias: Object.fromEntries(PACKAGES.map((p) => [`@webgrad/${p}`, join(root, 'packages', p, 'src', 'index.ts')])),
    // Node-only modules are imported lazily behind runtime checks; in a page they are never loaded.
    external: ['node:*', 'webgpu'],
    logLevel: 'warning',
  });
  const files = new Map<string, Uint8Array>();
  for (const f of result.outputFiles) files.set(`/${f.path.split(/[\\/]/).pop()}`, f.contents);
  for (const name of STATIC) files.set(name === 'index.html' ? '/' : `/${name}`, readFileSync(join(src, name)));
  return files;
}

/**
 * The mnist package's digits in the mnist example's split (7,000 train, 2,000 test; the 1,000
 * validation digits are left out) as one file for mnist_worker.ts: u32 nTrain and u32 nTest
 * (little-endian), the labels (u8, train then test), then the images (28×28 u8 grey levels,
 * round(255·v)) in the same order: 7.1 MB instead of the package's 21 MB of JSON.
 */
export function mnistBinary(): Uint8Array {
  const { pixels, labels } = loadMnistDigits();
  const { train, test } = mnistSplitIndices();
  const ids = [...train, ...test];
  const area = IMAGE_SIZE * IMAGE_SIZE;
  const out = new Uint8Array(8 + ids.length * (1 + area));
  const view = new DataView(out.buffer);
  view.setUint32(0, train.length, true);
  view.setUint32(4, test.length, true);
  ids.forEach((id, i) => {
    out[8 + i] = labels[id]!;
    const at = 8 + ids.length + i * area;
    for (let p = 0; p < area; p++) out[at + p] = Math.round(255 * pixels[id * area + p]!);
  });
  return out;
}

export interface ServeOptions {
  port: number;
  host: string;
  /** Send COOP/COEP (default true). */
  isolate?: boolean;
}

export interface Site {
  url: string;
  server: Server;
  close: () => Promise<void>;
}

/** Serves the files on host:port (port 0: any free one). */
export async function serveSite(files: Map<string, Uint8Array>, opts: ServeOptions): Promise<Site> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!.replace(/^\/index\.html$/, '/');
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405).end(); return; }
    if (path === '/mnist.bin' && !files.has(path)) {
      try {
        files.set(path, mnistBinary());
      } catch (e) {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`the MNIST digits could not be read: ${(e as Error).message}`);
        return;
      }
    }
    const body = files.get(path);
    if (!body) { res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`); return; }
    const ext = path === '/' ? 'html' : path.slice(path.lastIndexOf('.') + 1); // bin: application/octet-stream
    res.writeHead(200, {
      'content-type': TYPES[ext] ?? 'application/octet-stream',
      'content-length': body.byteLength,
      'cache-control': 'no-store',
      ...(opts.isolate === false ? {} : { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' }),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'EADDRINUSE' ? new Error(`examples/web: port ${opts.port} on ${opts.host} is in use; pick another with --port (0: any free port)`) : e);
    });
    server.listen(opts.port, opts.host, () => { server.removeAllListeners('error'); resolve(); });
  });
  const { port } = server.address() as { port: number };
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}/`,
    server,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
