// quantize(model, config) on a GPT: which layers it replaces (targets, skips, the tied LM head),
// outputs equal to the dequantized model's, dequantize back; the quantized file round-trips exactly
// and a file that does not fit is a typed error naming the file and tensor.
import { describe, expect, it } from 'vitest';
import { hasDevice, tensor, type Tensor } from '@webgrad/core';
import { unpackCodes } from '@webgrad/kernels';
import {
  GPT, Linear, QuantLinear, QuantizationError, dequantize, fromQuantizedBytes, parseSafetensors, quantize, quantizedLayers,
  QUANT_FILE_VERSION, serializeSafetensors, toQuantizedBytes, type QuantizeConfig, type SafeTensorInput,
} from '@webgrad/nn';

const CFG = { vocabSize: 23, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 40 };
const idx = (): Tensor => tensor([[1, 5, 7, 2, 9, 22], [0, 3, 3, 8, 1, 4]], { dtype: 'int32' });

function model(): GPT {
  return new GPT(CFG);
}

async function maxDiff(a: Tensor, b: Tensor): Promise<number> {
  const [x, y] = [await a.data(), await b.data()];
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}

describe('quantize', () => {
  for (const config of [{ scheme: 'int8' }, { scheme: 'int4', groupSize: 32 }, { scheme: 'nf4' }] as QuantizeConfig[]) {
    it(`${config.scheme}: replaces every Linear but the tied LM head in place; outputs equal the dequantized model's`, async () => {
      const m = model();
      const block0Attn = [...m.h][0]!.attn;
      const ref = m.forward(idx()).logits;
      const layers = await quantize(m, config);
      expect([...layers.keys()].sort()).toEqual(['h.0.attn.cAttn', 'h.0.attn.cProj', 'h.0.mlp.cFc', 'h.0.mlp.cProj', 'h.1.attn.cAttn', 'h.1.attn.cProj', 'h.1.mlp.cFc', 'h.1.mlp.cProj']);
      expect([...m.h][0]!.attn).toBe(block0Attn);
      expect(block0Attn.cAttn).toBeInstanceOf(QuantLinear);
      expect(m.lmHead).not.toBeInstanceOf(QuantLinear); // shares wte.weight
      for (const [, l] of layers) expect(l.weight).toBeNull();
      expect(Object.keys(m.stateDict()).some((k) => k === 'h.0.attn.cAttn.weight')).toBe(false);
      const yq = m.forward(idx()).logits;
      // Quantization moves the logits, but not far.
      expect(await maxDiff(yq, ref)).toBeLessThan(config.scheme === 'int8' ? 0.05 : 0.5);
      await dequantize(m);
      expect(quantizedLayers(m)).toHaveLength(0);
      expect([...m.h][0]!.attn.cAttn).toBeInstanceOf(Linear);
      expect(await maxDiff(m.forward(idx()).logits, yq)).toBeLessThan(1e-4);
    });
  }

  it('gives the same logits on every device (codes read by the WGSL kernels on webgpu)', async () => {
    const m = model();
    await quantize(m, { scheme: 'nf4' });
    const ref = await m.forward(idx()).logits.data();
    for (const device of hasDevice('webgpu') ? (['webgpu'] as const) : []) {
      m.to(device);
      const y = await m.forward(idx().to(device)).logits.data();
      let d = 0;
      for (let i = 0; i < ref.length; i++) d = Math.max(d, Math.abs(y[i]! - ref[i]!));
      expect(d).toBeLessThan(1e-4);
    }
  });

  it('follows targetModules and skipModules (names and RegExps)', async () => {
    const a = await quantize(model(), { scheme: 'int8', targetModules: ['cFc'] });
    expect([...a.keys()]).toEqual(['h.0.mlp.cFc', 'h.1.mlp.cFc']);
    const b = await quantize(model(), { scheme: 'nf4', targetModules: /h\.\d+\.mlp\..*/, skipModules: ['h.1.mlp.cProj'] });
    expect([...b.keys()]).toEqual(['h.0.mlp.cFc', 'h.0.mlp.cProj', 'h.1.mlp.cFc']);
  });

  it('rejects bad configs with typed errors naming the key', async () => {
    await expect(quantize(model(), { scheme: 'int3' } as unknown as QuantizeConfig)).rejects.toThrow(/config.scheme must be one of/);
    await expect(quantize(model(), { scheme: 'int4', groupSize: 48 })).rejects.toThrow(/groupSize must be 32 or 64/);
    await expect(quantize(model(), { scheme: 'int8', doubleQuant: true })).rejects.toThrow(QuantizationError);
    await expect(quantize(model(), { scheme: 'int8', targetModules: ['nothing'] })).rejects.toThrow(/no Linear layer to quantize matches/);
    await expect(quantize(model(), { scheme: 'int8', bogus: 1 } as unknown as QuantizeConfig)).rejects.toThrow(/unknown config key 'bogus'/);
  });
});

