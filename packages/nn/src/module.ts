// Module: the base class of every layer and model. It owns parameters (trainable leaf tensors),
// buffers (state that is not trained, e.g. running statistics) and child modules, and provides the
// PyTorch-style tree API: namedParameters, stateDict/loadStateDict, train/eval, to(device), freezing.
//
// Registration is explicit or by assignment. In a constructor:
//
//   this.registerParameter('weight', randn([out, inn]));   // kept, requiresGrad = true
//   this.registerBuffer('runningMean', zeros([c]));        // kept, no gradient
//   this.registerModule('attn', new CausalSelfAttention(cfg));
//
// or, the PyTorch way, `this.fc = new Linear(4, 8)`, `this.scale = parameter(ones([8]))`,
// `this.blocks = [new Block(), new Block()]`: a field holding a Module, a parameter (a tensor made
// by `parameter()`, or any leaf that requires grad) or an array / plain object of them registers
// itself under the field's name before the module tree is next walked (parameters(), stateDict(),
// train(), to(), ...), so it is trained, saved and moved like the rest. An array or object mixing
// modules or parameters with other values is refused, never half-registered. Buffers are never
// inferred: use registerBuffer.
//
// Each registration also defines an accessor property of the same name on the instance, so
// `this.weight` reads the registered tensor and `this.weight = t` replaces it (declare the field
// with `declare weight: Tensor` for typing; a subclass must not redeclare an inherited registered
// name as a plain field, which would shadow the accessor). A name that collides with a method or
// getter of the class (e.g. a ModuleDict key 'keys') gets no accessor: use getParameter/getModule. Parameters and buffers may be
// null (e.g. a Linear without bias); null entries are skipped everywhere.
//
// Names: the fully qualified name of a tensor is the dotted path of registration names from the
// root, exactly as in PyTorch: `h.0.attn.cAttn.weight` (ModuleList children are named '0', '1', ...).
// Registration names are the library's camelCase field names (cAttn, lnF, runningMean).
//
// A tensor registered under two names (tied weights) is one parameter: parameters() yields it once
// (under its first name), while stateDict() lists every name, as PyTorch does.
import {
  Tensor, WebgradError, ValueError, checkBool, checkEnum, checkOptions, fmtShape, fmtValue, isFloat, keep, noGrad, detach, type DeviceName,
} from '@webgrad/core';
import { DEVICE_NAMES } from './args.js';

/** Load/state-dict problems: missing or unexpected keys, or a shape that does not match. */
export class StateDictError extends WebgradError {
  /**
   * @param message The error message.
   * @param kind Which problem: 'missing', 'unexpected', 'shape', 'dtype', or 'mixed' (several).
   * @param missingKeys Names of the module's tensors the state dict lacks.
   * @param unexpectedKeys Names in the state dict the module does not have.
   * @param mismatched Tensors whose shapes differ: the module's (`expected`) and the state dict's (`got`).
   */
  constructor(
    message: string,
    readonly kind: 'missing' | 'unexpected' | 'shape' | 'dtype' | 'mixed',
    readonly missingKeys: readonly string[] = [],
    readonly unexpectedKeys: readonly string[] = [],
    readonly mismatched: readonly {
      /** The tensor's name. */
      key: string;
      /** The module's shape. */
      expected: readonly number[];
      /** The state dict's shape. */
      got: readonly number[];
    }[] = [],
  ) {
    super(message);
  }
}

/** Dotted parameter/buffer name (`blocks.0.attn.cAttn.weight`) → tensor, as `Module.stateDict()` returns it. */
export type StateDict = Record<string, Tensor>;

/** Options of `Module.loadStateDict` and `Module.load`. */
export interface LoadStateDictOptions {
  /** Require the keys to match exactly (default true). Shape mismatches are errors either way. */
  strict?: boolean;
}

/** What `loadStateDict` left unmatched (both empty under `strict`, which throws instead). */
export interface LoadStateDictResult {
  /** Names of this module's tensors that the state dict did not have (left unchanged). */
  missingKeys: string[];
  /** Names in the state dict that this module does not have (ignored). */
  unexpectedKeys: string[];
}

const PARAMETERS = new WeakSet<Tensor>();

/** Make `t` a parameter: owned (never swept by a scope), a leaf, and requiring grad. Returns it
 *  (a non-leaf tensor is replaced by a detached leaf sharing its storage). Assigned to a module's
 *  field, it registers itself as that module's parameter (like torch.nn.Parameter). */
