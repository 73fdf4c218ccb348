// Command-line flags of the benchmark scripts, `--name value`: read from process.argv and checked,
// so a mistyped value stops the script with the flag's name instead of timing nonsense.

/** The value after `--name`, or `dflt` when the flag is absent; an Error naming the flag when it has no value. */
export function flag(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
  return v;
}

/** An integer flag of at least `min` (`--rounds 7`); an Error naming the flag for anything else. */
export function intFlag(name: string, dflt: number, min = 1): number {
  const v = flag(name, String(dflt));
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${v}`);
  return n;
}

/** A comma-separated list flag of integers of at least `min` (`--n 64,65536`). */
export function intListFlag(name: string, dflt: readonly number[], min = 1): number[] {
  const v = flag(name, dflt.join(','));
  const ns = v.split(',').map(Number);
  if (ns.length === 0 || !ns.every((n) => Number.isInteger(n) && n >= min)) throw new Error(`--${name} must be integers ≥ ${min} separated by commas, got ${v}`);
  return ns;
}
