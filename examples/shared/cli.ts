// The shape every example's main() shares: parse the flags (a usage error prints the usage and
// exits 2), answer --help, run, and release the GPU afterwards.
import { UsageError, usage, type FlagSpecs } from './args.js';
import { releaseDevices } from './device.js';

export interface ExampleCli<O> {
  /** e.g. 'pnpm example dpo' */
  command: string;
  summary: string;
  flags: FlagSpecs;
  /** argv → options (throws UsageError on a bad flag). */
  parse: (argv: readonly string[]) => O & { help?: boolean };
}

/** Run an example from the command line; returns its result, or null for --help and bad flags. */
export async function runExample<O, R>(argv: readonly string[], cli: ExampleCli<O>, run: (opts: O) => Promise<R>): Promise<R | null> {
  let opts: O & { help?: boolean };
  try {
    opts = cli.parse(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`error: ${e.message}\n\n${usage(cli.command, cli.summary, cli.flags)}`);
    process.exitCode = 2;
    return null;
  }
  if (opts.help) {
    console.log(usage(cli.command, cli.summary, cli.flags));
    return null;
  }
  try {
    return await run(opts);
  } finally {
    await releaseDevices();
  }
}
