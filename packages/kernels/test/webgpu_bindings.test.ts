// Binding lists (bindings.ts): the WGSL declarations and the bind-group layout generated from one
// list agree, a pipeline built from them binds what the shader reads, and malformed lists are refused.
import { describe, expect, it } from 'vitest';
import {
  bindings, read, readWrite, shader, uniform, UniformStruct, WebGPUBindingError, WGSL_LINEAR_WORKGROUP,
  type BindingEntry,
} from '../src/webgpu/index.js';
import { gpuRuntime } from './gpu_helpers.js';

const rt = await gpuRuntime();

interface Declared { binding: number; space: string; name: string; type: string }

/** The `@group(0) @binding(n) var<...> name: type;` lines of a shader, parsed. */
function declarations(code: string): Declared[] {
  const out: Declared[] = [];
  for (const m of code.matchAll(/^@group\(0\) @binding\((\d+)\) var<([^>]+)> (\w+): (.+);$/gm)) {
    out.push({ binding: Number(m[1]), space: m[2]!, name: m[3]!, type: m[4]! });
  }
  return out;
}

const SPACE = { read: 'storage, read', readwrite: 'storage, read_write', uniform: 'uniform' } as const;
const LAYOUT_TYPE = { read: 'read-only-storage', readwrite: 'storage', uniform: 'uniform' } as const;

