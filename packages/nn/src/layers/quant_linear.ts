// QuantLinear: a Linear whose weight [out, in] is held only as weight-only quantized codes and
// scales (int8 per channel, int4 groups with zero points, NF4 with double-quantized absmax; the
// layout is in @webgrad/kernels cpu/quant_format.ts) and multiplied in that form by core's
// `quantLinear` op. There is no full-precision copy of the weight: `weight` is null, the codes and
// scales are buffers (`qdata`, `scales`, `zeros`, `absmax_q`), the bias stays a float parameter.
//
// It lives in nn beside Linear because it is a layer: `quantize` (quant/quantize.ts) turns Linear
// layers into QuantLinear in place, and LoRA (optim) adds adapters on top of it as on a Linear.
import {
  Tensor, ValueError, checkQuantWeight, data, noGrad, quantLinear, tensor, tidy, type QuantWeight,
} from '@webgrad/core';
import { dequantizeWeight, quantizeWeight, type QuantScheme, type QuantizeOptions, type QuantizedWeight } from '@webgrad/kernels';
import { checkFloatInput } from '../args.js';
import { Linear } from './linear.js';

/** Bits per parameter of the codes alone. */
const CODE_BITS: Record<QuantScheme, number> = { int8: 8, int4: 4, nf4: 4 };

/** A Linear whose weight is held only as quantized codes and scales (see the file comment). */
export class QuantLinear extends Linear {
  /** int8, int4 or nf4. */
  declare scheme: QuantScheme;
  /** Input columns per scale group (int8: all of them). */
  declare groupSize: number;
  /** Double-quantized nf4: the mean absmax added back after the second level (0 otherwise). */
  declare absmaxOffset: number;
  /** int32 [out, ⌈in / codesPerWord⌉]: the packed codes. */
  declare qdata: Tensor;
  /** float32 [out, groups] scales, or for double-quantized nf4 the second-level scales [⌈groups/256⌉]. */
  declare scales: Tensor;
  /** int4: int32 [⌈groups/8⌉], the zero points as 4-bit codes, eight per word; otherwise null. */
  declare zeros: Tensor | null;
  /** Double-quantized nf4: int32 [⌈groups/4⌉], the absmax bytes; otherwise null. */
  declare absmax_q: Tensor | null;

  private constructor() { super(1, 1); throw new ValueError('QuantLinear: create one with QuantLinear.fromLinear or quantize(model, config)'); }

  /** Quantizes `linear`'s weight and turns the layer into a QuantLinear in place (the weight tensor is disposed). */
  static async fromLinear(linear: Linear, opts: QuantizeOptions, convert: ConvertOptions = {}): Promise<QuantLinear> {
    if (!(linear instanceof Linear) || linear instanceof QuantLinear) throw new ValueError('QuantLinear.fromLinear: linear must be a Linear that is not already quantized');
    if (linear.weight.dtype !== 'float32') throw new ValueError(`QuantLinear.fromLinear: the weight must be float32, got ${linear.weight.dtype}`);
    const w = await data(linear.weight);
    const q = quantizeWeight(w, linear.outFeatures, linear.inFeatures, opts);
    return QuantLinear.fromQuantized(linear, q, convert);
  }

  /** Turns `linear` into a QuantLinear holding `q` (whose shape must be its weight's) in place. */
  static fromQuantized(linear: Linear, q: QuantizedWeight, convert: ConvertOptions = {}): QuantLinear {
    if (q.rows !== linear.outFeatures || q.cols !== linear.inFeatures) {
      throw new ValueError(`QuantLinear.fromQuantized: a [${q.rows}, ${q.cols}] weight does not fit a Linear(${linear.inFeatures}, ${linear.outFeatures})`);
    }
    const device = (linear.weight ?? linear.bias)?.device;
    const qw = tensorsOf(q, device);
    checkQuantWeight('QuantLinear', { ...qw, scheme: q.scheme, rows: q.rows, cols: q.cols, groupSize: q.groupSize, absmaxOffset: q.absmaxOffset });
    const old = linear.weight;
    linear.registerParameter('weight', null);
    if (old && convert.disposeWeight !== false) old.dispose();
    Object.setPrototypeOf(linear, QuantLinear.prototype);
    const m = linear as QuantLinear;
    m.scheme = q.scheme;
    m.groupSize = q.groupSize;
    m.absmaxOffset = q.absmaxOffset;
    m.registerBuffer('qdata', qw.qdata);
    m.registerBuffer('scales', qw.scales);
    m.registerBuffer('zeros', qw.zeros);
    m.registerBuffer('absmax_q', qw.absmaxQ);
    return m;
  }