describe('quantized file', () => {
  for (const config of [{ scheme: 'int8' }, { scheme: 'int4', groupSize: 64 }, { scheme: 'nf4' }, { scheme: 'nf4', doubleQuant: false }] as QuantizeConfig[]) {
    it(`${config.scheme}${config.doubleQuant === false ? ' (no double quant)' : ''}: save and load round-trip exactly`, async () => {
      const m = model();
      await quantize(m, config);
      const bytes = await toQuantizedBytes(m);
      const parsed = parseSafetensors(bytes);
      expect(parsed.metadata.format).toBe('webgrad-quantized');
      expect(JSON.parse(parsed.metadata.quantization!)['h.0.mlp.cFc'].scheme).toBe(config.scheme);
      expect(parsed.tensors['h.0.mlp.cFc.weight.qdata']!.dtype).toBe('I32');
      expect(parsed.tensors['h.0.mlp.cFc.weight.scales']!.dtype).toBe('F32');
      if (config.scheme === 'int4') expect(parsed.tensors['h.0.mlp.cFc.weight.zeros']!.dtype).toBe('I32');
      if (config.scheme === 'nf4' && config.doubleQuant !== false) expect(parsed.tensors['h.0.mlp.cFc.weight.absmax_q']!.dtype).toBe('I32');
      const fresh = model();
      const loaded = fromQuantizedBytes(fresh, bytes, 'model.safetensors');
      expect(loaded.size).toBe(8);
      expect(await toQuantizedBytes(fresh)).toEqual(bytes);
      expect(await maxDiff(fresh.forward(idx()).logits, m.forward(idx()).logits)).toBe(0);
    });
  }

  it('a file with a wrong scheme, shape or size names the file and tensor', async () => {
    const m = model();
    await quantize(m, { scheme: 'int4', groupSize: 32 });
    const parsed = parseSafetensors(await toQuantizedBytes(m));
    const rebuild = (edit: (t: Record<string, { dtype: string; shape: number[]; data: Uint8Array }>, meta: Record<string, string>) => void): Uint8Array => {
      const tensors = Object.fromEntries(Object.entries(parsed.tensors).map(([k, v]) => [k, { dtype: v.dtype, shape: [...v.shape], data: v.data.slice() }]));
      const meta = { ...parsed.metadata };
      edit(tensors, meta);
      const inputs = Object.fromEntries(Object.entries(tensors).map(([k, v]) => [k, { dtype: v.dtype as 'F32', shape: v.shape, data: v.dtype === 'I32' ? new Int32Array(v.data.buffer) : new Float32Array(v.data.buffer) }]));
      return serializeSafetensors(inputs, meta);
    };
    const meta = JSON.parse(parsed.metadata.quantization!);
    const wrongScheme = rebuild((_, md) => { md.quantization = JSON.stringify({ ...meta, 'h.0.mlp.cFc': { ...meta['h.0.mlp.cFc'], scheme: 'nf4' } }); });
    expect(() => fromQuantizedBytes(model(), wrongScheme, 'q.safetensors')).toThrow(/"q.safetensors": tensors that do not fit the model or its quantization: h\.0\.mlp\.cFc\.weight\.zeros/);
    const badScheme = rebuild((_, md) => { md.quantization = JSON.stringify({ ...meta, 'h.0.mlp.cFc': { ...meta['h.0.mlp.cFc'], scheme: 'int2' } }); });
    expect(() => fromQuantizedBytes(model(), badScheme, 'q.safetensors')).toThrow(/"q.safetensors": layer h\.0\.mlp\.cFc: scheme is "int2"/);
    const shortScales = rebuild((t) => { const s = t['h.1.attn.cProj.weight.scales']!; s.shape = [s.shape[0]! - 1, s.shape[1]!]; s.data = s.data.slice(0, s.data.length - 4 * s.shape[1]!); });
    expect(() => fromQuantizedBytes(model(), shortScales, 'q.safetensors')).toThrow(/"q.safetensors", tensor h\.1\.attn\.cProj\.weight\.scales: shape \[39, 2\], expected \[40, 2\]/);
    const floatCodes = rebuild((t) => { t['h.0.attn.cAttn.weight.qdata']!.dtype = 'F32'; });
    expect(() => fromQuantizedBytes(model(), floatCodes, 'q.safetensors')).toThrow(/tensor h\.0\.attn\.cAttn\.weight\.qdata: dtype F32, expected I32/);
    const missing = rebuild((t) => { delete t['lnF.bias']; });
    expect(() => fromQuantizedBytes(model(), missing, 'q.safetensors')).toThrow(/tensor lnF\.bias: missing/);
    const other = model();
    expect(() => fromQuantizedBytes(new GPT({ ...CFG, nEmbd: 48 }), wrongScheme, 'q.safetensors')).toThrow(QuantizationError);
    expect(quantizedLayers(other)).toHaveLength(0);
  });
  it('writes format_version 2 (int4 zero points packed eight per int32), reads version 1 files (one int32 per group), and names the file for a newer version', async () => {
    const m = model();
    await quantize(m, { scheme: 'int4', groupSize: 32 });
    const bytes = await toQuantizedBytes(m);
    const parsed = parseSafetensors(bytes);
    expect(parsed.metadata.format_version).toBe(String(QUANT_FILE_VERSION));
    expect(QUANT_FILE_VERSION).toBe(2);
    const meta = JSON.parse(parsed.metadata.quantization!) as Record<string, { in_features: number; out_features: number; group_size: number }>;
    // cFc is [160, 40] in groups of 32: 2 groups per row, 320 zero points in 40 words.
    expect(parsed.tensors['h.0.mlp.cFc.weight.zeros']!.shape).toEqual([40]);
    const tensors: Record<string, SafeTensorInput> = {};
    for (const [k, v] of Object.entries(parsed.tensors)) {
      const raw = v.data.slice();
      const data = v.dtype === 'I32' ? new Int32Array(raw.buffer) : new Float32Array(raw.buffer);
      const layer = k.endsWith('.weight.zeros') ? meta[k.slice(0, -'.weight.zeros'.length)]! : null;
      if (layer) {
        const gpr = Math.ceil(layer.in_features / layer.group_size);
        tensors[k] = { dtype: 'I32', shape: [layer.out_features, gpr], data: Int32Array.from(unpackCodes(data as Int32Array, 1, layer.out_features * gpr, 4)) };
      } else tensors[k] = { dtype: v.dtype as 'F32', shape: [...v.shape], data };
    }
    const { format_version: _, ...v1meta } = parsed.metadata;
    const v1 = model();
    fromQuantizedBytes(v1, serializeSafetensors(tensors, v1meta), 'old.safetensors');
    expect(await toQuantizedBytes(v1)).toEqual(bytes); // loaded, re-packed: the version 2 file again
    expect(await maxDiff(v1.forward(idx()).logits, m.forward(idx()).logits)).toBe(0);
    const outOfRange = { ...tensors, 'h.0.mlp.cFc.weight.zeros': { ...tensors['h.0.mlp.cFc.weight.zeros']!, data: new Int32Array(320).fill(16) } };
    expect(() => fromQuantizedBytes(model(), serializeSafetensors(outOfRange, v1meta), 'old.safetensors')).toThrow(/"old.safetensors", tensor h\.0\.mlp\.cFc\.weight\.zeros: zero points must be in \[0, 15\]/);
    const newer = serializeSafetensors(tensors, { ...parsed.metadata, format_version: '3' });
    expect(() => fromQuantizedBytes(model(), newer, 'new.safetensors')).toThrow(QuantizationError);
    expect(() => fromQuantizedBytes(model(), newer, 'new.safetensors')).toThrow(/"new.safetensors": metadata format_version is "3"/);
  });
});
