// The quantized-model file: safetensors holding, for each QuantLinear `<name>`, its packed codes and
// scales under `<name>.weight.qdata` (I32), `<name>.weight.scales` (F32), `<name>.weight.zeros`
// (I32, int4), `<name>.weight.absmax_q` (I32, double-quantized nf4) and `<name>.weight.absmax_offset`
// (F32 [1], double-quantized nf4), every other state-dict tensor under its own name, and in the
// metadata `format: webgrad-quantized`, `format_version` and `quantization`: JSON of each layer's
// scheme, group size, features and double quantization.
//
// Versions: 2 (written now) keeps int4 zero points as 4-bit codes, eight per int32 over the flat
// list of groups ([⌈groups/8⌉]); version 1 (files without `format_version`) kept one int32 per group
// ([out, groups]) and still loads: its zero points are packed on reading. A newer version is a
// QuantizationError naming the file.
//
// Loading goes into the float model the file was made from: the
// layers the metadata names become QuantLinear layers holding the file's codes (exactly), and a file
// whose scheme, shape or size does not fit is a QuantizationError naming the file and the tensor.
import { noGrad, tensor, type Tensor } from '@webgrad/core';
import { QUANT_SCHEMES, codesPerWord, groupsPerRow, packCodes, zeroWords, NF4_DOUBLE_QUANT_BLOCK, type QuantScheme, type QuantizedWeight } from '@webgrad/kernels';
import type { Module } from '../module.js';
import { Linear } from '../layers/linear.js';
import { QuantLinear } from '../layers/quant_linear.js';
import { decodeToFloat32, decodeToFloat64, decodeToInt32, type SafeTensorView } from '../safetensors/codec.js';
import type { SafeDType } from '../safetensors/dtypes.js';
import { parseSafetensors, serializeSafetensors, type ParsedSafetensors, type SafeTensorInput } from '../safetensors/format.js';
import { readSafetensorsFile, writeSafetensorsFile } from '../safetensors/node_io.js';
import { QuantizationError, quantizedLayers } from './quantize.js';

interface LayerMeta { scheme: QuantScheme; group_size: number; in_features: number; out_features: number; double_quant: boolean }

const QUANT_BUFFERS = ['qdata', 'scales', 'zeros', 'absmax_q'] as const;
/** The layout version this library writes (see the file comment). */
export const QUANT_FILE_VERSION = 2;
const SAFE_OF: Record<string, SafeDType> = { float32: 'F32', float64: 'F64', int32: 'I32', bool: 'BOOL' };

async function toInputs(model: Module): Promise<{ tensors: Record<string, SafeTensorInput>; metadata: Record<string, string> }> {
  const layers = quantizedLayers(model);
  const sd = model.stateDict();
  const tensors: Record<string, SafeTensorInput> = {};
  const meta: Record<string, LayerMeta> = {};
  const skip = new Set<string>();
  for (const [n, m] of layers) {
    const p = n === '' ? '' : `${n}.`;
    for (const b of QUANT_BUFFERS) skip.add(`${p}${b}`);
    meta[n] = { scheme: m.scheme, group_size: m.groupSize, in_features: m.inFeatures, out_features: m.outFeatures, double_quant: m.absmax_q !== null };
    tensors[`${p}weight.qdata`] = { dtype: 'I32', shape: [...m.qdata.shape], data: await m.qdata.data() };
    tensors[`${p}weight.scales`] = { dtype: 'F32', shape: [...m.scales.shape], data: await m.scales.data() };
    if (m.zeros) tensors[`${p}weight.zeros`] = { dtype: 'I32', shape: [...m.zeros.shape], data: await m.zeros.data() };
    if (m.absmax_q) {
      tensors[`${p}weight.absmax_q`] = { dtype: 'I32', shape: [...m.absmax_q.shape], data: await m.absmax_q.data() };
      tensors[`${p}weight.absmax_offset`] = { dtype: 'F32', shape: [1], data: Float32Array.of(m.absmaxOffset) };
    }
  }
  for (const [k, t] of Object.entries(sd)) {
    if (skip.has(k)) continue;
    tensors[k] = { dtype: SAFE_OF[t.dtype]!, shape: [...t.shape], data: await t.data() };
  }
  return { tensors, metadata: { format: 'webgrad-quantized', format_version: String(QUANT_FILE_VERSION), quantization: JSON.stringify(meta) } };
}

