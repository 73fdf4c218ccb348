// Pruning masks as module buffers. A pruned parameter `weight` stays the module's parameter (its
// pruned entries hold exact zeros) and gains a buffer `weight_mask` of the same shape and dtype
// (1 = kept, 0 = pruned), so the layer's forward is unchanged and costs nothing extra, and the mask
// is saved in state dicts, safetensors files and checkpoints under `<module>.weight_mask`, the
// name torch.nn.utils.prune uses. Unlike PyTorch, which keeps the dense `weight_orig` and
// recomputes `weight = weight_orig * weight_mask` before every forward, the stored weight is the
// effective one; what keeps it sparse during training is `attachMasks` (gradients masked before
// and weights re-masked after every optimizer step).
//
// The naming convention is the registry: a parameter `p` of a module is pruned when the module has
// a non-null buffer `p_mask`. So a model restored from a state dict (see loadPrunedStateDict) or
// a checkpoint is pruned again without any side table.
import {
  checkOptions, checkTensor, fmtShape, fmtValue, noGrad, ones, shapesEqual, tensor, tidy, ValueError, type Tensor, type TypedArray,
} from '@webgrad/core';
import { Module, loadModule, readSafetensorsFile, type LoadStateDictOptions, type LoadStateDictResult } from '@webgrad/nn';

/** A pruning request that does not fit the module: an unknown parameter, a mask of the wrong shape, a pattern that cannot be met. */
export class PruningError extends ValueError {}

/** The buffer name of a parameter's mask (`weight` → `weight_mask`). */
export const maskName = (name: string): string => `${name}_mask`;

/** `m` must be a Module. */
export function checkModule(op: string, arg: string, m: unknown): Module {
  if (!(m instanceof Module)) throw new PruningError(`${op}: ${arg} must be a Module, got ${fmtValue(m)}`);
  return m;
}

/** The floating-point parameter `name` of `module` itself (not of a child). */
export function checkParam(op: string, module: Module, name: unknown, arg = 'name'): Tensor {
  if (typeof name !== 'string' || name === '') throw new PruningError(`${op}: ${arg} must be a parameter name, got ${fmtValue(name)}`);
  const p = module.getParameter(name);
  if (!p) {
    const own = [...module.namedParameters({ recurse: false })].map(([n]) => `'${n}'`);
    throw new PruningError(`${op}: ${arg} '${name}' is not a parameter of ${module.constructor.name} (its parameters: ${own.join(', ') || 'none'})`);
  }
  if (p.dtype !== 'float32' && p.dtype !== 'float64') throw new PruningError(`${op}: ${arg} '${name}' is a ${p.dtype} parameter; only float32 and float64 parameters can be pruned`);
  return p;
}

/** A list of [module, parameter name] pairs, each checked. */
export function checkPairs(op: string, arg: string, pairs: unknown): [Module, string, Tensor][] {
  if (!Array.isArray(pairs) || pairs.length === 0) throw new PruningError(`${op}: ${arg} must be a non-empty array of [module, parameterName] pairs, got ${fmtValue(pairs)}`);
  const seen = new Set<Tensor>();
  return pairs.map((pair, i) => {
    if (!Array.isArray(pair) || pair.length !== 2) throw new PruningError(`${op}: ${arg}[${i}] must be a [module, parameterName] pair, got ${fmtValue(pair)}`);
    const m = checkModule(op, `${arg}[${i}][0]`, pair[0]);
    const p = checkParam(op, m, pair[1], `${arg}[${i}][1]`);
    if (seen.has(p)) throw new PruningError(`${op}: ${arg}[${i}] names a parameter that is already in the list ('${pair[1] as string}')`);
    seen.add(p);
    return [m, pair[1] as string, p];
  });
}

/** The mask of `module[name]`, or null when that parameter is not pruned. */
export function getMask(module: Module, name: string): Tensor | null {
  return module.getBuffer(maskName(name)) ?? null;
}

/** Whether `module[name]` has a mask. */
export function isPruned(module: Module, name: string): boolean {
  checkModule('isPruned', 'module', module);
  if (typeof name !== 'string') throw new PruningError(`isPruned: name must be a parameter name, got ${fmtValue(name)}`);
  return getMask(module, name) !== null;
}

/** The current mask of `module[name]` read to the host (all ones when it has none). */
export async function readMask(module: Module, name: string, p: Tensor): Promise<TypedArray> {
  const m = getMask(module, name);
  if (m) return m.data();
  return (p.dtype === 'float64' ? new Float64Array(p.size) : new Float32Array(p.size)).fill(1);
}

/** Install `values` (0/1, the parameter's size) as the mask of `module[name]` and zero the pruned
 *  entries. An existing mask buffer is overwritten in place, so references to it stay valid. */
export function setMask(module: Module, name: string, p: Tensor, values: TypedArray): void {
  noGrad(() => {
    const fresh = tensor(values, { dtype: p.dtype, shape: [...p.shape], device: p.device });
    const old = getMask(module, name);
    let mask = fresh;
    if (old) { old.copy_(fresh); fresh.dispose(); mask = old; } else module.registerBuffer(maskName(name), fresh);
    p.mul_(mask);
  });
}

