// The compiled mode's error: a step that cannot be traced and replayed, under `fullgraph: true`
// (otherwise the same cause is a one-time warning and the step runs eagerly).
import { WebgradError } from '../errors.js';

/** A function given to `compile` cannot be traced and replayed (with `fullgraph: true`), or is not a synchronous function. */
export class CompileError extends WebgradError {}
