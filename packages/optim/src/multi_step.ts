// The multi-tensor AdamW step of AdamW and Adam: core's `adamwStepMulti_` once per device among the
// step's parameters (once in all, unless an optimizer holds parameters on several devices).
import { adamwStepMulti_, type AdamWStepItem } from '@webgrad/core';

/** `adamwStepMulti_` on the items, one call per device, in order of each device's first item. */
export function adamwStepPerDevice(items: readonly AdamWStepItem[]): void {
  const byDevice = new Map<string, AdamWStepItem[]>();
  for (const it of items) {
    const list = byDevice.get(it.param.device);
    if (list) list.push(it); else byDevice.set(it.param.device, [it]);
  }
  for (const list of byDevice.values()) adamwStepMulti_(list);
}
