// Containers: Sequential (a chain of modules), ModuleList (an indexed list) and ModuleDict (a
// keyed map). Children are registered under their index ('0', '1', ...) or key, so parameter names
// read `layers.0.weight`, as in PyTorch.
import { IndexError, ValueError, checkInt, fmtValue, type Tensor } from '@webgrad/core';
import { Module } from './module.js';

function checkIterable(op: string, v: unknown): void {
  if (v === null || typeof v !== 'object' || typeof (v as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw new ValueError(`${op}: modules must be an iterable of Modules, got ${fmtValue(v)}`);
  }
}

/** Modules applied one after another: `forward(x)` = mN(...m1(m0(x))). Typed Tensor → Tensor by
 *  default; `new Sequential<In, Out>(...)` types another chain. */
export class Sequential<In = Tensor, Out = Tensor> extends Module<[In], Out> {
  #list: Module[] = [];

  constructor(...modules: Module[]) {
    super();
    for (const m of modules) this.append(m);
  }

  /** Adds `m` at the end of the chain, registered under its index. Returns this. */
  append(m: Module): this {
    this.registerModule(String(this.#list.length), m);
    this.#list.push(m);
    return this;
  }

  /** Number of modules. */
  get length(): number { return this.#list.length; }
  /** The module at index `i` (negative counts from the end); an IndexError out of range. */
  at(i: number): Module {
    const m = this.#list.at(checkInt('Sequential.at', 'index', i));
    if (!m) throw new IndexError(`Sequential.at: index ${i} out of range for ${this.#list.length} modules`);
    return m;
  }
  /** The modules in order. */
  [Symbol.iterator](): Iterator<Module> { return this.#list[Symbol.iterator](); }

  forward(x: In): Out {
    let y: unknown = x;
    for (const m of this.#list) y = m.forward(y);
    return y as Out;
  }
}

/** An indexed list of modules (no forward of its own). */
export class ModuleList<M extends Module = Module> extends Module {
  #list: M[] = [];

  constructor(modules: Iterable<M> = []) {
    super();
    checkIterable('ModuleList', modules);
    for (const m of modules) this.append(m);
  }

  /** Adds `m` at the end, registered under its index. Returns this. */
  append(m: M): this {
    this.registerModule(String(this.#list.length), m);
    this.#list.push(m);
    return this;
  }

  /** Number of modules. */
  get length(): number { return this.#list.length; }
  /** The module at index `i` (negative counts from the end); an IndexError out of range. */
  at(i: number): M {
    const m = this.#list.at(checkInt('ModuleList.at', 'index', i));
    if (!m) throw new IndexError(`ModuleList.at: index ${i} out of range for ${this.#list.length} modules`);
    return m;
  }
  /** The modules in order. */
  [Symbol.iterator](): Iterator<M> { return this.#list[Symbol.iterator](); }

  forward(): never {
    throw new ValueError('ModuleList has no forward; iterate over its modules');
  }
}

/** Modules by name (no forward of its own). Keys must not contain '.'. */
export class ModuleDict<M extends Module = Module> extends Module {
  #map = new Map<string, M>();

  constructor(modules: Record<string, M> | Iterable<[string, M]> = {}) {
    super();
    if (modules === null || typeof modules !== 'object') throw new ValueError(`ModuleDict: modules must be an object or an iterable of [key, Module] pairs, got ${fmtValue(modules)}`);
    const entries = Symbol.iterator in (modules as object) ? (modules as Iterable<[string, M]>) : Object.entries(modules as Record<string, M>);
    for (const [k, m] of entries) this.set(k, m);
  }

  /** Adds or replaces the module under `key` (a ValueError if it contains '.'). Returns this. */
  set(key: string, m: M): this {
    this.registerModule(key, m);
    this.#map.set(key, m);
    return this;
  }
  /** The module under `key`; an IndexError naming the keys it has when absent. */
  get(key: string): M {
    const m = this.#map.get(key);
    if (!m) throw new IndexError(`ModuleDict.get: no module '${key}' (have ${[...this.#map.keys()].join(', ') || 'none'})`);
    return m;
  }
  /** Whether a module is stored under `key`. */
  has(key: string): boolean { return this.#map.has(key); }
  /** The keys, in insertion order. */
  keys(): IterableIterator<string> { return this.#map.keys(); }
  /** The modules, in insertion order. */
  values(): IterableIterator<M> { return this.#map.values(); }
  /** [key, module] pairs, in insertion order. */
  entries(): IterableIterator<[string, M]> { return this.#map.entries(); }
  /** Number of modules. */
  get size(): number { return this.#map.size; }

  forward(): never {
    throw new ValueError('ModuleDict has no forward; look up its modules by key');
  }
}
