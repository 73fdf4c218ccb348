// A kernel's bindings, declared once: the WGSL declarations and the pipeline's bind-group layout
// are both generated from one list.
//
//   shader([read('x', 'f32'), readWrite('out', 'f32'), uniform(u)], body)
//
// gives the WGSL
//
//   struct U { ... }                                   (from the UniformStruct `u`)
//   @group(0) @binding(0) var<storage, read> x: array<f32>;
//   @group(0) @binding(1) var<storage, read_write> out: array<f32>;
//   @group(0) @binding(2) var<uniform> u: U;
//   <body>
//
// and the layout entries 0: read-only storage, 1: storage, 2: uniform with a dynamic offset (the
// runtime binds its uniform ring there). Binding numbers are positions in the list. A dispatch
// passes its storage buffers in binding order; the uniform binding takes no buffer.

import { WebGPUBindingError } from './errors.js';
import type { UniformStruct } from './kernel_args.js';

/** Access of a storage binding: 'read' → read-only storage, 'readwrite' → read-write storage. */
export type BindingKind = 'read' | 'readwrite';

/** Element types a storage binding may hold (an array of them; `atomic<u32>` arrays are read-write). `vec2<u32>` holds four packed bfloat16. */
export type ElementType = 'f32' | 'i32' | 'u32' | 'f16' | 'vec2<u32>' | 'vec4<f32>' | 'vec4<i32>' | 'vec4<u32>' | 'vec4<f16>' | 'atomic<u32>';

const ELEMENT_TYPES: ReadonlySet<string> = new Set<ElementType>(['f32', 'i32', 'u32', 'f16', 'vec2<u32>', 'vec4<f32>', 'vec4<i32>', 'vec4<u32>', 'vec4<f16>', 'atomic<u32>']);

/** A storage-buffer binding: an array of `element` that the shader reads (`read`) or reads and writes (`readwrite`). */
export interface StorageBinding {
  /** 'read' (read-only storage) or 'readwrite'. */
  readonly kind: BindingKind;
  /** The WGSL variable name. */
  readonly name: string;
  /** The WGSL element type of the array. */
  readonly element: ElementType;
  /** Fixed array length (`array<T, length>`); runtime-sized when absent. */
  readonly length?: number;
}

/** The uniform binding: a struct the runtime fills from its uniform ring at a dynamic offset. */
export interface UniformBinding {
  /** Always 'uniform'. */
  readonly kind: 'uniform';
  /** The WGSL variable name. */
  readonly name: string;
  /** The struct: its fields are declared from a UniformStruct; a string names a struct the shader declares itself. */
  readonly struct: UniformStruct | string;
}

/** One binding of a shader's list; its binding number is its position. */
export type BindingEntry = StorageBinding | UniformBinding;

/** A read-only storage array. */
export function read(name: string, element: ElementType): StorageBinding {
  return { kind: 'read', name, element };
}

/** A read-write storage array, runtime-sized or of a fixed `length`. */
export function readWrite(name: string, element: ElementType, length?: number): StorageBinding {
  return length === undefined ? { kind: 'readwrite', name, element } : { kind: 'readwrite', name, element, length };
}