/** The model (with its QuantLinear layers) as a safetensors file image. */
export async function toQuantizedBytes(model: Module): Promise<Uint8Array> {
  const { tensors, metadata } = await toInputs(model);
  return serializeSafetensors(tensors, metadata);
}

/** Writes the quantized model to `path` (Node, atomically). */
export async function saveQuantized(path: string, model: Module): Promise<void> {
  const { tensors, metadata } = await toInputs(model);
  await writeSafetensorsFile(path, tensors, metadata);
}

/** Loads a quantized file image into the float model it was made from (see the file comment). */
export function fromQuantizedBytes(model: Module, bytes: Uint8Array, source = '<bytes>'): Map<string, QuantLinear> {
  return loadParsed(model, parseSafetensors(bytes, { source }), source);
}

/** Reads a quantized model file (Node) into the float model it was made from. */
export async function loadQuantized(path: string, model: Module): Promise<Map<string, QuantLinear>> {
  return loadParsed(model, await readSafetensorsFile(path), path);
}

/** The file's layout version: 1 when `format_version` is absent; a QuantizationError unless 1 or 2. */
function fileVersion(parsed: ParsedSafetensors, source: string): number {
  const v = parsed.metadata.format_version;
  if (v === undefined) return 1;
  if (v !== '1' && v !== String(QUANT_FILE_VERSION)) {
    throw new QuantizationError(`loadQuantized: "${source}": metadata format_version is ${JSON.stringify(v)}; this library reads versions 1 and ${QUANT_FILE_VERSION}`);
  }
  return Number(v);
}

function layerMetas(parsed: ParsedSafetensors, source: string): Record<string, LayerMeta> {
  const fail = (why: string): never => { throw new QuantizationError(`loadQuantized: "${source}": ${why}`); };
  if (parsed.metadata.format !== 'webgrad-quantized') fail(`metadata format is ${JSON.stringify(parsed.metadata.format)}, expected "webgrad-quantized"`);
  let meta: unknown;
  try { meta = JSON.parse(parsed.metadata.quantization ?? ''); } catch { fail('metadata "quantization" is not JSON'); }
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) fail('metadata "quantization" is not an object of layers');
  for (const [n, l] of Object.entries(meta as Record<string, LayerMeta>)) {
    const bad = (f: string) => fail(`layer ${n}: ${f} is ${JSON.stringify((l as unknown as Record<string, unknown>)?.[f])}`);
    if (typeof l !== 'object' || l === null) fail(`layer ${n}: not an object`);
    if (!QUANT_SCHEMES.includes(l.scheme)) bad('scheme');
    for (const f of ['group_size', 'in_features', 'out_features'] as const) if (!Number.isInteger(l[f]) || l[f] < (f === 'group_size' ? 1 : 0)) bad(f);
    if (typeof l.double_quant !== 'boolean' || (l.double_quant && l.scheme !== 'nf4')) bad('double_quant');
  }
  return meta as Record<string, LayerMeta>;
}

/** Packed zero points from a file's tensor: version 1's one int32 per group (each in [0, 15]) packed eight per word; version 2's words as they are. */
function readZeros(z: Int32Array, version: number, groups: number, where: string): Int32Array {
  if (version !== 1) return z;
  if (z.some((v) => v < 0 || v > 15)) throw new QuantizationError(`loadQuantized: ${where}: zero points must be in [0, 15]`);
  return packCodes(z, 1, groups, 4);
}

