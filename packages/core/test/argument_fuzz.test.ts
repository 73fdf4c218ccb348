// Argument fuzzing over the public API. Each op in the table has a valid call; every argument is
// replaced in turn by values of the wrong kind — NaN, ±Infinity, fractions, negatives, sizes of 10¹²
// elements, out-of-range dims, a 0-d tensor where a dim is needed, `true`/`'x'`/null/an options
// object where a number goes, `true` where an options object goes, unknown option keys and values,
// unknown dtypes and devices. Each such call must throw a WebgradError whose message starts with the
// public op's name, and leave memory().tensors as it was. The valid calls (and the listed variants:
// negative dims, keepdim, dim lists, empty sizes) must succeed. Runs on every device present.
import { describe, expect, it } from 'vitest';
import * as wg from '@webgrad/core';
import type { DeviceName, Tensor } from '@webgrad/core';
import { testDevices } from './helpers.js';

/** What an argument is; each kind has its list of wrong values. */
type Kind =
  | 'tensor' | 'optTensor' | 'tensor1' | 'tensorList' | 'operand' | 'data'
  | 'dim' | 'dims' | 'dimList' | 'size' | 'count' | 'int' | 'finite' | 'number' | 'optNumber' | 'scalar' | 'prob' | 'bool'
  | 'dtype' | 'device' | 'target' | 'enum' | 'shape' | 'viewShape' | 'sizes' | 'pads' | 'pair0' | 'pair1' | 'optPair1'
  | 'name' | 'fn' | 'array' | 'options';

interface Arg {
  kind: Kind;
  /** The value in the valid call. */
  value: unknown;
  /** Other values that must be accepted. */
  good?: unknown[];
  /** Wrong values beyond those of the kind (values only wrong for this op). */
  bad?: unknown[];
  /** For options: each known key's kind (its valid value is in `value`). */
  keys?: Record<string, Arg>;
}

interface Case {
  /** The public name every error must start with. */
  op: string;
  args: Arg[];
  call: (...args: any[]) => unknown;
  /** Also call it as this Tensor method on args[0]. */
  method?: string;
  /** Only the wrong calls run (a valid call would change the process, e.g. open the GPU). */
  badOnly?: boolean;
}

const A = (kind: Kind, value: unknown, more: Partial<Arg> = {}): Arg => ({ kind, value, ...more });
const opts = (value: object, keys: Record<string, Arg>, more: Partial<Arg> = {}): Arg => ({ kind: 'options', value, keys, good: [undefined], ...more });

interface Inputs { [name: string]: Tensor }

function inputs(device: DeviceName): Inputs {
  const t = (data: wg.NestedArray, dtype?: wg.DType) => wg.tensor(data, { device, dtype });
  return {
    x: t([[1, 2, 3], [4, 5, 6]], 'float32'), // [2, 3]
    x0: t(1.5), // 0-d
    col: wg.zeros([3, 1], { device }),
    mask: t([[true, false, true], [false, true, false]]),
    idx: t([[0], [2]]), // int32 [2, 1]
    idx1: t([0, 2]),
    src: wg.ones([2, 1], { device }),
    targets: t([0, 2]),
    classWeight: wg.ones([3], { device }),
    w3: wg.ones([3], { device }),
    b3: wg.zeros([3], { device }),
    q: wg.ones([1, 1, 2, 4], { device }),
    qkv: wg.ones([1, 2, 6], { device }),
    amask: wg.zeros([2, 2], { device }),
    img: wg.ones([1, 2, 4, 4], { device }),
    weight: wg.ones([2, 2, 3, 3], { device }),
    bias: wg.zeros([2], { device }),
    emb: wg.ones([3, 2], { device }),
    ids: t([0, 1]),
    s: wg.zeros([2], { device }), // written in place
    s2: wg.ones([2], { device }),
    g: wg.zeros([2], { device }), // requiresGrad_ target
    p: wg.ones([2], { device }), // an AdamW step's parameter and moments, written in place
    pm: wg.zeros([2], { device }),
    pv: wg.zeros([2], { device }),
  };
}

const NOT_A_NUMBER = [true, 'x', null, {}, [1], { keepdim: true }];