describe('binding lists', () => {
  const u = new UniformStruct().u32('n', 3).f32('scale', 2);
  const entries: BindingEntry[] = [
    read('x', 'f32'), read('idx', 'i32'), read('v4', 'vec4<u32>'), uniform(u),
    readWrite('out', 'f32'), readWrite('err', 'atomic<u32>', 4),
  ];

  it('declare in WGSL exactly what the layout holds: binding numbers, access modes, element types', () => {
    const b = bindings(entries);
    const decl = declarations(b.wgsl());
    const layout = b.layoutEntries();
    expect(decl.map((d) => d.binding)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(layout.map((e) => e.binding)).toEqual([0, 1, 2, 3, 4, 5]);
    entries.forEach((e, i) => {
      expect(decl[i]!.name).toBe(e.name);
      expect(decl[i]!.space).toBe(SPACE[e.kind]);
      expect(layout[i]!.buffer!.type).toBe(LAYOUT_TYPE[e.kind]);
      expect(layout[i]!.visibility).toBe(GPUShaderStage.COMPUTE);
    });
    expect(decl.map((d) => d.type)).toEqual(['array<f32>', 'array<i32>', 'array<vec4<u32>>', 'U', 'array<f32>', 'array<atomic<u32>, 4>']);
    expect(layout[3]!.buffer!.hasDynamicOffset).toBe(true);
    expect(layout.filter((e) => e.buffer!.hasDynamicOffset).length).toBe(1);
    // the uniform struct is declared once, from the UniformStruct
    expect(b.wgsl().startsWith(u.wgsl('U'))).toBe(true);
    expect(b.storage).toEqual(['read', 'read', 'read', 'readwrite', 'readwrite']);
    expect(b.uniformBinding).toBe(3);
  });

  it('put the buffers of a dispatch at the storage bindings in order, the uniform at its own binding', () => {
    const b = bindings(entries);
    const bufs = [0, 1, 2, 3, 4].map((k) => ({ label: `buf${k}` }) as unknown as GPUBuffer);
    const ring = { label: 'ring' } as unknown as GPUBuffer;
    const group = b.groupEntries(bufs, ring, 32);
    expect(group.map((g) => g.binding)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(group.map((g) => ((g.resource as GPUBufferBinding).buffer as { label: string }).label))
      .toEqual(['buf0', 'buf1', 'buf2', 'ring', 'buf3', 'buf4']);
    expect(group[3]!.resource).toMatchObject({ offset: 0, size: 32 });
  });

  it('give lists with the same kinds in the same places one layout key, and others another', () => {
    const a = bindings([read('x', 'f32'), readWrite('out', 'f32'), uniform(u)]);
    const b = bindings([read('y', 'vec4<i32>'), readWrite('z', 'u32'), uniform('V', 'p')]);
    const c = bindings([readWrite('x', 'f32'), readWrite('out', 'f32'), uniform(u)]);
    const d = bindings([read('x', 'f32'), uniform(u), readWrite('out', 'f32')]);
    expect(a.layoutKey).toBe(b.layoutKey);
    expect(new Set([a.layoutKey, c.layoutKey, d.layoutKey]).size).toBe(3);
  });

  it('compile and run: a pipeline whose uniform sits between its storage bindings', async () => {
    // out[i] = x[i] * scale + y[i] for i < n, with the uniform at binding 1.
    const n = 300;
    const uu = new UniformStruct().u32('n', n).f32('scale', 0.5);
    const src = () => shader([read('x', 'f32'), uniform(uu), read('y', 'f32'), readWrite('out', 'f32')], `
${WGSL_LINEAR_WORKGROUP}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = linear_workgroup(wid, nwg) * 64u + lid;
  if (i >= u.n) { return; }
  out[i] = x[i] * u.scale + y[i];
}
`);
    const p = rt.pipeline('test.bindings.uniform_between', src);
    expect(p.layout).toEqual(['read', 'read', 'readwrite']);
    const x = rt.allocate(n * 4), y = rt.allocate(n * 4), out = rt.allocate(n * 4);
    rt.write(x, Float32Array.from({ length: n }, (_, i) => i));
    rt.write(y, Float32Array.from({ length: n }, (_, i) => -i * 2));
    rt.dispatch(p, [x, y, out], uu.bytes(), [Math.ceil(n / 64)]);
    const got = new Float32Array(await rt.read(out, 0, n * 4));
    expect(Array.from(got)).toEqual(Array.from({ length: n }, (_, i) => i * 0.5 - i * 2));
    await rt.sync(); // no validation error from the layout or the bind group
    for (const b of [x, y, out]) rt.release(b);
  });

  describe('refuse', () => {
    const refused = (list: readonly unknown[], message: RegExp) => {
      expect(() => bindings(list as BindingEntry[])).toThrow(WebGPUBindingError);
      expect(() => bindings(list as BindingEntry[])).toThrow(message);
    };

    it('a name declared twice', () => {
      refused([read('x', 'f32'), readWrite('x', 'f32'), uniform(u)], /'x' is declared twice \(bindings 0 and 1\)/);
      refused([read('u', 'f32'), uniform(u)], /'u' is declared twice/);
    });

    it('a gap: a missing entry shifts every later binding', () => {
      // eslint-disable-next-line no-sparse-arrays
      refused([read('x', 'f32'), , readWrite('out', 'f32'), uniform(u)], /binding 1 is missing \(a gap/);
      refused([read('x', 'f32'), undefined, uniform(u)], /binding 1 is missing/);
      refused([read('x', 'f32'), false, uniform(u)], /binding 1 is missing/);
    });

    it('no uniform, or two', () => {
      refused([read('x', 'f32'), readWrite('out', 'f32')], /no uniform/);
      refused([uniform(u), uniform(u, 'v')], /two uniforms \('u' at 0, 'v' at 1\)/);
    });

    it('names that are not WGSL identifiers, unknown element types, misdeclared atomics', () => {
      refused([read('1x', 'f32'), uniform(u)], /binding 0 has the name '1x'/);
      refused([read('x', 'f64' as never), uniform(u)], /'f64'; expected one of/);
      refused([read('err', 'atomic<u32>'), uniform(u)], /holds atomics: it must be readWrite with a fixed length/);
      refused([readWrite('err', 'f32', 0), uniform(u)], /length 0; expected a positive integer/);
    });

    it('before anything is compiled', () => {
      const before = rt.stats().pipelines;
      expect(() => rt.pipeline('test.bindings.refused', () => shader([read('x', 'f32'), read('x', 'f32'), uniform(u)], '')))
        .toThrow(WebGPUBindingError);
      expect(rt.stats().pipelines).toBe(before);
    });
  });
});
