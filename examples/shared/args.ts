// Command-line flags for examples: `--name value`, `--name=value`, boolean `--flag`, with typed
// defaults and a generated --help text. Unknown flags are an error that lists the known ones.

export interface FlagSpec {
  type: 'number' | 'int' | 'string' | 'boolean';
  help: string;
  /** Shown in --help; the parsed result leaves the flag undefined when it is absent. */
  default?: number | string | boolean;
  choices?: readonly string[];
  /** Bounds of a number or int flag: the value must be >= min (> min with `exclusiveMin`) and <= max. */
  min?: number;
  exclusiveMin?: boolean;
  max?: number;
}

export type FlagSpecs = Record<string, FlagSpec>;
export type ParsedFlags = Record<string, number | string | boolean | undefined>;

export class UsageError extends Error {}

/** kebab-case flag name → camelCase key. */
export const camel = (flag: string): string => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Parse argv against specs; keys of the result are the camelCase flag names. */
export function parseFlags(argv: readonly string[], specs: FlagSpecs): ParsedFlags & { help?: boolean } {
  const out: ParsedFlags & { help?: boolean } = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') { out.help = true; continue; }
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument '${arg}' (flags start with --)`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = specs[name];
    if (!spec) throw new UsageError(`unknown flag --${name}; known flags: ${Object.keys(specs).map((k) => `--${k}`).join(' ')}`);
    let raw: string | undefined = eq < 0 ? undefined : arg.slice(eq + 1);
    if (spec.type === 'boolean') {
      out[camel(name)] = raw === undefined ? true : !/^(0|false|no)$/i.test(raw);
      continue;
    }
    if (raw === undefined) {
      raw = argv[++i];
      if (raw === undefined) throw new UsageError(`--${name} needs a value`);
    }
    out[camel(name)] = convert(name, spec, raw);
  }
  return out;
}

function convert(name: string, spec: FlagSpec, raw: string): number | string {
  if (spec.type === 'string') {
    if (spec.choices && !spec.choices.includes(raw)) throw new UsageError(`--${name} must be one of ${spec.choices.join(', ')}, got '${raw}'`);
    return raw;
  }
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v)) throw new UsageError(`--${name} expects a number, got '${raw}'`);
  if (spec.type === 'int' && !Number.isInteger(v)) throw new UsageError(`--${name} expects an integer, got '${raw}'`);
  if (spec.min !== undefined && (spec.exclusiveMin ? v <= spec.min : v < spec.min)) throw new UsageError(`--${name} must be ${spec.exclusiveMin ? '>' : '>='} ${spec.min}, got '${raw}'`);
  if (spec.max !== undefined && v > spec.max) throw new UsageError(`--${name} must be <= ${spec.max}, got '${raw}'`);
  return v;
}

/** The --help text: one line per flag with its default. */
export function usage(command: string, summary: string, specs: FlagSpecs): string {
  const rows = Object.entries(specs).map(([k, s]) => {
    const left = `  --${k}${s.type === 'boolean' ? '' : ` <${s.choices ? s.choices.join('|') : s.type}>`}`;
    const def = s.default !== undefined ? ` (default ${s.default})` : '';
    return `${left.padEnd(30)} ${s.help}${def}`;
  });
  return `usage: ${command} [flags]\n${summary}\n\n${rows.join('\n')}\n`;
}