function badValues(kind: Kind, T: Inputs): unknown[] {
  switch (kind) {
    case 'tensor': return ['x', 5, null, undefined, {}, [1, 2], true];
    case 'optTensor': return ['x', 5, {}, [1, 2], true];
    case 'tensor1': return [T.x0, 'x', 5, null, {}, [1, 2]];
    case 'tensorList': return [[], 'x', null, 5, {}, T.x, [T.x, 'x']];
    case 'operand': return ['x', null, undefined, {}, [1]];
    case 'data': return ['x', null, {}, [[1, 2], [3]], [1, 'a'], [undefined], [[1], 2]];
    case 'dim': return [NaN, Infinity, -Infinity, 1.5, 99, -99, 1e12, ...NOT_A_NUMBER];
    case 'dims': return [NaN, 1.5, 99, -99, 1e12, [0, 0], [NaN], ['x'], [0, 99], true, 'x', null, {}, { keepdim: true }];
    case 'dimList': return [[0], [0, 0], [0, 99], [0, 1.5], [0, NaN], [0, 'x'], 5, 'x', null, {}];
    case 'size': return [NaN, Infinity, -Infinity, -1, 1.5, ...NOT_A_NUMBER];
    case 'count': return [0, NaN, Infinity, -1, 1.5, ...NOT_A_NUMBER];
    case 'int': return [NaN, Infinity, -Infinity, 1.5, ...NOT_A_NUMBER];
    case 'finite': return [NaN, Infinity, -Infinity, ...NOT_A_NUMBER];
    case 'number': return ['x', null, {}, [1], true, { keepdim: true }];
    case 'optNumber': return ['x', {}, [1], true, { keepdim: true }];
    case 'scalar': return ['x', null, undefined, {}, [1]];
    case 'prob': return [-0.1, 1.5, NaN, Infinity, ...NOT_A_NUMBER];
    case 'bool': return [1, 0, 'true', null, {}, { keepdim: true }];
    case 'dtype': return ['float8', 'int64', 'Float32', '', 1, null, {}, true];
    case 'device': return ['gpu', 'cuda', '', 1, null, {}, true, ...(wg.hasDevice('webgpu') ? [] : ['webgpu'])];
    case 'target': return ['float8', 'gpu', 'x', '', 1, null, {}, true];
    case 'enum': return ['avg', '', 'MEAN', 1, null, true, {}];
    case 'shape': return [[NaN], [-1], [1.5], [2, Infinity], [1e6, 1e6], [2 ** 40, 2 ** 40], [true], ['2'], 5, 'x', null, {}, true];
    case 'viewShape': return [[NaN], [-2], [1.5], [Infinity], ['2'], 5, 'x', null, {}, true];
    case 'sizes': return [0, -1, 1.5, NaN, Infinity, 'x', null, {}, true, [1, 'x'], [1, -1], [1, 1], [1.5, 1.5]];
    case 'pads': return [[1], [1, NaN], [1, -1], [1, 1.5], [1, 1, 1, 1, 1, 1], [1e12, 1e12], 5, 'x', null, {}, true];
    case 'pair0': return [-1, 1.5, NaN, Infinity, [1], [1, 2, 3], [1, -1], [1, NaN], 'x', null, {}, true];
    case 'pair1': return [null, ...badValues('optPair1', T)];
    case 'optPair1': return [0, -1, 1.5, NaN, Infinity, [1], [1, 2, 3], [1, 0], [1, NaN], 'x', {}, true];
    case 'name': return ['', 1, null, {}, true];
    case 'fn': return ['x', 5, null, {}, true];
    case 'array': return ['x', 5, {}, true];
    case 'options': return [true, false, 1, 'x', [], null, T.x0];
  }
}

/** Every wrong value for `arg`: its kind's, its own, and for options each key's wrong values. */
function badsOf(arg: Arg, T: Inputs): unknown[] {
  const out = [...badValues(arg.kind, T), ...(arg.bad ?? [])];
  if (arg.kind === 'options') {
    const base = arg.value as object;
    out.push({ ...base, bogus: 1 });
    for (const [k, a] of Object.entries(arg.keys ?? {})) {
      for (const b of badsOf(a, T)) out.push({ ...base, [k]: b });
    }
  }
  return out;
}

/** Every other valid value for `arg`: its own, and for options each key's valid values. */
function goodsOf(arg: Arg): unknown[] {
  const out = [...(arg.good ?? [])];
  if (arg.kind === 'options') {
    for (const [k, a] of Object.entries(arg.keys ?? {})) for (const g of a.good ?? []) out.push({ ...(arg.value as object), [k]: g });
  }
  return out;
}