/** Prune `module[name]` with a given mask (torch's `custom_from_mask`): combined by product with an existing mask. */
export function customFromMask(module: Module, name: string, mask: Tensor): Module {
  const op = 'customFromMask';
  checkModule(op, 'module', module);
  const p = checkParam(op, module, name);
  checkTensor(op, 'mask', mask);
  if (!shapesEqual(mask.shape, p.shape)) throw new PruningError(`${op}: mask has shape ${fmtShape(mask.shape)}, parameter '${name}' has ${fmtShape(p.shape)}`);
  noGrad(() => {
    const m = tidy(() => mask.to(p.device).ne(0).to(p.dtype));
    const old = getMask(module, name);
    if (old) { old.mul_(m); m.dispose(); } else module.registerBuffer(maskName(name), m);
    p.mul_(getMask(module, name)!);
  });
  return module;
}

/** Register an all-ones mask on `module[name]` when it has none (pruned, nothing removed yet). */
export function ensureMask(module: Module, name: string, p: Tensor): Tensor {
  const old = getMask(module, name);
  if (old) return old;
  return module.registerBuffer(maskName(name), ones([...p.shape], { dtype: p.dtype, device: p.device }));
}

/** Make the pruning of `module[name]` permanent (torch's `prune.remove`): the zeros stay in the
 *  weight, the mask buffer goes away, and optimizers may change those entries again. */
export function removePruning(module: Module, name: string): Module {
  const op = 'removePruning';
  checkModule(op, 'module', module);
  const p = checkParam(op, module, name);
  const mask = getMask(module, name);
  if (!mask) throw new PruningError(`${op}: parameter '${name}' of ${module.constructor.name} is not pruned (no '${maskName(name)}' buffer)`);
  noGrad(() => p.mul_(mask));
  module.registerBuffer(maskName(name), null);
  mask.dispose();
  return module;
}

/** A pruned parameter of a module tree. */
export interface PrunedParameter {
  /** Dotted name of the parameter (`conv1.weight`). */
  name: string;
  /** The module that holds it. */
  module: Module;
  /** The parameter's own name in its module (`weight`). */
  paramName: string;
  /** The parameter itself (its pruned entries are 0). */
  param: Tensor;
  /** Its `<paramName>_mask` buffer: 1 = kept, 0 = pruned. */
  mask: Tensor;
}

/** Every pruned parameter of `model` (depth-first, registration order). */
export function prunedParameters(model: Module): PrunedParameter[] {
  checkModule('prunedParameters', 'model', model);
  const out: PrunedParameter[] = [];
  for (const [mn, m] of model.namedModules()) {
    for (const [pn, p] of m.namedParameters({ recurse: false })) {
      const mask = getMask(m, pn);
      if (mask) out.push({ name: mn ? `${mn}.${pn}` : pn, module: m, paramName: pn, param: p, mask });
    }
  }
  return out;
}

/** Give every parameter named by a `<p>_mask` key an (all-ones) mask, so a strict load accepts the key. */
function registerMasksFor(model: Module, keys: Iterable<string>): void {
  const modules = new Map(model.namedModules());
  for (const key of keys) {
    if (!key.endsWith('_mask')) continue;
    const dot = key.lastIndexOf('.');
    const m = modules.get(dot < 0 ? '' : key.slice(0, dot));
    const pn = key.slice(dot + 1, -'_mask'.length);
    const p = m?.getParameter(pn);
    if (m && p && !getMask(m, pn)) ensureMask(m, pn, p);
  }
}

/** Multiply every pruned parameter of `model` by its mask. */
function remask(model: Module): void {
  noGrad(() => { for (const { param, mask } of prunedParameters(model)) param.mul_(mask); });
}

/**
 * Load a state dict saved from a pruned model into `model`, pruned or not: every `<p>_mask` entry
 * whose parameter `<p>` exists gets a mask buffer first (so a strict load accepts it), then the
 * values load as `Module.loadStateDict` loads them and each weight is re-masked.
 */
export function loadPrunedStateDict(model: Module, sd: Readonly<Record<string, Tensor>>, opts: LoadStateDictOptions = {}): LoadStateDictResult {
  const op = 'loadPrunedStateDict';
  checkModule(op, 'model', model);
  if (typeof sd !== 'object' || sd === null || Array.isArray(sd)) throw new PruningError(`${op}: the state dict must be an object of name → Tensor, got ${fmtValue(sd)}`);
  checkOptions(op, opts, ['strict']);
  registerMasksFor(model, Object.keys(sd));
  const result = model.loadStateDict(sd, opts);
  remask(model);
  return result;
}

/** `loadModule` for a safetensors file saved from a pruned model (Node): masks are registered for
 *  its `<p>_mask` tensors first, as `loadPrunedStateDict` does. Returns the model. */
export async function loadPrunedModule<M extends Module>(model: M, path: string, opts: LoadStateDictOptions = {}): Promise<M> {
  const op = 'loadPrunedModule';
  checkModule(op, 'model', model);
  if (typeof path !== 'string' || path === '') throw new PruningError(`${op}: path must be a non-empty string, got ${fmtValue(path)}`);
  checkOptions(op, opts, ['strict']);
  const { names } = await readSafetensorsFile(path);
  registerMasksFor(model, names);
  await loadModule(model, path, opts);
  remask(model);
  return model;
}
