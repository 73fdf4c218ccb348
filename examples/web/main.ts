// `pnpm example web [flags]`: bundle the page that trains a character GPT in the browser (WebGPU,
// or the cpu device's WebAssembly kernels) and serve it on localhost. See --help and README.md.
import { pathToFileURL } from 'node:url';
import { parseFlags, type FlagSpecs } from '../shared/args.js';
import { runExample } from '../shared/cli.js';
import { buildSite, serveSite, type ServeOptions, type Site } from './serve.js';

export const FLAGS: FlagSpecs = {
  'port': { type: 'int', help: 'port to listen on (0: any free port)', default: 8080, min: 0, max: 65535 },
  'host': { type: 'string', help: 'address to listen on', default: '127.0.0.1' },
  'isolation': { type: 'boolean', help: 'send the COOP/COEP headers (--isolation=false leaves them out: the cpu device then runs on one thread)', default: true },
};

const SUMMARY = 'Serve a page that trains a character GPT in the browser, on WebGPU or the cpu device, with a live loss plot, samples and a safetensors download.';

export function optionsFromArgv(argv: readonly string[]): ServeOptions & { help?: boolean } {
  const f = parseFlags(argv, FLAGS);
  return { port: (f.port as number | undefined) ?? 8080, host: (f.host as string | undefined) ?? '127.0.0.1', isolate: f.isolation !== false, help: f.help };
}

/** Builds and serves the page; the server keeps running (close it with the returned `close`). */
export async function main(argv: readonly string[]): Promise<Site | null> {
  return runExample(argv, { command: 'pnpm example web', summary: SUMMARY, flags: FLAGS, parse: optionsFromArgv }, async (opts) => {
    const site = await serveSite(await buildSite(), opts);
    console.log(`webgrad web example: open ${site.url}${opts.isolate ? '' : ' (no COOP/COEP: the cpu device runs on one thread)'}\n(Ctrl-C stops the server)`);
    return site;
  });
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(entry).href) await main(process.argv.slice(2));