function cases(T: Inputs, device: DeviceName): Case[] {
  const createKeys = { dtype: A('dtype', 'float32'), device: A('device', device), requiresGrad: A('bool', false) };
  const create = (more: Partial<Arg> = {}) => opts({ device }, createKeys, {
    good: [undefined, { device, dtype: 'int32' }, { device, requiresGrad: true }],
    bad: [{ device, dtype: 'int32', requiresGrad: true }],
    ...more,
  });
  const floatCreate = create({ good: [undefined, { device, requiresGrad: true }], bad: [{ device, dtype: 'int32' }, { device, dtype: 'bool' }] });
  const shape = A('shape', [2, 3], { good: [[], [0], [2, 0, 3]] });
  const keepdim = opts({}, { keepdim: A('bool', false) }, { good: [undefined, { keepdim: true }] });
  const varOpts = opts({}, { keepdim: A('bool', false), correction: A('finite', 1, { bad: [-1] }) }, { good: [undefined, { keepdim: true, correction: 0 }] });
  const dims = A('dims', 1, { good: [undefined, -1, 0, [0, 1], [-1, 0]] });
  const ceKeys = {
    ignoreIndex: A('int', -100, { good: [0] }),
    labelSmoothing: A('prob', 0, { good: [0.1], bad: [1] }),
    reduction: A('enum', 'mean', { good: ['sum', 'none'] }),
    weight: A('optTensor', T.classWeight, { good: [undefined, null] }),
  };
  const attnKeys = { mask: A('optTensor', T.amask, { good: [null] }), isCausal: A('bool', false, { good: [true] }), scale: A('finite', 0.5) };
  const lnArgs = [
    A('tensor', T.x), A('shape', [3], { bad: [[], [2], [4], [2, 3]] }),
    A('optTensor', T.w3, { good: [null, undefined] }), A('optTensor', T.b3, { good: [null, undefined] }),
    A('finite', 1e-5, { good: [0, undefined], bad: [-1] }),
  ];
  /** A tiny graph for the autograd entry points, disposed whatever happens. */
  const withGraph = (f: (y: Tensor, x: Tensor) => unknown) => {
    const x = wg.ones([2], { device, requiresGrad: true });
    try {
      wg.tidy(() => {
        const r = f(x.mul(2).sum(), x);
        if (Array.isArray(r)) for (const g of r) (g as Tensor | null)?.dispose();
      });
    } finally {
      x.grad?.dispose();
      x.dispose();
    }
  };
  const binaryOps = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'remainder', 'eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;
  const reductions = ['sum', 'prod', 'max', 'min', 'mean', 'logsumexp'] as const;

  return [
    // ---- creation
    { op: 'zeros', args: [shape, create()], call: wg.zeros },
    { op: 'ones', args: [shape, create()], call: wg.ones },
    { op: 'full', args: [shape, A('scalar', 1.5, { good: [NaN, -Infinity, true] }), create()], call: wg.full },
    { op: 'rand', args: [shape, floatCreate], call: wg.rand },
    { op: 'randn', args: [shape, floatCreate], call: wg.randn },
    { op: 'zerosLike', args: [A('tensor', T.x), create()], call: wg.zerosLike },
    { op: 'onesLike', args: [A('tensor', T.x), create()], call: wg.onesLike },
    { op: 'fullLike', args: [A('tensor', T.x), A('scalar', 2, { good: [NaN] }), create()], call: wg.fullLike },
    {
      op: 'tensor',
      args: [
        A('data', [[1, 2], [3, 4]], { good: [[], 5, [[true, false]], new Int32Array([1, 2, 3, 4])] }),
        opts({ device }, { ...createKeys, shape: A('shape', [4], { bad: [[5]] }) }, { good: [undefined, { device, dtype: 'float32' }] }),
      ],
      call: wg.tensor,
    },
    {
      op: 'arange',
      args: [A('finite', 0, { good: [0.5, -3] }), A('finite', 4, { good: [undefined, 0], bad: [1e12] }), A('finite', 1, { good: [0.5], bad: [0, -1, 1e-12] }),
        create({ good: [undefined, { device, dtype: 'float32', requiresGrad: true }], bad: [{ device, requiresGrad: true }] })],
      call: wg.arange,
    },
    { op: 'linspace', args: [A('finite', 0), A('finite', 1), A('size', 5, { good: [0, 1], bad: [1e12] }), create()], call: wg.linspace },
    { op: 'eye', args: [A('size', 2, { good: [0], bad: [1e12] }), A('size', 3, { good: [undefined, 0], bad: [1e12] }), create()], call: wg.eye },
    {
      op: 'randint',
      args: [A('int', 0, { good: [-3] }), A('int', 5, { bad: [0, -3] }), shape,
        opts({ device }, createKeys, { good: [undefined, { device, dtype: 'float32' }], bad: [{ device, requiresGrad: true }] })],
      call: wg.randint,
    },
    { op: 'manualSeed', args: [A('size', 7, { good: [0, 2 ** 40], bad: [2 ** 53, 1e300] })], call: wg.manualSeed },
    { op: 'setRngState', args: [opts({ seed: 1, offset: 0 }, { seed: A('size', 1), offset: A('size', 0) }, { good: [], bad: [undefined, {}, { seed: 1 }] })], call: wg.setRngState },

    // ---- views
    { op: 'reshape', method: 'reshape', args: [A('tensor', T.x), A('viewShape', [3, 2], { good: [[-1], [6, 1], [1, -1, 3]], bad: [[4, 2], [7, -1], [-1, -1], [1e6, 1e6]] })], call: wg.reshape },
    { op: 'view', method: 'view', args: [A('tensor', T.x), A('viewShape', [3, 2], { good: [[-1], [6, 1]], bad: [[4, 2], [-1, -1]] })], call: wg.view },
    { op: 'permute', method: 'permute', args: [A('tensor', T.x), A('dimList', [1, 0], { good: [[-1, 0], [0, 1]] })], call: wg.permute },
    { op: 'transpose', method: 'transpose', args: [A('tensor', T.x), A('dim', 0, { good: [-1, undefined] }), A('dim', 1, { good: [-2, 0] })], call: wg.transpose },
    { op: 'transpose', method: 'transpose', args: [A('tensor', T.x0), A('dim', 0, { good: [-1] }), A('dim', -1, { good: [0] })], call: wg.transpose },
    { op: 'expand', method: 'expand', args: [A('tensor', T.col), A('viewShape', [3, 4], { good: [[2, 3, 4], [-1, 4], [3, 0]], bad: [[4, 4], [3, -2], [-1, 3, 4], [4]] })], call: wg.expand },
    { op: 'squeeze', method: 'squeeze', args: [A('tensor', T.col), A('dims', 1, { good: [undefined, -1, 0, [0, 1]] })], call: wg.squeeze },
    { op: 'unsqueeze', method: 'unsqueeze', args: [A('tensor', T.x), A('dim', 0, { good: [2, -1, -3] })], call: wg.unsqueeze },
    { op: 'unsqueeze', method: 'unsqueeze', args: [A('tensor', T.x0), A('dim', 0, { good: [-1] })], call: wg.unsqueeze },
    { op: 'flatten', method: 'flatten', args: [A('tensor', T.x), A('dim', 0, { good: [undefined, -2, 1] }), A('dim', -1, { good: [undefined, 1] })], call: wg.flatten },
    { op: 'flatten', method: 'flatten', args: [A('tensor', T.x0), A('dim', 0, { good: [-1, undefined] }), A('dim', -1)], call: wg.flatten },
    {
      op: 'slice', method: 'slice',
      args: [A('tensor1', T.x), A('dim', 1, { good: [-1, 0] }), A('int', 0, { good: [-2, 1e12, -1e12, undefined] }), A('int', 3, { good: [undefined, 1e12, -1, 0] }), A('count', 1, { good: [2, 1e12, undefined] })],
      call: wg.slice,
    },
    { op: 'narrow', method: 'narrow', args: [A('tensor1', T.x), A('dim', 1, { good: [-1] }), A('int', 1, { good: [-2, 0], bad: [1e12, 3, -99] }), A('size', 2, { good: [0], bad: [1e12, 3] })], call: wg.narrow },
    { op: 'select', method: 'select', args: [A('tensor1', T.x), A('dim', 0, { good: [-1, 1] }), A('int', 1, { good: [-1, 0], bad: [2, -3, 1e12] })], call: wg.select },

    // ---- building from pieces
    { op: 'cat', args: [A('tensorList', [T.x, T.x], { good: [[T.x]], bad: [[T.x0, T.x0], [T.x, T.col]] }), A('dim', 0, { good: [1, -1] })], call: wg.cat },
    { op: 'stack', args: [A('tensorList', [T.x, T.x], { good: [[T.x]], bad: [[T.x, T.col]] }), A('dim', 0, { good: [2, -1] })], call: wg.stack },
    { op: 'stack', args: [A('tensorList', [T.x0, T.x0]), A('dim', 0, { good: [-1] })], call: wg.stack },
    { op: 'split', method: 'split', args: [A('tensor1', T.x), A('sizes', 2, { good: [[1, 2], 1, 3, 5, [3, 0]] }), A('dim', 1, { good: [-1, undefined] })], call: wg.split },
    { op: 'chunk', method: 'chunk', args: [A('tensor1', T.x), A('count', 2, { good: [1, 3, 1e12] }), A('dim', 1, { good: [-1, undefined] })], call: wg.chunk },
    { op: 'pad', args: [A('tensor', T.x), A('pads', [1, 1], { good: [[], [0, 0, 1, 2]] }), A('number', 0, { good: [NaN, -Infinity, undefined] })], call: wg.pad },
    { op: 'tril', method: 'tril', args: [A('tensor', T.x, { bad: [T.x0, T.w3] }), A('int', 0, { good: [-1, 1e12, undefined] })], call: wg.tril },
    { op: 'triu', method: 'triu', args: [A('tensor', T.x, { bad: [T.x0, T.w3] }), A('int', 0, { good: [-1, 1e12, undefined] })], call: wg.triu },

    // ---- reductions
    ...reductions.map((op): Case => ({ op, method: op, args: [A('tensor', T.x), dims, keepdim], call: wg[op] as Case['call'] })),
    { op: 'var', method: 'var', args: [A('tensor', T.x), dims, varOpts], call: wg.variance },
    { op: 'std', method: 'std', args: [A('tensor', T.x), dims, varOpts], call: wg.std },
    { op: 'argmax', method: 'argmax', args: [A('tensor', T.x), A('dim', 1, { good: [undefined, -1, 0] }), keepdim], call: wg.argmax },
    { op: 'argmin', method: 'argmin', args: [A('tensor', T.x), A('dim', 1, { good: [undefined, -1, 0] }), keepdim], call: wg.argmin },

    // ---- fused ops
    { op: 'softmax', method: 'softmax', args: [A('tensor', T.x), A('dim', -1, { good: [0, undefined] })], call: wg.softmax },
    { op: 'logSoftmax', method: 'logSoftmax', args: [A('tensor', T.x), A('dim', -1, { good: [0, undefined] })], call: wg.logSoftmax },
    { op: 'softmaxDecomposed', args: [A('tensor', T.x), A('dim', -1, { good: [0] })], call: wg.softmaxDecomposed },
    { op: 'logSoftmaxDecomposed', args: [A('tensor', T.x), A('dim', -1, { good: [0] })], call: wg.logSoftmaxDecomposed },
    { op: 'crossEntropy', args: [A('tensor', T.x), A('tensor', T.targets), opts({}, ceKeys)], call: wg.crossEntropy },
    { op: 'crossEntropyDecomposed', args: [A('tensor', T.x, { bad: [T.x0] }), A('tensor', T.targets), opts({}, ceKeys)], call: wg.crossEntropyDecomposed },
    { op: 'layerNorm', args: lnArgs, call: wg.layerNorm },
    { op: 'layerNormDecomposed', args: lnArgs, call: wg.layerNormDecomposed },
    { op: 'scaledDotProductAttention', args: [A('tensor', T.q), A('tensor', T.q), A('tensor', T.q), opts({}, attnKeys)], call: wg.scaledDotProductAttention },
    { op: 'attentionDecomposed', args: [A('tensor', T.q, { bad: [T.w3] }), A('tensor', T.q), A('tensor', T.q), opts({}, attnKeys)], call: wg.attentionDecomposed },
    { op: 'packedSelfAttention', args: [A('tensor', T.qkv), A('count', 2, { good: [1], bad: [4, 1e12] }), opts({}, attnKeys)], call: wg.packedSelfAttention },
    { op: 'dropout', args: [A('tensor', T.x), A('prob', 0.5, { good: [0, 1, undefined] }), A('bool', true, { good: [false, undefined] })], call: wg.dropout },
    {
      op: 'conv2d',
      args: [A('tensor', T.img), A('tensor', T.weight), A('optTensor', T.bias, { good: [null, undefined] }),
        opts({}, {
          stride: A('pair1', 1, { good: [[1, 2], 2] }),
          padding: A('pair0', 0, { good: [1, [1, 0]], bad: [1e12] }),
          dilation: A('pair1', 1, { good: [[1, 1]], bad: [3] }),
          groups: A('count', 1, { bad: [3, 1e12] }),
        })],
      call: wg.conv2d,
    },
    ...(['maxPool2d', 'avgPool2d'] as const).map((op): Case => ({
      op,
      args: [A('tensor', T.img), A('pair1', 2, { good: [[2, 1], 3], bad: [5, 1e12] }),
        opts({}, { stride: A('optPair1', 2, { good: [1, [1, 2], null] }), padding: A('pair0', 0, { good: [1], bad: [2] }) })],
      call: wg[op],
    })),
    { op: 'convOutSize', args: [A('size', 4), A('count', 3), A('count', 1), A('size', 0), A('count', 1)], call: wg.convOutSize },

    // ---- indexing
    { op: 'gather', method: 'gather', args: [A('tensor1', T.x), A('dim', 1, { good: [-1] }), A('tensor', T.idx)], call: wg.gather },
    { op: 'scatterAdd', method: 'scatterAdd', args: [A('tensor1', T.x), A('dim', 1, { good: [-1] }), A('tensor', T.idx), A('tensor', T.src)], call: wg.scatterAdd },
    { op: 'indexSelect', method: 'indexSelect', args: [A('tensor1', T.x), A('dim', 1, { good: [-1] }), A('tensor', T.idx1)], call: wg.indexSelect },
    { op: 'embedding', args: [A('tensor', T.emb), A('tensor', T.ids)], call: wg.embedding },
    // An id beyond numClasses is found at once on the CPU, at the next read on the GPU: tried on the CPU only.
    { op: 'oneHot', args: [A('tensor', T.ids), A('count', 3, { good: [2], bad: [1e12, ...(device === 'cpu' ? [1] : [])] })], call: wg.oneHot },

    // ---- elementwise
    ...binaryOps.map((op): Case => ({ op, method: op, args: [A('tensor', T.x), A('operand', 2, { good: [0.5, NaN, true, T.x] })], call: wg[op] as Case['call'] })),
    { op: 'add', args: [A('operand', 1, { good: [T.x] }), A('operand', T.x, { bad: [2, true] })], call: wg.add },
    { op: 'matmul', method: 'matmul', args: [A('tensor', T.x), A('tensor', T.col)], call: wg.matmul },
    { op: 'promoteTypes', args: [A('dtype', 'int32', { good: ['bool', 'float64'] }), A('dtype', 'float32')], call: wg.promoteTypes },
    { op: 'clamp', method: 'clamp', args: [A('tensor', T.x), A('optNumber', 0, { good: [null, undefined, NaN, -Infinity] }), A('optNumber', 1, { good: [null, undefined, Infinity] })], call: wg.clamp },
    { op: 'where', args: [A('tensor', T.mask), A('operand', T.x, { good: [1] }), A('operand', 0, { good: [T.x] })], call: wg.where },
    { op: 'maskedFill', method: 'maskedFill', args: [A('tensor', T.x), A('tensor', T.mask), A('scalar', 0, { good: [NaN] })], call: wg.maskedFill },
    { op: 'binary', args: [A('enum', 'add', { good: ['mod', 'logicalAnd'] }), A('operand', T.x), A('operand', 2, { good: [T.x] })], call: wg.binary },
    { op: 'unary', args: [A('enum', 'exp', { good: ['relu', 'logicalNot'] }), A('tensor', T.x)], call: wg.unary },
    { op: 'exp', method: 'exp', args: [A('tensor', T.x)], call: wg.exp },
    { op: 'gelu', method: 'gelu', args: [A('tensor', T.x), opts({}, { approximate: A('enum', 'none', { good: ['tanh'] }) })], call: wg.gelu },

    // ---- dtypes and devices
    { op: 'cast', args: [A('tensor', T.x), A('dtype', 'int32', { good: ['float32', 'bool'] })], call: wg.cast },
    { op: 'to', method: 'to', args: [A('tensor', T.x), A('target', 'int32', { good: ['float32', device] })], call: wg.to },
    { op: 'toAsync', method: 'toAsync', args: [A('tensor', T.x), A('target', 'int32', { good: ['float32', device, 'cpu'] })], call: wg.toAsync },
    { op: 'setDefaultDevice', args: [A('device', 'cpu')], call: wg.setDefaultDevice },
    { op: 'getBackend', args: [A('device', device)], call: wg.getBackend },
    { op: 'initWebGPU', badOnly: true, args: [opts({}, {
      setDefault: A('bool', false, { bad: ['yes'] }), allowSoftware: A('bool', true), powerPreference: A('enum', 'low-power'),
      maxDispatchesPerSubmit: A('count', 128), uniformRingBytes: A('count', 65536), memoryLimitBytes: A('count', 2 ** 30),
    })], call: wg.initWebGPU },

    // ---- in place
    { op: 'fill_', method: 'fill_', args: [A('tensor', T.s), A('scalar', 1, { good: [NaN] })], call: wg.fill_ },
    { op: 'add_', method: 'add_', args: [A('tensor', T.s), A('operand', 1, { good: [T.s2] })], call: wg.add_ },
    { op: 'mul_', method: 'mul_', args: [A('tensor', T.s), A('operand', 1, { good: [T.s2] })], call: wg.mul_ },
    { op: 'copy_', method: 'copy_', args: [A('tensor', T.s), A('tensor', T.s2)], call: wg.copy_ },
    ...(['adamwStep_', 'adamwStepDecomposed_'] as const).map((op) => ({
      op,
      args: [
        A('tensor', T.p, { bad: [T.idx1, T.x, T.pm] }), A('tensor', T.s2, { bad: [T.x] }),
        A('tensor', T.pm, { bad: [T.x, T.p, T.idx1] }), A('tensor', T.pv, { bad: [T.x, T.pm] }),
        opts({ lr: 0.1, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.01, step: 1 }, {
          lr: A('finite', 0.1, { good: [0], bad: [-1, undefined] }), beta1: A('prob', 0.9, { good: [0], bad: [1, undefined] }),
          beta2: A('prob', 0.99, { bad: [1, undefined] }), eps: A('finite', 1e-8, { good: [0], bad: [-1e-8, undefined] }),
          weightDecay: A('finite', 0.01, { bad: [-0.1, undefined] }), step: A('count', 1, { good: [7], bad: [undefined] }),
        }, { good: [], bad: [undefined] }),
      ],
      call: wg[op],
    })),
    { op: 'requiresGrad_', args: [A('bool', false, { good: [true, undefined] })], call: (v: boolean) => T.g!.requiresGrad_(v) },

    // ---- settings, scopes, autograd
    { op: 'setNumThreads', args: [A('count', wg.getNumThreads())], call: wg.setNumThreads },
    { op: 'setCpuKernels', args: [A('enum', wg.getCpuKernels())], call: wg.setCpuKernels },
    { op: 'poisonCpuAllocations', args: [A('bool', true)], call: wg.poisonCpuAllocations },
    { op: 'tidy', args: [A('fn', () => 1)], call: wg.tidy },
    { op: 'noGrad', args: [A('fn', () => 1)], call: wg.noGrad },
    { op: 'enableGrad', args: [A('fn', () => 1)], call: wg.enableGrad },
    { op: 'grad', args: [A('fn', (t: Tensor) => t.sum())], call: wg.grad },
    { op: 'keep', args: [A('tensor', T.x)], call: wg.keep },
    { op: 'sumToShape', args: [A('tensor', T.x), A('shape', [3], { good: [[2, 3], [1, 3]] })], call: wg.sumToShape },
    {
      op: 'customOp',
      args: [opts({ name: 'double', forward: ([t]: Tensor[]) => t!.mul(2), backward: (g: Tensor) => [g.mul(2)] },
        { name: A('name', 'double', { good: ['other'] }), forward: A('fn', null), backward: A('fn', null) }, { good: [], bad: [undefined] })],
      call: wg.customOp,
    },
    { op: 'double', args: [A('array', [T.x], { bad: [T.x, [T.x, 5]] })], call: (xs: Tensor[]) => wg.customOp({ name: 'double', forward: ([t]) => t!.mul(2), backward: (g) => [g.mul(2)] })(xs) },
    {
      op: 'backward',
      args: [A('optTensor', null), opts({}, { retainGraph: A('bool', false, { good: [true] }), createGraph: A('bool', false) })],
      call: (g: Tensor | null, o: wg.BackwardOptions) => withGraph((y) => wg.backward(y, g, o)),
    },
    {
      op: 'gradients',
      args: [opts({}, { retainGraph: A('bool', false), createGraph: A('bool', false), allowUnused: A('bool', false, { good: [true] }), gradOutputs: A('array', [null]) })],
      call: (o: object) => withGraph((y, x) => wg.gradients(y, [x], o)),
    },
  ];
}

