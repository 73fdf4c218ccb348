// The safetensors reader refuses every header the writer would refuse to write. For each class of
// bad content (names, dtypes, shapes, sizes, metadata types) the writer is given it through its
// API and the reader through a hand-written header, and both must throw a SafetensorsError. Then a
// property: headers mutated token by token are either refused by the reader or, when read, are
// written back by the writer without complaint and read again to the same tensors.
import { describe, expect, it } from 'vitest';
import { parseSafetensors, SafetensorsError, serializeSafetensors, type SafeDType, type SafeTensorInput } from '../src/safetensors/index.js';

const enc = new TextEncoder();

function rawFile(header: string, data: ArrayLike<number> = []): Uint8Array {
  const h = enc.encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    return (e as SafetensorsError).code;
  }
}

const data8 = [0, 0, 0x80, 0x3f, 0, 0, 0, 0x40];
const f32 = (shape: unknown = [2], dtype: unknown = 'F32', data: unknown = new Float32Array([1, 2])) =>
  ({ dtype, shape, data }) as unknown as SafeTensorInput;
/** A header with one tensor entry; `name` is raw JSON string content (escapes allowed). */
const oneTensor = (name: string, entry = '{"dtype":"F32","shape":[2],"data_offsets":[0,8]}') => `{"${name}":${entry}}`;

interface Refusal {
  what: string;
  /** The same content given to the writer (omitted where its API cannot express it). */
  write?: () => unknown;
  header: string;
  data?: number[];
  /** Expected codes: [writer, reader]. */
  codes: [string | null, string];
}

