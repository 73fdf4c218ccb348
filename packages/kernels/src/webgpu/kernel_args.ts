// Small helpers shared by the compute-heavy kernel families (matmul, softmax, layer_norm,
// cross_entropy, attention, conv): packing a uniform struct and spelling it in WGSL.
//
// Every uniform struct these kernels use is a flat list of 4-byte scalars (u32, i32 or f32), in the
// order they are pushed, so the WGSL struct and the bytes always agree: `UniformStruct` records the
// fields once and produces both.

export type ScalarKind = 'u32' | 'i32' | 'f32';

/** A uniform struct of 4-byte scalar fields in push order: `wgsl()` declares it and the bytes match. */
export class UniformStruct {
  private readonly fields: { name: string; kind: ScalarKind; value: number }[] = [];

  /** Append a u32 field; a RangeError if `value` is not an integer in [0, 2³²). */
  u32(name: string, value: number): this {
    if (!(value >= 0 && value <= 0xffffffff) || !Number.isInteger(value)) {
      throw new RangeError(`uniform '${name}' = ${value} does not fit a u32`);
    }
    this.fields.push({ name, kind: 'u32', value });
    return this;
  }

  /** Append an i32 field (value truncated to 32 bits). */
  i32(name: string, value: number): this {
    this.fields.push({ name, kind: 'i32', value: value | 0 });
    return this;
  }

  /** Append an f32 field (value rounded to float32). */
  f32(name: string, value: number): this {
    this.fields.push({ name, kind: 'f32', value });
    return this;
  }

  /** A view's element offset and strides, as `<name>_off`, `<name>_s0`, `<name>_s1`, …. */
  view(name: string, v: { offset: number; strides: readonly number[] }): this {
    this.u32(`${name}_off`, v.offset);
    v.strides.forEach((s, d) => this.u32(`${name}_s${d}`, s));
    return this;
  }

  /** The WGSL declaration `struct <name> { ... }` for these fields. */
  wgsl(name = 'U'): string {
    return `struct ${name} {\n${this.fields.map((f) => `  ${f.name}: ${f.kind},`).join('\n')}\n}\n`;
  }

  /** The struct's bytes (padded to 16). */
  bytes(): ArrayBuffer {
    const n = Math.max(4, Math.ceil(this.fields.length / 4) * 4);
    const buf = new ArrayBuffer(n * 4);
    const dv = new DataView(buf);
    this.fields.forEach((f, i) => {
      if (f.kind === 'f32') dv.setFloat32(i * 4, f.value, true);
      else if (f.kind === 'i32') dv.setInt32(i * 4, f.value, true);
      else dv.setUint32(i * 4, f.value, true);
    });
    return buf;
  }
}

/** Throws unless every view is float32 (these kernels compute in f32 only). */
export function requireFloat32(op: string, ...dtypes: string[]): void {
  for (const d of dtypes) {
    if (d !== 'float32') {
      throw new TypeError(`${op}: the WebGPU backend runs this kernel on float32 only, got ${d}` +
        (d === 'float64' ? ' (WGSL has no f64; cast to float32 or use the cpu backend)' : ''));
    }
  }
}

/** Largest number of workgroups per dispatch dimension this device allows. */
export function maxWorkgroups(limits: GPUSupportedLimits): number {
  return limits.maxComputeWorkgroupsPerDimension ?? 65535;
}