/** The dispatch's uniform struct (struct `U` of a UniformStruct), bound as `name`. */
export function uniform(struct: UniformStruct | string, name = 'u'): UniformBinding {
  return { kind: 'uniform', name, struct };
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A validated binding list: see the header. Build with `bindings(...)`. */
export class Bindings {
  /** Access of each storage binding in binding order: the order of the buffers a dispatch binds. */
  readonly storage: readonly BindingKind[];
  /** The uniform's binding number. */
  readonly uniformBinding: number;
  /** Equal for lists with equal layouts (kinds in the same positions): pipelines with equal keys share one bind-group layout. */
  readonly layoutKey: string;

  /** @param entries The bindings in binding order; a WebGPUBindingError names a gap, a bad name, a duplicate or a second uniform. */
  constructor(readonly entries: readonly BindingEntry[]) {
    const storage: BindingKind[] = [];
    const seen = new Map<string, number>();
    let uniformAt = -1;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i] as BindingEntry | null | undefined;
      if (e == null || typeof e !== 'object' || typeof e.kind !== 'string') {
        throw new WebGPUBindingError(`bindings: binding ${i} is missing (a gap in 0..${entries.length - 1}); ` +
          'binding numbers are list positions, so every position needs a read(), readWrite() or uniform() entry');
      }
      if (!IDENTIFIER.test(e.name)) throw new WebGPUBindingError(`bindings: binding ${i} has the name '${e.name}', which is not a WGSL identifier`);
      const prev = seen.get(e.name);
      if (prev !== undefined) throw new WebGPUBindingError(`bindings: '${e.name}' is declared twice (bindings ${prev} and ${i})`);
      seen.set(e.name, i);
      if (e.kind === 'uniform') {
        if (uniformAt >= 0) throw new WebGPUBindingError(`bindings: two uniforms ('${entries[uniformAt]!.name}' at ${uniformAt}, '${e.name}' at ${i}); the runtime binds one`);
        uniformAt = i;
        continue;
      }
      if (e.kind !== 'read' && e.kind !== 'readwrite') throw new WebGPUBindingError(`bindings: binding ${i} ('${e.name}') has the unknown kind '${String(e.kind)}'`);
      if (!ELEMENT_TYPES.has(e.element)) {
        throw new WebGPUBindingError(`bindings: binding ${i} ('${e.name}') has the element type '${e.element}'; expected one of ${[...ELEMENT_TYPES].join(', ')}`);
      }
      if (e.length !== undefined && !(Number.isInteger(e.length) && e.length > 0)) {
        throw new WebGPUBindingError(`bindings: binding ${i} ('${e.name}') has the length ${e.length}; expected a positive integer`);
      }
      if (e.element === 'atomic<u32>' && e.kind !== 'readwrite') {
        throw new WebGPUBindingError(`bindings: binding ${i} ('${e.name}') holds atomics: it must be readWrite with a fixed length or runtime-sized`);
      }
      storage.push(e.kind);
    }
    if (uniformAt < 0) throw new WebGPUBindingError('bindings: no uniform() entry; every dispatch binds its uniforms');
    this.storage = storage;
    this.uniformBinding = uniformAt;
    this.layoutKey = entries.map((e) => e.kind).join(',');
  }

  /** WGSL: the uniform struct (when given as a UniformStruct), then one declaration per binding. */
  wgsl(): string {
    let s = '';
    for (const e of this.entries) if (e.kind === 'uniform' && typeof e.struct !== 'string') s += e.struct.wgsl('U');
    this.entries.forEach((e, i) => {
      if (e.kind === 'uniform') {
        s += `@group(0) @binding(${i}) var<uniform> ${e.name}: ${typeof e.struct === 'string' ? e.struct : 'U'};\n`;
      } else {
        const array = e.length === undefined ? `array<${e.element}>` : `array<${e.element}, ${e.length}>`;
        s += `@group(0) @binding(${i}) var<storage, ${e.kind === 'read' ? 'read' : 'read_write'}> ${e.name}: ${array};\n`;
      }
    });
    return s;
  }

  /** The bind-group layout entries (compute stage; the uniform has a dynamic offset). */
  layoutEntries(): GPUBindGroupLayoutEntry[] {
    return this.entries.map((e, i): GPUBindGroupLayoutEntry => ({
      binding: i,
      visibility: GPUShaderStage.COMPUTE,
      buffer: e.kind === 'uniform' ? { type: 'uniform', hasDynamicOffset: true }
        : { type: e.kind === 'read' ? 'read-only-storage' : 'storage' },
    }));
  }

  /** The bind-group entries: `buffers` at the storage bindings in order, `uniformSize` bytes of `uniform` from offset 0 at the uniform's. */
  groupEntries(buffers: readonly GPUBuffer[], uniform: GPUBuffer, uniformSize: number): GPUBindGroupEntry[] {
    const out: GPUBindGroupEntry[] = [];
    let k = 0;
    for (let i = 0; i < this.entries.length; i++) {
      out.push(this.entries[i]!.kind === 'uniform'
        ? { binding: i, resource: { buffer: uniform, offset: 0, size: uniformSize } }
        : { binding: i, resource: { buffer: buffers[k++]! } });
    }
    return out;
  }
}

/** Validates `entries` (unique WGSL names, no gaps, exactly one uniform) into a binding list. */
export function bindings(entries: readonly BindingEntry[]): Bindings {
  return new Bindings(entries);
}

/** What a pipeline is compiled from: its bindings and its WGSL, which declares them. */
export interface ShaderSource {
  /** The bindings the WGSL declares, in binding order. */
  readonly bindings: Bindings;
  /** The WGSL: the binding declarations, then the body. */
  readonly code: string;
}

/** A shader whose WGSL starts with the declarations of `entries`, followed by `body`. */
export function shader(entries: readonly BindingEntry[], body: string): ShaderSource {
  const b = new Bindings(entries);
  // An f16 binding needs the extension enabled before any declaration (device feature shader-f16).
  const f16 = entries.some((e) => e.kind !== 'uniform' && e.element.includes('f16'));
  return { bindings: b, code: (f16 ? 'enable f16;\n' : '') + b.wgsl() + body };
}