interface Tally { bad: number; badOk: number; good: number; goodOk: number; failures: string[] }

function describeCall(c: Case, args: unknown[], asMethod: boolean): string {
  const shown = args.map((a) => (typeof a === 'function' ? 'fn' : wg.fmtValue(a)));
  return asMethod ? `${shown[0]}.${c.method}(${shown.slice(1).join(', ')})` : `${c.op}(${shown.join(', ')})`;
}

/** Dispose whatever tensors `out` holds that are not inputs of the call. */
function disposeOutput(out: unknown, keepSet: Set<unknown>): void {
  if (Array.isArray(out)) for (const o of out) disposeOutput(o, keepSet);
  else if (out && (out as Tensor).__isTensor && !keepSet.has(out)) (out as Tensor).dispose();
}

async function run(c: Case, args: unknown[], asMethod: boolean, inputsSet: Set<unknown>): Promise<{ error: unknown; leaked: number }> {
  const before = wg.memory().tensors;
  let error: unknown = null;
  try {
    let out = asMethod ? (args[0] as Record<string, (...a: unknown[]) => unknown>)[c.method!]!(...args.slice(1)) : c.call(...args);
    if (out instanceof Promise) out = await out;
    disposeOutput(out, inputsSet);
  } catch (e) {
    error = e;
  }
  return { error, leaked: wg.memory().tensors - before };
}

