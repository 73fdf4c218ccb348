// Tables of argument checks. Each case is a public constructor or function with a valid baseline
// call and the kind of each argument; every argument, and every option of an options bag, is
// replaced in turn by values of the wrong kind (NaN, -1, 1.5, Infinity, '3', true, {}, unknown keys,
// unknown enum strings, ...). Each such call must throw a WebgradError whose message names the
// public class or function and the argument; the baseline must still work.
import { WebgradError, fmtValue } from '@webgrad/core';

/** Wrong values for each kind of argument. */
export const BAD = {
  /** An integer >= 0. */
  size: [null, NaN, -1, 1.5, Infinity, '3', true, {}],
  /** An integer >= 1. */
  posInt: [null, 0, NaN, -1, 1.5, Infinity, '3', true, {}],
  /** Any integer (a dim, a seed). */
  int: [null, NaN, 1.5, Infinity, '3', true, {}],
  /** Any finite number. */
  finite: [null, NaN, Infinity, '3', true, {}],
  /** A finite number >= 0. */
  nonNeg: [null, -1, NaN, Infinity, '3', true, {}],
  /** A finite number > 0. */
  positive: [null, 0, -1, NaN, Infinity, '3', true, {}],
  /** A probability in [0, 1]. */
  prob: [null, -0.5, 1.5, NaN, Infinity, '0.5', true, {}],
  /** In [0, 1). */
  unitOpen: [null, 1, -0.5, 1.5, NaN, Infinity, '0.5', true, {}],
  bool: [null, 1, 'true', {}],
  /** A string from a fixed set. */
  enum: [null, 'unknown', 1, true, {}],
  /** A floating-point dtype name. */
  floatDType: [null, 'float8', 'int32', 'bool', 3, {}],
  device: [null, 'gpu', 3, {}],
  /** A Tensor. */
  tensor: [3, '3', {}, [1, 2]],
  /** A function. */
  fn: [null, 3, 'f', {}],
} as const;

/** The wrong values of `kind` where null is a valid value (documented as `number | null`). */
export const nullable = (kind: keyof typeof BAD): { bad: readonly unknown[] } => ({ bad: BAD[kind].filter((v) => v !== null) });

/** The kind of an argument: a key of BAD, an options bag (its keys' kinds), or explicit bad values. */
export type Kind = keyof typeof BAD | Options | { bad: readonly unknown[] };
export interface Options { [key: string]: Kind }

/** An argument: its name (what the error must mention), a valid value and its kind (null: left alone). */
export type Arg = [name: string, value: unknown, kind: Kind | null];

export interface Case {
  /** The public name every error must mention (`Linear`, `GPT.forward`, `clipGradNorm`). */
  name: string;
  call: (...args: any[]) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
  args: Arg[];
  /** More wrong calls: [what the error must mention, the arguments]. */
  extra?: [string, unknown[]][];
}

export interface Tally {
  /** Wrong calls made. */
  tried: number;
  /** Those that threw a WebgradError naming the public name. */
  typed: number;
  /** Those whose message also named the argument. */
  namedArg: number;
  failures: string[];
}

const isOptions = (k: Kind): k is Options => typeof k === 'object' && !('bad' in k);
const badOf = (k: Kind): readonly unknown[] => (typeof k === 'string' ? BAD[k] : 'bad' in k ? (k as { bad: readonly unknown[] }).bad : []);

/** Every wrong variant of one argument: [label the error must mention, wrong value]. */
function variants(name: string, value: unknown, kind: Kind): [string, unknown][] {
  if (!isOptions(kind)) return badOf(kind).map((b) => [name, b]);
  const base = (value ?? {}) as Record<string, unknown>;
  const out: [string, unknown][] = [true, 3, 'x', []].map((b) => [name, b]);
  out.push(['notAnOption', { ...base, notAnOption: 1 }]);
  for (const [key, k] of Object.entries(kind)) {
    for (const [label, b] of variants(key, base[key], k)) out.push([label, { ...base, [key]: b }]);
  }
  return out;
}

/** Dispose what a call returned (a tensor or a module), unless it is one of its arguments. */
function dispose(v: unknown, args: readonly unknown[]): void {
  if (v && typeof v === 'object' && !args.includes(v) && typeof (v as { dispose?: unknown }).dispose === 'function') (v as { dispose(): void }).dispose();
}

async function run(c: Case, args: unknown[]): Promise<unknown> {
  return await c.call(...args);
}

/** Run the baseline of every case, then every wrong call; returns the tally. */
export async function checkArguments(cases: readonly Case[]): Promise<Tally> {
  const t: Tally = { tried: 0, typed: 0, namedArg: 0, failures: [] };
  for (const c of cases) {
    const base = c.args.map((a) => a[1]);
    try {
      dispose(await run(c, base), base);
    } catch (e) {
      t.failures.push(`${c.name}: the valid baseline threw ${(e as Error).message}`);
      continue;
    }
    const wrong: [string, unknown[]][] = [...(c.extra ?? [])];
    c.args.forEach(([name, value, kind], i) => {
      if (kind === null) return;
      for (const [label, b] of variants(name, value, kind)) wrong.push([label, base.map((v, j) => (j === i ? b : v))]);
    });
    for (const [label, args] of wrong) {
      t.tried++;
      const shown = `${c.name}(${args.map((a) => fmtValue(a)).join(', ')})`;
      try {
        dispose(await run(c, args), args);
        t.failures.push(`${shown} did not throw`);
      } catch (e) {
        const msg = (e as Error).message;
        if (!(e instanceof WebgradError)) t.failures.push(`${shown} threw a ${(e as Error).constructor.name}, not a WebgradError: ${msg}`);
        else if (!msg.includes(c.name)) t.failures.push(`${shown}: the message does not name ${c.name}: ${msg}`);
        else {
          t.typed++;
          if (msg.includes(label)) t.namedArg++;
          else t.failures.push(`${shown}: the message does not name ${label}: ${msg}`);
        }
      }
    }
  }
  return t;
}
