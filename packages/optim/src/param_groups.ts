// paramGroupsWithDecay: the usual split of a model's parameters into a weight-decayed group
// (matrices: linear and embedding weights) and an undecayed one (biases and norm gains, ndim < 2),
// as nanoGPT and most transformer recipes do. Frozen parameters (requiresGrad false) are left out.
import { ValueError, checkBool, checkFunction, checkOptions, checkRange, fmtValue, type Tensor } from '@webgrad/core';
import type { ParamGroupInput } from './optimizer.js';

/** Named parameters as `model.namedParameters()` yields them, or as an object or Map of name → tensor. */
export type NamedParams = Iterable<readonly [string, Tensor]> | Record<string, Tensor> | Map<string, Tensor>;

/** Options of `paramGroupsWithDecay`. */
export interface DecayGroupOptions {
  /** Decide per parameter instead of by `ndim < 2` (true = no decay). */
  noDecay?: (name: string, p: Tensor) => boolean;
  /** Keep parameters that do not require grad (default false). */
  includeFrozen?: boolean;
}

function entries(named: NamedParams): [string, Tensor][] {
  if (named instanceof Map) return [...named.entries()];
  if (Symbol.iterator in (named as object)) return [...(named as Iterable<readonly [string, Tensor]>)].map(([k, v]) => [k, v]);
  return Object.entries(named as Record<string, Tensor>);
}

/** Two groups: `{params: decayed, weightDecay}` and `{params: rest, weightDecay: 0}` (empty groups dropped). */
export function paramGroupsWithDecay(named: NamedParams, weightDecay: number, opts: DecayGroupOptions = {}): ParamGroupInput[] {
  const op = 'paramGroupsWithDecay';
  if (typeof named !== 'object' || named === null) throw new ValueError(`${op}: named must be the named parameters (e.g. model.namedParameters()), got ${fmtValue(named)}`);
  checkRange(op, 'weightDecay', weightDecay, 0, Infinity);
  checkOptions(op, opts, ['noDecay', 'includeFrozen']);
  if (opts.noDecay !== undefined) checkFunction(op, 'noDecay', opts.noDecay);
  if (opts.includeFrozen !== undefined) checkBool(op, 'includeFrozen', opts.includeFrozen);
  const skip = opts.noDecay ?? ((_n: string, p: Tensor) => p.ndim < 2);
  const decay: Tensor[] = [];
  const noDecay: Tensor[] = [];
  const seen = new Set<Tensor>();
  for (const [name, p] of entries(named)) {
    if (seen.has(p)) continue; // tied weights appear once
    seen.add(p);
    if (!p.requiresGrad && !opts.includeFrozen) continue;
    (skip(name, p) ? noDecay : decay).push(p);
  }
  const groups: ParamGroupInput[] = [];
  if (decay.length) groups.push({ params: decay, weightDecay });
  if (noDecay.length) groups.push({ params: noDecay, weightDecay: 0 });
  return groups;
}