async function fuzzDevice(device: DeviceName): Promise<Tally> {
  const tally: Tally = { bad: 0, badOk: 0, good: 0, goodOk: 0, failures: [] };
  const rngState = wg.getRngState();
  const T = inputs(device);
  const inputsSet = new Set<unknown>(Object.values(T));
  for (const c of cases(T, device)) {
    const baseline = c.args.map((a) => a.value);
    for (const asMethod of c.method ? [false, true] : [false]) {
      if (!c.badOnly) {
        const goods: unknown[][] = [baseline];
        c.args.forEach((a, i) => { for (const g of goodsOf(a)) goods.push(baseline.map((v, j) => (j === i ? g : v))); });
        for (const args of goods) {
          if (asMethod && !(args[0] as Tensor)?.__isTensor) continue;
          tally.good++;
          const { error, leaked } = await run(c, args, asMethod, inputsSet);
          if (error) tally.failures.push(`${describeCall(c, args, asMethod)}: a valid call threw ${(error as Error).name}: ${(error as Error).message}`);
          else if (leaked !== 0) tally.failures.push(`${describeCall(c, args, asMethod)}: a valid call left ${leaked} tensors behind`);
          else tally.goodOk++;
        }
      }
      for (let i = 0; i < c.args.length; i++) {
        for (const b of badsOf(c.args[i]!, T)) {
          if (asMethod && i === 0 && !(b as Tensor)?.__isTensor) continue;
          const args = baseline.map((v, j) => (j === i ? b : v));
          tally.bad++;
          const { error, leaked } = await run(c, args, asMethod, inputsSet);
          const call = describeCall(c, args, asMethod);
          if (!error) tally.failures.push(`${call}: no error`);
          else if (!(error instanceof wg.WebgradError)) tally.failures.push(`${call}: ${(error as Error).name} is not a WebgradError: ${(error as Error).message}`);
          else if (!error.message.startsWith(`${c.op}:`)) tally.failures.push(`${call}: the ${error.name} does not name '${c.op}': ${error.message}`);
          else if (leaked !== 0) tally.failures.push(`${call}: left ${leaked} tensors behind`);
          else tally.badOk++;
        }
      }
    }
  }
  for (const t of Object.values(T)) { t.grad?.dispose(); t.dispose(); }
  wg.setRngState(rngState);
  return tally;
}

describe('argument fuzzing', () => {
  for (const device of testDevices()) {
    it(`every public op rejects bad arguments with a typed error naming it, and accepts good ones (${device})`, async () => {
      const start = wg.memory().tensors;
      const t = await fuzzDevice(device);
      console.log(`argument fuzz (${device}): ${t.bad} bad calls, ${t.badOk} raised a WebgradError naming the op with nothing leaked; ` +
        `${t.good} valid calls, ${t.goodOk} succeeded`);
      expect(t.failures).toEqual([]);
      expect(t.badOk).toBe(t.bad);
      expect(t.goodOk).toBe(t.good);
      expect(wg.memory().tensors).toBe(start);
    }, 60_000);
  }
});
