// The one rule by which the fast cpu tier falls back to the reference kernels (cpu/).
//
// Each family function of the tier has the signature of its `KernelSet` kernel but returns a
// boolean: true when it computed the call (WebAssembly or TypeScript loops), false when the call is
// outside its scope (a dtype, layout or size it does not handle) — and then it has written
// nothing. `withReference` turns such functions into kernels that run the reference on false.
// Nothing else in the tier calls `cpuKernels`. `referenceCalls` counts the fallbacks per kernel, so
// tests (and profiles) can tell that a fast path took a call.

import { cpuKernels } from '../cpu/index.js';
import type { KernelSet, TypedArray } from '../types.js';

type Kernels = KernelSet<TypedArray>;

/** A fast path for kernel K: K's arguments, and whether it handled the call. */
export type FastKernel<K extends keyof Kernels> = (...args: Parameters<Kernels[K]>) => boolean;
export type FastKernels = { [K in keyof Kernels]?: FastKernel<K> };

const counts: Partial<Record<keyof Kernels, number>> = {};

/** How many calls of each kernel have fallen back to the reference so far (kernels never counted are absent). */
export function referenceCalls(): Readonly<Partial<Record<keyof Kernels, number>>> {
  return { ...counts };
}

/** Kernels that run each fast path and, where it declines the call, the reference kernel of the same name. */
export function withReference<F extends FastKernels>(fast: F): Pick<Kernels, keyof F & keyof Kernels> {
  const out: Partial<Record<keyof Kernels, unknown>> = {};
  for (const name of Object.keys(fast) as (keyof F & keyof Kernels)[]) {
    const f = fast[name] as unknown as (...args: unknown[]) => boolean;
    const ref = cpuKernels[name] as unknown as (...args: unknown[]) => void;
    out[name] = (...args: unknown[]): void => {
      if (!f(...args)) {
        counts[name] = (counts[name] ?? 0) + 1;
        ref(...args);
      }
    };
  }
  return out as Pick<Kernels, keyof F & keyof Kernels>;
}