  /** The weight as core's quantLinear reads it. */
  quantWeight(): QuantWeight {
    return {
      scheme: this.scheme, rows: this.outFeatures, cols: this.inFeatures, groupSize: this.groupSize, absmaxOffset: this.absmaxOffset,
      qdata: this.qdata, scales: this.scales, zeros: this.zeros, absmaxQ: this.absmax_q,
    };
  }

  /** The codes and scales as plain arrays. */
  async quantized(): Promise<QuantizedWeight> {
    return {
      scheme: this.scheme, rows: this.outFeatures, cols: this.inFeatures, groupSize: this.groupSize, absmaxOffset: this.absmaxOffset,
      qdata: (await data(this.qdata)) as Int32Array, scales: (await data(this.scales)) as Float32Array,
      zeros: this.zeros ? (await data(this.zeros)) as Int32Array : null, absmaxQ: this.absmax_q ? (await data(this.absmax_q)) as Int32Array : null,
    };
  }

  /** The float32 weight [out, in] the codes stand for (a new tensor). */
  async dequantizedWeight(): Promise<Tensor> {
    return tensor(dequantizeWeight(await this.quantized()), { shape: [this.outFeatures, this.inFeatures], device: this.qdata.device });
  }

  /** Bits per weight element of codes, scales, zeros and absmax codes together. */
  bitsPerParameter(): number {
    const n = this.outFeatures * this.inFeatures;
    const words = this.qdata.size + this.scales.size + (this.zeros?.size ?? 0) + (this.absmax_q?.size ?? 0) + (this.absmax_q ? 1 : 0);
    return n === 0 ? CODE_BITS[this.scheme] : (32 * words) / n;
  }

  /** (*, in) → (*, out) */
  override forward(x: Tensor): Tensor {
    checkFloatInput(this.constructor.name, x);
    return tidy(() => quantLinear(x, this.quantWeight(), this.bias));
  }

  /** Refused: a quantized weight cannot be re-drawn. */
  override resetParameters(): void {
    throw new ValueError('QuantLinear.resetParameters: a quantized weight cannot be re-drawn; dequantize the layer first');
  }

  /** Linear's fields and the scheme. */
  override extraRepr(): string {
    return `${super.extraRepr()}, scheme=${this.scheme}, groupSize=${this.groupSize}${this.absmax_q ? ', doubleQuant' : ''}`;
  }
}

/** Turns a QuantLinear back into a float32 Linear in place (its weight is the dequantized codes). */
export async function dequantizeLinear(m: QuantLinear): Promise<Linear> {
  if (!(m instanceof QuantLinear)) throw new ValueError('dequantizeLinear: not a QuantLinear');
  const w = await m.dequantizedWeight();
  const frozen = m.bias ? !m.bias.requiresGrad : true;
  for (const b of ['qdata', 'scales', 'zeros', 'absmax_q'] as const) {
    const t = m[b];
    m.registerBuffer(b, null);
    t?.dispose();
    delete (m as unknown as Record<string, unknown>)[b];
  }
  for (const k of ['scheme', 'groupSize', 'absmaxOffset']) delete (m as unknown as Record<string, unknown>)[k];
  Object.setPrototypeOf(m, Linear.prototype);
  m.registerParameter('weight', w, { requiresGrad: !frozen });
  return m;
}

function tensorsOf(q: QuantizedWeight, device: Tensor['device'] | undefined): Pick<QuantWeight, 'qdata' | 'scales' | 'zeros' | 'absmaxQ'> {
  const gpr = Math.ceil(q.cols / q.groupSize);
  return noGrad(() => ({
    qdata: tensor(q.qdata, { shape: [q.rows, q.qdata.length / Math.max(1, q.rows)], dtype: 'int32', device }),
    scales: tensor(q.scales, { shape: q.absmaxQ ? [q.scales.length] : [q.rows, gpr], dtype: 'float32', device }),
    zeros: q.zeros ? tensor(q.zeros, { shape: [q.zeros.length], dtype: 'int32', device }) : null,
    absmaxQ: q.absmaxQ ? tensor(q.absmaxQ, { shape: [q.absmaxQ.length], dtype: 'int32', device }) : null,
  }));
}

/** How a Linear is converted: `disposeWeight: false` keeps its float weight alive (another module shares it). */
export interface ConvertOptions {
  /** Dispose the float weight after conversion (default true). */
  disposeWeight?: boolean;
}
