// Activation checkpointing (Chen et al. 2016, "Training Deep Nets with Sublinear Memory Cost"), like
// torch.utils.checkpoint with use_reentrant=False: `checkpoint(fn, ...args)` runs `fn` without
// recording a graph and keeps only what it read from outside, then in backward runs `fn` again with
// gradients on and backpropagates through that recomputation. Memory held between forward and
// backward drops from every activation inside `fn` to its inputs; the price is a second forward.
//
// How the recorded node reaches everything `fn` reads:
// - The forward runs under `noGrad` with an input hook on every op (`swapInputHook`, define.ts).
//   Inside `fn` nothing new requires grad, so any op input that does came from outside: an explicit
//   argument, or a tensor the closure captured (a module's parameters, an earlier activation).
// - One graph node is recorded with all of them as inputs (explicit tensor arguments first, then the
//   captured tensors in the order `fn` first read them), so gradients reach closure parameters too.
// - Backward recomputes `fn` with the hook substituting each captured tensor by a fresh graph
//   position of its own (a detached leaf; under `createGraph`, an identity node on the saved input,
//   so the result can be differentiated again), and returns the gradients of those positions.
// - The RNG state at the forward is restored for the recomputation (dropout draws the same mask)
//   and the generator is put back afterwards, so backward does not shift later random draws; the
//   forward's autocast state is restored too (backward otherwise runs with autocast off).
// Tensors the closure reads that do not require grad (masks, rotary tables) are not kept: they
// must stay alive until backward, as for torch.utils.checkpoint.
import { autocastDType, withAutocast, type AutocastDType } from '../autocast.js';
import { AutogradError, ValueError } from '../errors.js';
import { tidy } from '../memory.js';
import { apply, swapInputHook, type InputHook, type OpDef, type OpInputs } from '../ops/define.js';
import { getRngState, setRngState } from '../ops/creation.js';
import { checkFunction, fmtValue } from '../validate.js';
import type { Tensor } from '../tensor.js';
import { isGradEnabled, setGradEnabled } from './grad_mode.js';
import { backwardThroughDecomposition } from './decomposition_backward.js';

/** What the checkpoint node needs to run `fn` again. */
interface Replay {
  fn: (...args: any[]) => Tensor;
  args: unknown[];
  /** For each node input: the tensor `fn` read (an explicit argument or a captured tensor). */
  reads: Tensor[];
  /** Positions in `args` of the explicit tensor arguments (node inputs 0 … n−1). */
  argSlots: number[];
  rng: { seed: number; offset: number };
  autocast: AutocastDType | null;
}

const isTensor = (v: unknown): v is Tensor => typeof v === 'object' && v !== null && (v as { __isTensor?: boolean }).__isTensor === true;

/** Run `body` with every op input that is a key of `map` replaced by its value there (after any enclosing hook). */
function withSubstitution<T>(map: Map<Tensor, Tensor>, body: () => T): T {
  const outer = swapInputHook(null);
  const hook: InputHook = (inputs) => {
    const ins = outer ? outer(inputs) : inputs;
    let out: (Tensor | null)[] | null = null;
    for (let i = 0; i < inputs.length; i++) {
      const sub = inputs[i] === null ? undefined : map.get(inputs[i] as Tensor);
      if (sub !== undefined) (out ??= [...ins])[i] = sub;
    }
    return out ?? ins;
  };
  swapInputHook(hook);
  try { return body(); } finally { swapInputHook(outer); }
}

/** The node's attributes: the output computed before the node was recorded (handed over once), and the replay. */
interface Attrs { result: { out: Tensor | null }; replay: Replay }

const CHECKPOINT: OpDef<readonly Tensor[], Attrs, Record<string, Tensor>> = {
  name: 'checkpoint',
  forward: (inputs, { result }, save) => {
    inputs.forEach((x, i) => save(String(i), x));
    const out = result.out as Tensor;
    result.out = null;
    return out;
  },
  backward: (g, { saved, needs, attrs: { replay } }) => {
    const kept = replay.reads.map((_, i) => saved[String(i)]);
    if (!needs.some(Boolean)) return kept.map(() => null);
    return backwardThroughDecomposition(g, kept, needs, (...points) => {
      // points[i] stands for node input i: a fresh graph position over the saved tensor, or the
      // saved tensor itself where no gradient is wanted.
      const map = new Map<Tensor, Tensor>();
      replay.reads.forEach((r, i) => map.set(r, points[i] as Tensor));
      const args = [...replay.args];
      replay.argSlots.forEach((slot, i) => { args[slot] = points[i]; });
      const rngNow = getRngState();
      setRngState(replay.rng);
      try {
        const y = withAutocast(replay.autocast, () => withSubstitution(map, () => replay.fn(...args)));
        if (!isTensor(y)) throw new AutogradError(`checkpoint: the recomputed function returned ${fmtValue(y)} instead of a tensor`);
        return y;
      } finally {
        setRngState(rngNow);
      }
    });
  },
};

/**
 * Run `fn(...args)` as one checkpointed step: its intermediate activations are not kept for
 * backward but recomputed from its inputs when backward reaches it (torch.utils.checkpoint,
 * non-reentrant). `fn` must return one tensor; `args` may mix tensors (some requiring grad, some
 * not) and other values, and `fn` may read parameters from its closure: they get gradients as
 * usual. Random ops inside `fn` draw the same numbers in the recomputation. Outside grad mode
 * (or when nothing `fn` reads requires grad) it is simply `fn(...args)`. Higher-order gradients
 * (`createGraph`) pass through the recomputation. Checkpoints may nest.
 */
export function checkpoint<A extends unknown[]>(fn: (...args: A) => Tensor, ...args: A): Tensor {
  checkFunction('checkpoint', 'fn', fn);
  if (!isGradEnabled()) return checked(fn(...args));
  const argSlots: number[] = [];
  const reads: Tensor[] = [];
  args.forEach((a, i) => { if (isTensor(a)) { argSlots.push(i); reads.push(a); } });
  // The tensors fn reads that require grad, keyed by what fn passed to the op; the value is what the
  // op received (an enclosing checkpoint's recomputation may have substituted it).
  const captured = new Map<Tensor, Tensor>();
  const explicit = new Set(reads);
  const outer = swapInputHook(null);
  const collect: InputHook = (inputs) => {
    const ins = outer ? outer(inputs) : inputs;
    for (let i = 0; i < ins.length; i++) {
      const t = ins[i];
      const raw = inputs[i] as Tensor;
      if (t !== null && t.requiresGrad && !explicit.has(raw) && !captured.has(raw)) captured.set(raw, t);
    }
    return ins;
  };
  const rng = getRngState();
  const out = tidy(() => {
    swapInputHook(collect);
    setGradEnabled(false);
    try { return checked(fn(...args)); } finally { setGradEnabled(true); swapInputHook(outer); }
  });
  const inputs: Tensor[] = [...reads, ...captured.values()];
  for (const raw of captured.keys()) reads.push(raw);
  // An output that is one of the tensors read (fn returned its input) gets a tensor object of its own.
  const own = out.requiresGrad || inputs.includes(out) || reads.includes(out) ? out.alias() : out;
  return apply(CHECKPOINT, inputs as OpInputs as readonly Tensor[], { result: { out: own }, replay: { fn: fn as Replay['fn'], args, reads, argSlots, rng, autocast: autocastDType() } });
}

function checked(y: unknown): Tensor {
  if (!isTensor(y)) throw new ValueError(`checkpoint: fn must return a tensor, got ${fmtValue(y)}`);
  return y;
}
