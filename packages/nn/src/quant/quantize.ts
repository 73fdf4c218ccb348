// quantize(model, config): weight-only post-training quantization of a model's Linear layers in
// place (each becomes a QuantLinear, the same object, so every field and container holding it keeps
// working), chosen like LoRA's targetModules, with a skip list (a tied LM head shares its weight
// with the embedding and is left in float). dequantize(model) turns them back into Linear layers.
import { ValueError, fmtValue } from '@webgrad/core';
import { QUANT_SCHEMES, type QuantScheme } from '@webgrad/kernels';
import { Module } from '../module.js';
import { Linear } from '../layers/linear.js';
import { QuantLinear, dequantizeLinear } from '../layers/quant_linear.js';

/** A quantization setup that does not fit the model, or a quantized file that does not fit it. */
export class QuantizationError extends ValueError {}

/** What `quantize` does: the scheme, its group size and which Linear layers. */
export interface QuantizeConfig {
  /** int8 (per output channel), int4 (groups with zero points) or nf4 (QLoRA's NormalFloat). */
  scheme: QuantScheme;
  /** int4: 32 or 64 (default 64); nf4: a multiple of 8 (default 64, QLoRA's block); int8 ignores it. */
  groupSize?: number;
  /** nf4: quantize the absmax scales to 8 bits in blocks of 256 (default true, as QLoRA). */
  doubleQuant?: boolean;
  /** Module names (equal, or ending in `.name`) or a RegExp matching the whole dotted name; default every Linear. */
  targetModules?: readonly string[] | RegExp;
  /** Names (same matching) never quantized, e.g. ['lmHead']. Linear layers whose weight another module shares are skipped too. */
  skipModules?: readonly string[] | RegExp;
}

function matcher(target: readonly string[] | RegExp): (name: string) => boolean {
  if (target instanceof RegExp) {
    const full = new RegExp(`^(?:${target.source})$`, target.flags.replace(/[gy]/g, ''));
    return (name) => full.test(name);
  }
  return (name) => target.some((t) => name === t || name.endsWith(`.${t}`));
}

function checkNames(op: string, key: string, v: unknown): void {
  if (v === undefined || v instanceof RegExp) return;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && x !== '')) throw new QuantizationError(`${op}: ${key} must be an array of module names or a RegExp, got ${fmtValue(v)}`);
}

/** Validates a QuantizeConfig under `op`'s name. */
export function checkQuantizeConfig(op: string, config: QuantizeConfig): void {
  if (typeof config !== 'object' || config === null) throw new QuantizationError(`${op}: config must be an object, got ${fmtValue(config)}`);
  const known = ['scheme', 'groupSize', 'doubleQuant', 'targetModules', 'skipModules'];
  for (const k of Object.keys(config)) if (!known.includes(k)) throw new QuantizationError(`${op}: unknown config key '${k}' (known: ${known.join(', ')})`);
  if (!QUANT_SCHEMES.includes(config.scheme)) throw new QuantizationError(`${op}: config.scheme must be one of ${QUANT_SCHEMES.join(', ')}, got ${fmtValue(config.scheme)}`);
  const g = config.groupSize;
  if (g !== undefined) {
    if (config.scheme === 'int4' && g !== 32 && g !== 64) throw new QuantizationError(`${op}: config.groupSize must be 32 or 64 for int4, got ${fmtValue(g)}`);
    if (config.scheme === 'nf4' && (!Number.isInteger(g) || g < 8 || g % 8 !== 0)) throw new QuantizationError(`${op}: config.groupSize must be a positive multiple of 8 for nf4, got ${fmtValue(g)}`);
  }
  if (config.doubleQuant !== undefined && typeof config.doubleQuant !== 'boolean') throw new QuantizationError(`${op}: config.doubleQuant must be a boolean, got ${fmtValue(config.doubleQuant)}`);
  if (config.doubleQuant === true && config.scheme !== 'nf4') throw new QuantizationError(`${op}: config.doubleQuant applies to nf4 only, got scheme ${config.scheme}`);
  checkNames(op, 'targetModules', config.targetModules);
  checkNames(op, 'skipModules', config.skipModules);
}

/** The Linear layers `config` selects, by name (weights shared with another module excluded). */
export function quantizationTargets(model: Module, config: QuantizeConfig, op = 'quantize'): [string, Linear][] {
  const target = config.targetModules ? matcher(config.targetModules) : () => true;
  const skip = config.skipModules ? matcher(config.skipModules) : () => false;
  const owners = new Map<unknown, number>();
  for (const [, m] of model.namedModules()) for (const p of m.parameters({ recurse: false })) owners.set(p, (owners.get(p) ?? 0) + 1);
  const out = [...model.namedModules()].filter(([n, m]) => n !== '' && m instanceof Linear && !(m instanceof QuantLinear) && target(n) && !skip(n)
    && (m as Linear).weight !== null && owners.get((m as Linear).weight) === 1) as [string, Linear][];
  if (out.length === 0) {
    const linears = [...model.namedModules()].filter(([, m]) => m instanceof Linear).map(([n]) => n);
    throw new QuantizationError(`${op}: no Linear layer to quantize matches the config (Linear layers: ${linears.slice(0, 20).join(', ') || 'none'})`);
  }
  return out;
}

/**
 * Quantizes the selected Linear layers of `model` in place and returns them by name. The float
 * weights are read (awaited on WebGPU) and disposed.
 */
export async function quantize(model: Module, config: QuantizeConfig): Promise<Map<string, QuantLinear>> {
  if (!(model instanceof Module)) throw new QuantizationError(`quantize: model must be a Module, got ${fmtValue(model)}`);
  checkQuantizeConfig('quantize', config);
  const out = new Map<string, QuantLinear>();
  for (const [n, m] of quantizationTargets(model, config)) {
    out.set(n, await QuantLinear.fromLinear(m, { scheme: config.scheme, groupSize: config.groupSize, doubleQuant: config.doubleQuant }));
  }
  return out;
}

/** QuantLinear layers of `model` with their names. */
export function quantizedLayers(model: Module): [string, QuantLinear][] {
  if (!(model instanceof Module)) throw new QuantizationError(`quantizedLayers: model must be a Module, got ${fmtValue(model)}`);
  return [...model.namedModules()].filter((e): e is [string, QuantLinear] => e[1] instanceof QuantLinear);
}

/** Turns every QuantLinear of `model` back into a float32 Linear (weights = the dequantized codes). */
export async function dequantize(model: Module): Promise<void> {
  for (const [, m] of quantizedLayers(model)) await dequantizeLinear(m);
}