const refusals: Refusal[] = [
  // names
  { what: 'a name with a lone high surrogate', write: () => serializeSafetensors({ '\uD800': f32() }), header: oneTensor('\\ud800'), data: data8, codes: ['invalid_name', 'invalid_name'] },
  { what: 'a name with a lone low surrogate inside', write: () => serializeSafetensors({ ['a\uDC00b']: f32() }), header: oneTensor('a\\udc00b'), data: data8, codes: ['invalid_name', 'invalid_name'] },
  { what: 'a name with a surrogate pair in the wrong order', write: () => serializeSafetensors({ '\uDE00\uD83D': f32() }), header: oneTensor('\\ude00\\ud83d'), data: data8, codes: ['invalid_name', 'invalid_name'] },
  { what: 'a name with a high surrogate at its end', write: () => serializeSafetensors({ ['w\uD83D']: f32() }), header: oneTensor('w\\ud83d'), data: data8, codes: ['invalid_name', 'invalid_name'] },
  { what: 'the reserved name as a tensor', write: () => serializeSafetensors({ __metadata__: f32() }), header: oneTensor('__metadata__'), data: data8, codes: ['invalid_name', 'invalid_metadata'] },
  { what: 'a duplicate name', header: `{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, data: data8, codes: [null, 'invalid_json'] },
  { what: 'a duplicate name spelled with an escape', header: `{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"\\u0074":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, data: data8, codes: [null, 'invalid_json'] },
  // dtypes
  { what: 'an unknown dtype', write: () => serializeSafetensors({ t: f32([2], 'F33') }), header: oneTensor('t', '{"dtype":"F33","shape":[2],"data_offsets":[0,8]}'), data: data8, codes: ['invalid_dtype', 'invalid_dtype'] },
  { what: 'a lower-case dtype', write: () => serializeSafetensors({ t: f32([2], 'f32') }), header: oneTensor('t', '{"dtype":"f32","shape":[2],"data_offsets":[0,8]}'), data: data8, codes: ['invalid_dtype', 'invalid_dtype'] },
  { what: 'a dtype that is not a string', write: () => serializeSafetensors({ t: f32([2], 4) }), header: oneTensor('t', '{"dtype":4,"shape":[2],"data_offsets":[0,8]}'), data: data8, codes: ['invalid_dtype', 'invalid_dtype'] },
  { what: 'no dtype', write: () => serializeSafetensors({ t: { shape: [2], data: new Float32Array(2) } as unknown as SafeTensorInput }), header: oneTensor('t', '{"shape":[2],"data_offsets":[0,8]}'), data: data8, codes: ['invalid_dtype', 'invalid_dtype'] },
  // shapes
  { what: 'a negative dimension', write: () => serializeSafetensors({ t: f32([-2], 'F32', []) }), header: oneTensor('t', '{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}'), data: data8, codes: ['invalid_shape', 'invalid_shape'] },
  { what: 'a fractional dimension', write: () => serializeSafetensors({ t: f32([1.5]) }), header: oneTensor('t', '{"dtype":"F32","shape":[1.5],"data_offsets":[0,8]}'), data: data8, codes: ['invalid_shape', 'invalid_shape'] },
  { what: 'a dimension that is a string', write: () => serializeSafetensors({ t: f32(['2']) }), header: oneTensor('t', '{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}'), data: data8, codes: ['invalid_shape', 'invalid_shape'] },
  { what: 'a null dimension', write: () => serializeSafetensors({ t: f32([null]) }), header: oneTensor('t', '{"dtype":"F32","shape":[null],"data_offsets":[0,8]}'), data: data8, codes: ['invalid_shape', 'invalid_shape'] },
  { what: 'a nested shape', write: () => serializeSafetensors({ t: f32([[2]]) }), header: oneTensor('t', '{"dtype":"F32","shape":[[2]],"data_offsets":[0,8]}'), data: data8, codes: ['invalid_shape', 'invalid_shape'] },
  { what: 'a shape that is not a list', write: () => serializeSafetensors({ t: f32(2) }), header: oneTensor('t', '{"dtype":"F32","shape":2,"data_offsets":[0,8]}'), data: data8, codes: ['invalid_shape', 'invalid_shape'] },
  { what: 'no shape', write: () => serializeSafetensors({ t: { dtype: 'F32', data: new Float32Array(2) } as unknown as SafeTensorInput }), header: oneTensor('t', '{"dtype":"F32","data_offsets":[0,8]}'), data: data8, codes: ['invalid_shape', 'invalid_shape'] },
  { what: 'a dimension beyond 2^53', write: () => serializeSafetensors({ t: f32([2 ** 53 + 2]) }), header: oneTensor('t', '{"dtype":"F32","shape":[9007199254740994],"data_offsets":[0,8]}'), data: data8, codes: ['invalid_shape', 'invalid_shape'] },
  { what: 'more than 2^53 elements', write: () => serializeSafetensors({ t: f32([2 ** 30, 2 ** 30, 2 ** 30]) }), header: oneTensor('t', '{"dtype":"F32","shape":[1073741824,1073741824,1073741824],"data_offsets":[0,8]}'), data: data8, codes: ['invalid_shape', 'invalid_shape'] },
  // sizes and offsets
  { what: 'data shorter than the shape', write: () => serializeSafetensors({ t: f32([3]) }), header: oneTensor('t', '{"dtype":"F32","shape":[3],"data_offsets":[0,8]}'), data: data8, codes: ['size_mismatch', 'size_mismatch'] },
  { what: 'offsets that are not two integers', header: oneTensor('t', '{"dtype":"F32","shape":[2],"data_offsets":[0,"8"]}'), data: data8, codes: [null, 'invalid_offsets'] },
  // metadata
  { what: 'a metadata value that is a number', write: () => serializeSafetensors({}, { k: 1 as unknown as string }), header: '{"__metadata__":{"k":1}}', codes: ['invalid_metadata', 'invalid_metadata'] },
  { what: 'a metadata value that is null', write: () => serializeSafetensors({}, { k: null as unknown as string }), header: '{"__metadata__":{"k":null}}', codes: ['invalid_metadata', 'invalid_metadata'] },
  { what: 'a metadata value that is an object', write: () => serializeSafetensors({}, { k: {} as unknown as string }), header: '{"__metadata__":{"k":{}}}', codes: ['invalid_metadata', 'invalid_metadata'] },
  { what: 'a metadata value that is a list', write: () => serializeSafetensors({}, { k: ['v'] as unknown as string }), header: '{"__metadata__":{"k":["v"]}}', codes: ['invalid_metadata', 'invalid_metadata'] },
  { what: 'a metadata key with a lone surrogate', write: () => serializeSafetensors({}, { '\uD800k': 'v' }), header: '{"__metadata__":{"\\ud800k":"v"}}', codes: ['invalid_metadata', 'invalid_metadata'] },
  { what: 'a metadata value with a lone surrogate', write: () => serializeSafetensors({}, { k: 'v\uDFFF' }), header: '{"__metadata__":{"k":"v\\udfff"}}', codes: ['invalid_metadata', 'invalid_metadata'] },
  { what: 'metadata that is a string', header: '{"__metadata__":"k=v"}', codes: [null, 'invalid_metadata'] },
  // the header itself
  { what: 'a header that does not start with {', header: ' {"__metadata__":{"k":"v"}}', codes: [null, 'invalid_header'] },
  { what: 'a header that is a list', header: '[]', codes: [null, 'invalid_header'] },
];

describe('the reader refuses what the writer refuses', () => {
  for (const r of refusals) {
    it(r.what, () => {
      if (r.write) expect(codeOf(r.write)).toBe(r.codes[0]);
      expect(codeOf(() => parseSafetensors(rawFile(r.header, r.data), { source: 'x.safetensors' }))).toBe(r.codes[1]);
    });
  }

  it('errors name the file and the tensor, with the lone surrogate escaped', () => {
    let err: SafetensorsError | undefined;
    try { parseSafetensors(rawFile(oneTensor('w\\ud800'), data8), { source: 'model.safetensors' }); } catch (e) { err = e as SafetensorsError; }
    expect(err?.message).toBe('safetensors file "model.safetensors", tensor "w\\ud800": name contains an unpaired UTF-16 surrogate');
    expect(err?.tensor).toBe('w\uD800');
  });

  it('well-formed names and metadata outside the BMP are read and written', () => {
    const bytes = serializeSafetensors({ 'w\u{1F600}': f32() }, { '\u{1F600}': 'v\u{10FFFF}' });
    const p = parseSafetensors(bytes);
    expect(p.names).toEqual(['w\u{1F600}']);
    expect(p.metadata).toEqual({ '\u{1F600}': 'v\u{10FFFF}' });
    expect(parseSafetensors(rawFile(oneTensor('w\\ud83d\\ude00'), data8)).names).toEqual(['w\u{1F600}']);
  });

  it('a lone surrogate written raw (not escaped) is invalid UTF-8', () => {
    const h = rawFile(oneTensor('ab'), data8);
    const at = h.indexOf(0x61); // 'a' -> ED A0 80 would need 3 bytes; replace "ab" by 0xED 0xA0 (truncated encoding)
    h[at] = 0xed;
    h[at + 1] = 0xa0;
    expect(codeOf(() => parseSafetensors(h))).toBe('invalid_utf8');
  });
});

describe('whatever the reader accepts, the writer writes back', () => {
  // Data bytes are 0 or 1, so the data are valid for every dtype (BOOL included).
  const base = '{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[4],"data_offsets":[8,12]}}';
  const data = [1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0];
  const TOKEN = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null|[{}[\],:]/g;
  const replacements = [
    '"\\ud800"', '"a\\udc00"', '"\\ud83d\\ude00"', '"__metadata__"', '"a"', '"b"', '"k"', '""', '"\\u0061"',
    '"F32"', '"F16"', '"BF16"', '"I8"', '"U8"', '"BOOL"', '"I64"', '"F8_E4M3"', '"X"', '"dtype"', '"shape"', '"data_offsets"',
    '-1', '0', '-0', '1', '2', '4', '8', '12', '2.5', '2.0', '1e1', '9007199254740993', 'null', 'true', '[]', '{}', '[2]', '[0,8]', '[1]', ',', ':',
  ];
  it('on 3000 headers mutated token by token', () => {
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    let read = 0;
    for (let k = 0; k < 3000; k++) {
      let header = base;
      for (let m = 1 + rnd(2); m > 0; m--) {
        const tokens = [...header.matchAll(TOKEN)];
        const t = tokens[rnd(tokens.length)]!;
        header = header.slice(0, t.index) + replacements[rnd(replacements.length)]! + header.slice(t.index! + t[0].length);
      }
      let parsed: ReturnType<typeof parseSafetensors>;
      try {
        parsed = parseSafetensors(rawFile(header, data));
      } catch (e) {
        expect(e, header).toBeInstanceOf(SafetensorsError);
        continue;
      }
      read++;
      let again: ReturnType<typeof parseSafetensors>;
      try {
        again = parseSafetensors(serializeSafetensors(parsed.tensors, parsed.metadata));
      } catch (e) {
        throw new Error(`read but not written back: ${header}: ${(e as Error).message}`);
      }
      expect(again.metadata).toEqual(parsed.metadata);
      expect(again.names.slice().sort()).toEqual(parsed.names.slice().sort());
      for (const n of parsed.names) {
        const [x, y] = [parsed.tensors[n]!, again.tensors[n]!];
        expect([y.dtype, y.shape.join(), [...y.data]]).toEqual([x.dtype, x.shape.join(), [...x.data]]);
      }
    }
    // Enough of the mutants are readable for the property to mean something.
    expect(read).toBeGreaterThan(100);
  });

  it('the dtypes the fuzz swaps in are all known', () => {
    for (const d of ['F32', 'F16', 'BF16', 'I8', 'U8', 'BOOL', 'I64', 'F8_E4M3'] as SafeDType[]) {
      expect(codeOf(() => serializeSafetensors({ t: { dtype: d, shape: [0], data: new Uint8Array(0) } }))).toBeNull();
    }
  });
});
