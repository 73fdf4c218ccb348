// Whether ops record graph nodes.
import { checkFunction } from '../validate.js';

let enabled = true;

/** Whether ops record the graph now: false inside `noGrad` (torch.is_grad_enabled). */
export function isGradEnabled(): boolean {
  return enabled;
}

export function setGradEnabled(on: boolean): void {
  enabled = on;
}

/** Run `fn` without recording a graph (like `torch.no_grad()`). Works with async functions too:
 *  recording is off until the returned promise settles. */
export function noGrad<T>(fn: () => T): T {
  checkFunction('noGrad', 'fn', fn);
  const prev = enabled;
  enabled = false;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    enabled = prev;
    throw e;
  }
  if (result instanceof Promise) {
    return result.finally(() => { enabled = prev; }) as T;
  }
  enabled = prev;
  return result;
}

/** Run `fn` with recording on, even inside `noGrad`. */
export function enableGrad<T>(fn: () => T): T {
  checkFunction('enableGrad', 'fn', fn);
  const prev = enabled;
  enabled = true;
  try { return fn(); } finally { enabled = prev; }
}