export function parameter(t: Tensor, requiresGrad = true): Tensor {
  const p = t.isLeaf ? t : detach(t);
  keep(p);
  p.requiresGrad = requiresGrad && (p.dtype === 'float32' || p.dtype === 'float64');
  PARAMETERS.add(p);
  return p;
}

/** Whether `t` was made by `parameter()` (or registered as a module's parameter). */
export const isParameter = (t: unknown): boolean => t instanceof Tensor && PARAMETERS.has(t);

/** A tensor field that registers itself as a parameter: made by parameter(), or a trainable leaf. */
const adoptsAsParameter = (v: unknown): v is Tensor => v instanceof Tensor && !v.isDisposed && (PARAMETERS.has(v) || (v.isLeaf && v.requiresGrad));

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

const IDENT = /^[A-Za-z_$][\w$]*$/;

/**
 * The base class of layers and models. Subclasses register their tensors and children in the
 * constructor (or assign them to fields) and implement `forward`. `In`/`Out` type a module held by
 * its base type: `const layer: Module<[Tensor], Tensor> = new Linear(4, 8)`; `layer.call(x)` is a
 * Tensor.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export abstract class Module<In extends unknown[] = any[], Out = any> {
  #params = new Map<string, Tensor | null>();
  #buffers = new Map<string, Tensor | null>();
  #nonPersistent = new Set<string>();
  #modules = new Map<string, Module | null>();
  /** Array/object fields registered through a FieldContainer: the elements they held then. */
  #adopted = new Map<string, unknown[]>();
  #training = true;

  /** The computation. Subclasses narrow the signature (e.g. `forward(x: Tensor): Tensor`). */
  abstract forward(...args: In): Out;

  /** Same as `forward` (PyTorch's `module(x)`). */
  call<M extends Module>(this: M, ...args: Parameters<M['forward']>): ReturnType<M['forward']> {
    return this.forward(...args);
  }

  /** True in training mode (the default), false after `eval()`; dropout and batch norm read it. */
  get training(): boolean { return this.#training; }

  // ---- registration --------------------------------------------------------------------------

  #checkName(kind: string, name: string): void {
    if (typeof name !== 'string' || name === '' || name.includes('.')) {
      throw new ValueError(`${this.constructor.name}.${kind}: name must be a non-empty string without '.', got '${name}'`);
    }
    const taken = (this.#params.has(name) ? 'parameter' : this.#buffers.has(name) ? 'buffer' : this.#modules.has(name) ? 'module' : null);
    const want = kind === 'registerParameter' ? 'parameter' : kind === 'registerBuffer' ? 'buffer' : 'module';
    if (taken && taken !== want) throw new ValueError(`${this.constructor.name}.${kind}: '${name}' is already registered as a ${taken}`);
  }

  /** An options bag of `method` whose only key `key` is a boolean. */
  #checkBoolOption(method: string, opts: object, key: string): void {
    const op = `${this.constructor.name}.${method}`;
    checkOptions(op, opts, [key]);
    const v = (opts as Record<string, unknown>)[key];
    if (v !== undefined) checkBool(op, key, v);
  }

  #defineAccessor(name: string, get: () => unknown, set: (v: never) => void): void {
    if (!IDENT.test(name)) return;
    const own = Object.getOwnPropertyDescriptor(this, name);
    if (own && own.get) return;
    if (!own && name in this) return; // never shadow a method or a getter of the class
    Object.defineProperty(this, name, { get, set, enumerable: true, configurable: true });
  }

  /** Register (or replace) a parameter. The tensor is kept and made a leaf requiring grad
   *  (pass `{requiresGrad: false}` to register it frozen). Returns the registered tensor. */
  registerParameter<T extends Tensor | null>(name: string, t: T, opts: { requiresGrad?: boolean } = {}): T {
    this.#checkName('registerParameter', name);
    this.#checkBoolOption('registerParameter', opts, 'requiresGrad');
    if (t !== null && !(t instanceof Tensor)) throw new ValueError(`${this.constructor.name}.registerParameter('${name}'): not a Tensor (or null), got ${fmtValue(t)}`);
    const p = t === null ? null : parameter(t, opts.requiresGrad ?? true);
    if (p && !p.name) p.name = name;
    this.#params.set(name, p);
    this.#defineAccessor(name, () => this.#params.get(name), (v: Tensor | null) => {
      if (v !== null && !(v instanceof Tensor)) throw new ValueError(`${this.constructor.name}.${name}: a parameter can only be set to a Tensor or null`);
      this.#params.set(name, v === null ? null : parameter(v, true));
    });
    return p as T;
  }

  /** Register (or replace) a buffer: kept, never requires grad. Non-persistent buffers are left out
   *  of stateDict (e.g. a cached causal mask or rotary table). Returns it. */
  registerBuffer<T extends Tensor | null>(name: string, t: T, opts: { persistent?: boolean } = {}): T {
    this.#checkName('registerBuffer', name);
    this.#checkBoolOption('registerBuffer', opts, 'persistent');
    if (t !== null && !(t instanceof Tensor)) throw new ValueError(`${this.constructor.name}.registerBuffer('${name}'): not a Tensor (or null), got ${fmtValue(t)}`);
    if (t) keep(t);
    this.#buffers.set(name, t);
    if (opts.persistent === false) this.#nonPersistent.add(name); else this.#nonPersistent.delete(name);
    this.#defineAccessor(name, () => this.#buffers.get(name), (v: Tensor | null) => {
      if (v) keep(v);
      this.#buffers.set(name, v);
    });
    return t;
  }

  /** Register (or replace) a child module. Returns it. */
  registerModule<M extends Module | null>(name: string, m: M): M {
    this.#checkName('registerModule', name);
    if (m !== null && !(m instanceof Module)) throw new ValueError(`${this.constructor.name}.registerModule('${name}'): not a Module`);
    this.#modules.set(name, m);
    this.#defineAccessor(name, () => this.#modules.get(name), (v: Module | null) => { this.#modules.set(name, v); });
    return m;
  }

  /** The registered parameter `name` of this module (not of children), or undefined. */
  getParameter(name: string): Tensor | null | undefined { return this.#params.get(name); }
  /** The registered buffer `name` of this module (not of children), or undefined. */
  getBuffer(name: string): Tensor | null | undefined { return this.#buffers.get(name); }
  /** The registered child module `name` of this module, or undefined. */
  getModule(name: string): Module | null | undefined { return this.#modules.get(name); }

  // ---- traversal -----------------------------------------------------------------------------

  /**
   * Register what plain fields hold (see the header): modules and parameters by name; arrays and
   * plain objects of them through a container whose children are named by index or key, so their
   * tensors are `blocks.0.weight` as with torch's ModuleList. Re-synced on every walk.
   */
  #adoptFields(): void {
    for (const key of Object.keys(this)) {
      const d = Object.getOwnPropertyDescriptor(this, key);
      if (!d || !('value' in d) || !IDENT.test(key)) continue; // registered names are accessors
      const v: unknown = d.value;
      if (v instanceof Module) {
        delete (this as Record<string, unknown>)[key];
        this.registerModule(key, v);
      } else if (adoptsAsParameter(v)) {
        delete (this as Record<string, unknown>)[key];
        this.registerParameter(key, v, { requiresGrad: v.requiresGrad });
      } else if (Array.isArray(v) || isPlainObject(v)) {
        const items = Array.isArray(v) ? [...v] : Object.values(v);
        const prev = this.#adopted.get(key);
        if (prev && prev.length === items.length && prev.every((x, i) => x === items[i])) continue;
        const kinds = items.map((x) => (x instanceof Module ? 'module' : adoptsAsParameter(x) ? 'parameter' : 'other'));
        if (!kinds.some((k) => k !== 'other')) {
          if (prev) { this.#modules.delete(key); this.#adopted.delete(key); }
          continue;
        }
        if (kinds.includes('other')) {
          throw new ValueError(`${this.constructor.name}.${key}: holds modules or parameters mixed with other values (${items.map(fmtValue).join(', ')}); keep them in a field of their own, or use ModuleList / ModuleDict / registerModule`);
        }
        const entries: [string, unknown][] = Array.isArray(v) ? items.map((x, i) => [String(i), x]) : Object.entries(v);
        this.#modules.set(key, new FieldContainer(entries));
        this.#adopted.set(key, items);
      }
    }
    for (const key of this.#adopted.keys()) {
      if (!Object.prototype.hasOwnProperty.call(this, key)) { this.#modules.delete(key); this.#adopted.delete(key); }
    }
  }

  /** Direct children with their names (registration order). */
  *namedChildren(): Generator<[string, Module]> {
    this.#adoptFields();
    for (const [n, m] of this.#modules) if (m) yield [n, m];
  }
  /** Direct children (registration order), without names. */
  *children(): Generator<Module> { for (const [, m] of this.namedChildren()) yield m; }

  /** This module ('' name) and every descendant, each once, depth-first in registration order. */
  #checkTraversal(method: string, opts: { recurse?: boolean; prefix?: string }): void {
    const op = `${this.constructor.name}.${method}`;
    checkOptions(op, opts, ['recurse', 'prefix']);
    if (opts.recurse !== undefined) checkBool(op, 'recurse', opts.recurse);
    if (opts.prefix !== undefined && typeof opts.prefix !== 'string') throw new ValueError(`${op}: prefix must be a string, got ${fmtValue(opts.prefix)}`);
  }

  /** This module (named `prefix`, default '') and every descendant with its dotted name, each once, depth-first in registration order. `seen` is for the recursion. */
  *namedModules(prefix = '', seen = new Set<Module>()): Generator<[string, Module]> {
    if (seen.has(this)) return;
    seen.add(this);
    this.#adoptFields();
    yield [prefix, this];
    for (const [n, m] of this.namedChildren()) yield* m.namedModules(prefix ? `${prefix}.${n}` : n, seen);
  }
  /** This module and every descendant, each once (see `namedModules`). */
  *modules(): Generator<Module> { for (const [, m] of this.namedModules()) yield m; }

  /** Every parameter with its dotted name; a tensor registered under several names appears once. */
  *namedParameters(opts: { recurse?: boolean; prefix?: string } = {}): Generator<[string, Tensor]> {
    this.#checkTraversal('namedParameters', opts);
    this.#adoptFields();
    const seen = new Set<Tensor>();
    const mods: Iterable<[string, Module]> = opts.recurse === false ? [[opts.prefix ?? '', this]] : this.namedModules(opts.prefix ?? '');
    for (const [mn, m] of mods) {
      for (const [n, p] of m.#params) {
        if (!p || seen.has(p)) continue;
        seen.add(p);
        yield [mn ? `${mn}.${n}` : n, p];
      }
    }
  }
  /** Every parameter (each tensor once); `recurse: false` only this module's own. What an optimizer takes: `new AdamW(model.parameters())`. */
  parameters(opts: { recurse?: boolean } = {}): Tensor[] {
    this.#checkTraversal('parameters', opts);
    return [...this.namedParameters(opts)].map(([, p]) => p);
  }

  /** Every buffer with its dotted name (running statistics, masks), each tensor once; `recurse: false` only this module's own. */
  *namedBuffers(opts: { recurse?: boolean; prefix?: string } = {}): Generator<[string, Tensor]> {
    this.#checkTraversal('namedBuffers', opts);
    this.#adoptFields();
    const seen = new Set<Tensor>();
    const mods: Iterable<[string, Module]> = opts.recurse === false ? [[opts.prefix ?? '', this]] : this.namedModules(opts.prefix ?? '');
    for (const [mn, m] of mods) {
      for (const [n, b] of m.#buffers) {
        if (!b || seen.has(b)) continue;
        seen.add(b);
        yield [mn ? `${mn}.${n}` : n, b];
      }
    }
  }
  /** Every buffer (each tensor once); `recurse: false` only this module's own. */
  buffers(opts: { recurse?: boolean } = {}): Tensor[] {
    this.#checkTraversal('buffers', opts);
    return [...this.namedBuffers(opts)].map(([, b]) => b);
  }

  /** Name → tensor for every parameter and persistent buffer, under every name it is registered
   *  as (tied weights appear under each name and share storage). The tensors are the module's own,
   *  not copies: do not dispose them. */
  stateDict(): StateDict {
    const out: StateDict = {};
    for (const [mn, m] of this.namedModules()) {
      const pre = mn ? `${mn}.` : '';
      for (const [n, p] of m.#params) if (p) out[pre + n] = p;
      for (const [n, b] of m.#buffers) if (b && !m.#nonPersistent.has(n)) out[pre + n] = b;
    }
    return out;
  }

  /** Copy values from `sd` into this module's tensors in place (under noGrad; dtypes are converted).
   *  With `strict` (default), missing or unexpected keys throw a StateDictError listing all of them;
   *  a shape mismatch always throws. Nothing is written unless every check passes. Source tensors on
   *  another device must be readable synchronously (move them first with toAsync otherwise). */
  loadStateDict(sd: Readonly<Record<string, Tensor>>, opts: LoadStateDictOptions = {}): LoadStateDictResult {
    if (typeof sd !== 'object' || sd === null || Array.isArray(sd)) throw new ValueError(`${this.constructor.name}.loadStateDict: the state dict must be an object of name → Tensor, got ${fmtValue(sd)}`);
    this.#checkBoolOption('loadStateDict', opts, 'strict');
    const strict = opts.strict ?? true;
    const own = this.stateDict();
    const missingKeys = Object.keys(own).filter((k) => !(k in sd));
    const unexpectedKeys = Object.keys(sd).filter((k) => !(k in own));
    const mismatched: { key: string; expected: readonly number[]; got: readonly number[] }[] = [];
    for (const [k, t] of Object.entries(own)) {
      const s = sd[k];
      if (s && !sameShape(s.shape, t.shape)) mismatched.push({ key: k, expected: t.shape, got: s.shape });
    }
    const who = this.constructor.name;
    const problems: string[] = [];
    if (mismatched.length) problems.push(`shape mismatch for ${mismatched.map((m) => `'${m.key}' (model ${fmtShape(m.expected)}, given ${fmtShape(m.got)})`).join(', ')}`);
    if (strict && missingKeys.length) problems.push(`missing keys ${list(missingKeys)}`);
    if (strict && unexpectedKeys.length) problems.push(`unexpected keys ${list(unexpectedKeys)}`);
    if (problems.length) {
      const kinds = [mismatched.length ? 'shape' : null, strict && missingKeys.length ? 'missing' : null, strict && unexpectedKeys.length ? 'unexpected' : null].filter(Boolean);
      const kind = (kinds.length === 1 ? kinds[0] : 'mixed') as StateDictError['kind'];
      throw new StateDictError(`${who}.loadStateDict: ${problems.join('; ')}`, kind, strict ? missingKeys : [], strict ? unexpectedKeys : [], mismatched);
    }
    noGrad(() => {
      const done = new Set<Tensor>();
      for (const [k, t] of Object.entries(own)) {
        const s = sd[k];
        if (!s || s === t) continue;
        if (done.has(t)) continue; // a tied tensor is written once (from its first name)
        done.add(t);
        const src = s.device === t.device ? s : s.to(t.device);
        t.copy_(src);
        if (src !== s) src.dispose();
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  // ---- modes, devices, gradients ---------------------------------------------------------------

  /** Set training mode on this module and every descendant. Returns this. */
  train(mode = true): this {
    checkBool(`${this.constructor.name}.train`, 'mode', mode);
    for (const m of this.modules()) m.#training = mode;
    return this;
  }
  /** Evaluation mode on this module and every descendant (`train(false)`). Returns this. */
  eval(): this { return this.train(false); }

  /** Turn gradients on or off for every parameter (freeze with `requiresGrad_(false)`). Returns this. */
  requiresGrad_(requiresGrad = true): this {
    checkBool(`${this.constructor.name}.requiresGrad_`, 'requiresGrad', requiresGrad);
    for (const p of this.parameters()) p.requiresGrad = requiresGrad && (p.dtype === 'float32' || p.dtype === 'float64');
    return this;
  }

  /** Number of parameter elements (tied weights counted once). */
  numParameters(opts: { trainableOnly?: boolean } = {}): number {
    this.#checkBoolOption('numParameters', opts, 'trainableOnly');
    let n = 0;
    for (const p of this.parameters()) if (!opts.trainableOnly || p.requiresGrad) n += p.size;
    return n;
  }

  /** Release every parameter's gradient (PyTorch's `zero_grad(set_to_none=True)`). */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      if (p.grad) { p.grad.dispose(); p.grad = null; }
    }
  }

  /** Apply `fn` to every module, children first (like PyTorch's `apply`, e.g. for custom init). */
  apply(fn: (m: Module) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  #replaceAll(convert: (t: Tensor) => Tensor): void {
    const memo = new Map<Tensor, Tensor>();
    const conv = (t: Tensor): Tensor => {
      let r = memo.get(t);
      if (!r) {
        r = convert(t);
        memo.set(t, r);
      }
      return r;
    };
    for (const m of this.modules()) {
      for (const [n, p] of m.#params) {
        if (!p) continue;
        const q = conv(p);
        if (q !== p) { keep(q); q.name = p.name; q.requiresGrad = p.requiresGrad; m.#params.set(n, q); }
      }
      for (const [n, b] of m.#buffers) {
        if (!b) continue;
        const q = conv(b);
        if (q !== b) { keep(q); q.name = b.name; m.#buffers.set(n, q); }
      }
    }
    for (const [old, neu] of memo) {
      if (old !== neu) {
        if (old.grad) { old.grad.dispose(); old.grad = null; }
        old.dispose();
      }
    }
  }

  /** Move every parameter and buffer to `device` (synchronously; gradients are dropped). Tied
   *  tensors stay tied. Moving off a device that is read asynchronously needs `toAsync`. Returns this. */
  to(device: DeviceName): this {
    checkEnum(`${this.constructor.name}.to`, 'device', device, DEVICE_NAMES);
    this.#replaceAll((t) => (t.device === device ? t : t.to(device)));
    return this;
  }

  /** `to(device)` for any source device: reads asynchronously when needed. */
  async toAsync(device: DeviceName): Promise<this> {
    checkEnum(`${this.constructor.name}.toAsync`, 'device', device, DEVICE_NAMES);
    const moved = new Map<Tensor, Tensor>();
    for (const t of [...this.parameters(), ...this.buffers()]) {
      if (t.device !== device && !moved.has(t)) moved.set(t, await t.toAsync(device));
    }
    this.#replaceAll((t) => moved.get(t) ?? t);
    return this;
  }

  /** Convert every floating-point parameter and buffer to `dtype` (e.g. 'float64' for gradient
   *  checks, 'float16' or 'bfloat16' for 16-bit weights). Returns this. */
  toDType(dtype: 'float32' | 'float64' | 'float16' | 'bfloat16'): this {
    checkEnum(`${this.constructor.name}.toDType`, 'dtype', dtype, ['float32', 'float64', 'float16', 'bfloat16']);
    this.#replaceAll((t) => (t.dtype === dtype || !isFloat(t.dtype) ? t : noGrad(() => t.to(dtype))));
    return this;
  }

  /** Dispose every parameter, gradient and buffer of this module tree. The module is unusable after. */
  dispose(): void {
    const all = new Set<Tensor>();
    for (const m of this.modules()) {
      for (const p of m.#params.values()) if (p) all.add(p);
      for (const b of m.#buffers.values()) if (b) all.add(b);
    }
    for (const t of all) {
      if (t.grad) { t.grad.dispose(); t.grad = null; }
      t.dispose();
    }
  }

  /** Write the stateDict to a safetensors file (Node); see serialization.ts. */
  async save(path: string, opts: { metadata?: Record<string, string> } = {}): Promise<void> {
    const { saveModule } = await import('./serialization.js');
    await saveModule(this, path, opts);
  }

  /** Load a safetensors file (Node) into this module in place. Returns this. */
  async load(path: string, opts: LoadStateDictOptions = {}): Promise<this> {
    const { loadModule } = await import('./serialization.js');
    return loadModule(this, path, opts);
  }

  /** Extra text for toString (e.g. `in=4, out=8`). */
  extraRepr(): string { return ''; }

  /** The module tree as PyTorch prints it: the class name with `extraRepr()`, then each child indented as `(name): …`. */
  toString(): string {
    const kids = [...this.namedChildren()];
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (!kids.length) return `${head})`;
    const body = kids.map(([n, m]) => `  (${n}): ${m.toString().split('\n').join('\n  ')}`).join('\n');
    return `${head}\n${body}\n)`;
  }
}

/** The module behind an array or plain-object field of modules and parameters. */
class FieldContainer extends Module {
  constructor(entries: [string, unknown][]) {
    super();
    for (const [k, x] of entries) {
      if (x instanceof Module) this.registerModule(k, x);
      else this.registerParameter(k, x as Tensor, { requiresGrad: (x as Tensor).requiresGrad });
    }
  }
  forward(): never {
    throw new ValueError('a field of modules is a container, not a layer: call its elements');
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function list(keys: readonly string[]): string {
  const shown = keys.slice(0, 20).map((k) => `'${k}'`).join(', ');
  return keys.length > 20 ? `${shown} … (${keys.length} in all)` : shown;
}

