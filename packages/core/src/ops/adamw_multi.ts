// AdamW over many tensors in one call (as PyTorch's foreach/fused AdamW): every item's parameter
// and moments updated in place, each with its own hyperparameters and step count, with the results
// of `adamwStep_` on each item in turn. A backend's `adamwMulti` kernel does it in as few launches
// as it can (on WebGPU, one dispatch per group of tensors that fits the storage-binding limit);
// without one, the items take `adamwStep_`'s path one by one.
import type { Storage } from '../storage.js';
import type { Tensor } from '../tensor.js';
import { DeviceError, ValueError, fmtShape } from '../errors.js';
import { checkOptions } from '../validate.js';
import { checkStep, kernelGrad, stepChecked, type AdamWStepOptions } from './adamw.js';

/** One tensor of `adamwStepMulti_`: the arguments of `adamwStep_`. */
export interface AdamWStepItem {
  /** The parameter, updated in place (contiguous, floating point). */
  param: Tensor;
  /** Its gradient, of param's shape (cast to param's dtype if it differs). */
  grad: Tensor;
  /** First-moment average, updated in place (param's dtype and shape, contiguous). */
  expAvg: Tensor;
  /** Second-moment average, updated in place (param's dtype and shape, contiguous). */
  expAvgSq: Tensor;
  /** The step's hyperparameters for this tensor (`step` is its own 1-based count). */
  opts: AdamWStepOptions;
}

const OP = 'adamwStepMulti_';
const ITEM_KEYS = ['param', 'grad', 'expAvg', 'expAvgSq', 'opts'];
const WRITTEN = ['param', 'expAvg', 'expAvgSq'] as const;

/**
 * One AdamW step on every item, in place, equal bit for bit to `adamwStep_` on each item in turn.
 * Each item is checked as `adamwStep_` checks its arguments (errors name the item's index); all
 * items are on one device, and no item's param, expAvg or expAvgSq shares memory with another
 * item's tensors. Bumps the version of each tensor it writes.
 */
export function adamwStepMulti_(items: readonly AdamWStepItem[]): void {
  if (!Array.isArray(items)) throw new ValueError(`${OP}: items must be an array of { ${ITEM_KEYS.join(', ')} }, got ${typeof items}`);
  const opts = items.map((raw, i) => {
    if (raw === undefined) throw new ValueError(`${OP}: items[${i}] is undefined; expected { ${ITEM_KEYS.join(', ')} }`);
    const it = checkOptions(`${OP}: items[${i}]`, raw, ITEM_KEYS, 'the item');
    return checkStep(`${OP}: items[${i}]`, it.param, it.grad, it.expAvg, it.expAvgSq, it.opts);
  });
  const first = items[0];
  if (first === undefined) return;
  const device = first.param.device;
  items.forEach((it, i) => {
    if (it.param.device !== device) throw new DeviceError(`${OP}: items[${i}] is on ${it.param.device}, items[0] on ${device}; every item must be on one device`);
  });
  checkDisjoint(items);
  const kernels = first.param.backend.kernels;
  const checked = items.map((it, i) => ({ it, o: opts[i] as ReturnType<typeof checkStep> }));
  if (!kernels.adamwMulti) {
    for (const { it, o } of checked) stepChecked(it.param, it.grad, it.expAvg, it.expAvgSq, o);
    return;
  }
  const withGrads = checked.map(({ it, o }) => ({ it, o, grad: kernelGrad(it.param, it.grad) }));
  try {
    kernels.adamwMulti(withGrads.map(({ it, o, grad }) => ({
      param: it.param.kernelView(), grad: grad.kernelView(), m: it.expAvg.kernelView(), v: it.expAvgSq.kernelView(), opts: o,
    })));
  } finally {
    for (const { it, grad } of withGrads) if (grad !== it.grad) grad.dispose();
  }
  for (const it of items) for (const k of WRITTEN) it[k].storage.version++;
}

/** The elements [lo, hi) of its storage a tensor can touch; null when it is empty. */
function span(t: Tensor): [number, number] | null {
  let lo = t.offset, hi = t.offset + 1;
  for (let d = 0; d < t.shape.length; d++) {
    const n = t.shape[d] ?? 0;
    if (n === 0) return null;
    const reach = (n - 1) * (t.strides[d] ?? 0);
    if (reach < 0) lo += reach; else hi += reach;
  }
  return [lo, hi];
}

/** A ValueError if one item's written tensor overlaps another item's tensor (their order would then matter). */
function checkDisjoint(items: readonly AdamWStepItem[]): void {
  interface Span { item: number; name: string; lo: number; hi: number; written: boolean }
  const byStorage = new Map<Storage, Span[]>();
  items.forEach((it, i) => {
    for (const name of ['param', 'grad', 'expAvg', 'expAvgSq'] as const) {
      const s = span(it[name]);
      if (!s) continue;
      const list = byStorage.get(it[name].storage) ?? [];
      list.push({ item: i, name, lo: s[0], hi: s[1], written: name !== 'grad' });
      byStorage.set(it[name].storage, list);
    }
  });
  for (const list of byStorage.values()) {
    if (list.length < 2) continue;
    list.sort((a, b) => a.lo - b.lo);
    // Sweep in order of start: each span against the earlier ones still open.
    const open: Span[] = [];
    for (const s of list) {
      for (let k = open.length - 1; k >= 0; k--) if ((open[k]?.hi ?? 0) <= s.lo) open.splice(k, 1);
      for (const o of open) {
        if (o.item !== s.item && (o.written || s.written)) {
          const [a, b] = o.item < s.item ? [o, s] : [s, o];
          const t = (x: Span): Tensor => (items[x.item] as AdamWStepItem)[x.name as 'param' | 'grad' | 'expAvg' | 'expAvgSq'];
          throw new ValueError(`${OP}: items[${a.item}].${a.name} (shape ${fmtShape(t(a).shape)}) and items[${b.item}].${b.name} (shape ${fmtShape(t(b).shape)}) share memory; ` +
            'each item\'s param, expAvg and expAvgSq must be apart from every other item\'s tensors');
        }
      }
      open.push(s);
    }
  }
}