function loadParsed(model: Module, parsed: ParsedSafetensors, source: string): Map<string, QuantLinear> {
  const metas = layerMetas(parsed, source);
  const version = fileVersion(parsed, source);
  const modules = new Map(model.namedModules());
  const used = new Set<string>();
  const take = (name: string, dtype: SafeDType, shape: number[]): SafeTensorView => {
    const v = parsed.tensors[name];
    if (!v) throw new QuantizationError(`loadQuantized: "${source}", tensor ${name}: missing`);
    if (v.dtype !== dtype) throw new QuantizationError(`loadQuantized: "${source}", tensor ${name}: dtype ${v.dtype}, expected ${dtype}`);
    if (v.shape.length !== shape.length || v.shape.some((d, i) => d !== shape[i])) {
      throw new QuantizationError(`loadQuantized: "${source}", tensor ${name}: shape [${v.shape.join(', ')}], expected [${shape.join(', ')}]`);
    }
    used.add(name);
    return v;
  };
  // Read and check every layer before converting any, so a bad file leaves the model as it was.
  const plans: [Linear, QuantizedWeight][] = [];
  for (const [n, l] of Object.entries(metas)) {
    const m = modules.get(n);
    if (!(m instanceof Linear) || m instanceof QuantLinear) throw new QuantizationError(`loadQuantized: "${source}": layer ${n} is not a float Linear of the model`);
    if (m.inFeatures !== l.in_features || m.outFeatures !== l.out_features) {
      throw new QuantizationError(`loadQuantized: "${source}": layer ${n} is [${l.out_features}, ${l.in_features}] in the file, the model's Linear is [${m.outFeatures}, ${m.inFeatures}]`);
    }
    if (l.scheme === 'int8' ? l.group_size !== Math.max(1, l.in_features) : l.group_size % 8 !== 0) {
      throw new QuantizationError(`loadQuantized: "${source}": layer ${n}: group_size ${l.group_size} does not fit ${l.scheme}`);
    }
    const p = n === '' ? '' : `${n}.`;
    const where = (t: string) => ({ source, tensor: `${p}weight.${t}` });
    const rows = l.out_features, cols = l.in_features, gpr = groupsPerRow(cols, l.group_size), groups = rows * gpr;
    const q: QuantizedWeight = {
      scheme: l.scheme, rows, cols, groupSize: l.group_size, absmaxOffset: 0,
      qdata: decodeToInt32(take(`${p}weight.qdata`, 'I32', [rows, Math.ceil(cols / codesPerWord(l.scheme))]), where('qdata')),
      scales: decodeToFloat32(take(`${p}weight.scales`, 'F32', l.double_quant ? [Math.ceil(groups / NF4_DOUBLE_QUANT_BLOCK)] : [rows, gpr]), where('scales')),
      zeros: l.scheme === 'int4' ? readZeros(decodeToInt32(take(`${p}weight.zeros`, 'I32', version === 1 ? [rows, gpr] : [zeroWords(groups)]), where('zeros')), version, groups, `"${source}", tensor ${p}weight.zeros`) : null,
      absmaxQ: l.double_quant ? decodeToInt32(take(`${p}weight.absmax_q`, 'I32', [Math.ceil(groups / 4)]), where('absmax_q')) : null,
    };
    if (l.double_quant) q.absmaxOffset = decodeToFloat32(take(`${p}weight.absmax_offset`, 'F32', [1]), where('absmax_offset'))[0]!;
    plans.push([m, q]);
  }
  // The other tensors: every remaining state-dict entry must be in the file, with its shape.
  const owners = new Map<unknown, number>();
  for (const [, mod] of modules) for (const t of mod.parameters({ recurse: false })) owners.set(t, (owners.get(t) ?? 0) + 1);
  const quantWeights = new Set(plans.map(([m]) => m.weight));
  const sd = model.stateDict();
  const prefixes = Object.keys(metas).map((n) => (n === '' ? '' : `${n}.`));
  const rest: [Tensor, SafeTensorView, string][] = [];
  for (const [k, t] of Object.entries(sd)) {
    if (quantWeights.has(t) && prefixes.some((p) => k === `${p}weight`)) continue;
    rest.push([t, take(k, SAFE_OF[t.dtype]!, [...t.shape]), k]);
  }
  const unexpected = Object.keys(parsed.tensors).filter((k) => !used.has(k));
  if (unexpected.length) throw new QuantizationError(`loadQuantized: "${source}": tensors that do not fit the model or its quantization: ${unexpected.slice(0, 10).join(', ')}`);
  const out = new Map<string, QuantLinear>();
  noGrad(() => {
    for (const [t, v, k] of rest) {
      const where = { source, tensor: k };
      const values = t.dtype === 'float32' ? decodeToFloat32(v, where) : t.dtype === 'float64' ? decodeToFloat64(v, where) : decodeToInt32(v, where);
      const src = tensor(values, { shape: t.shape, dtype: t.dtype, device: t.device });
      t.copy_(src);
      src.dispose();
    }
  });
  for (const [m, q] of plans) {
    const name = [...modules].find(([, x]) => x === m)![0];
    out.set(name, QuantLinear.fromQuantized(m, q, { disposeWeight: owners.get(m.weight) === 1 }));
  }
  return out;
}
