// Module system: registration and dotted names, containers, stateDict round trips, every
// loadStateDict error, freezing, train/eval, to(device), zeroGrad, dispose and memory.
import { describe, expect, it } from 'vitest';
import { Tensor, manualSeed, memory, noGrad, randn, tensor, tidy, zeros } from '@webgrad/core';
import {
  Dropout, Linear, Module, ModuleDict, ModuleList, ReLU, Sequential, StateDictError, LayerNorm, init, parameter,
} from '@webgrad/nn';
import { DEVICES } from './helpers.js';

class Net extends Module {
  declare fc1: Linear;
  declare layers: ModuleList<Linear>;
  declare norm: LayerNorm;
  declare scale: Tensor;
  declare steps: Tensor;
  declare cache: Tensor;
  constructor() {
    super();
    this.registerModule('fc1', new Linear(3, 4));
    this.registerModule('layers', new ModuleList([new Linear(4, 4), new Linear(4, 2, { bias: false })]));
    this.registerModule('norm', new LayerNorm(2));
    this.registerParameter('scale', zeros([1]));
    this.registerBuffer('steps', zeros([1], { dtype: 'int32' }));
    this.registerBuffer('cache', zeros([2]), { persistent: false });
  }
  forward(x: Tensor): Tensor {
    return tidy(() => {
      let h = this.fc1.forward(x).relu();
      for (const l of this.layers) h = l.forward(h);
      return this.norm.forward(h).add(this.scale);
    });
  }
}

describe.each(DEVICES)('Module on %s', (device) => {
  it('registers parameters, buffers and children under PyTorch dotted names', () => {
    const net = new Net().to(device);
    expect([...net.namedParameters()].map(([n]) => n)).toEqual([
      'scale', 'fc1.weight', 'fc1.bias', 'layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'norm.weight', 'norm.bias',
    ]);
    expect([...net.namedBuffers()].map(([n]) => n)).toEqual(['steps', 'cache']);
    expect(Object.keys(net.stateDict())).toEqual([
      'scale', 'steps', 'fc1.weight', 'fc1.bias', 'layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'norm.weight', 'norm.bias',
    ]);
    expect([...net.namedModules()].map(([n]) => n)).toEqual(['', 'fc1', 'layers', 'layers.0', 'layers.1', 'norm']);
    expect([...net.children()].length).toBe(3);
    expect(net.numParameters()).toBe(1 + 12 + 4 + 16 + 4 + 8 + 2 + 2);
    for (const p of net.parameters()) { expect(p.requiresGrad).toBe(true); expect(p.isLeaf).toBe(true); }
    expect(net.layers.at(1).bias).toBeNull();
    net.dispose();
  });

  it('registered tensors are never swept by a scope, and accessors replace entries', () => {
    const net = tidy(() => new Net());
    expect(net.fc1.weight.isDisposed).toBe(false);
    const w = tidy(() => randn([4, 3]));
    net.fc1.weight = w;
    expect(net.getModule('fc1')!.getParameter('weight')).toBe(w);
    expect(w.requiresGrad).toBe(true);
    net.dispose();
    expect(w.isDisposed).toBe(true);
  });

  it('stateDict → loadStateDict round trip copies values in place', async () => {
    manualSeed(1);
    const a = new Net().to(device);
    manualSeed(2);
    const b = new Net().to(device);
    const w0 = b.fc1.weight;
    noGrad(() => a.steps.fill_(7));
    const res = b.loadStateDict(a.stateDict());
    expect(res).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(b.fc1.weight).toBe(w0);
    for (const [k, t] of Object.entries(a.stateDict())) expect(Array.from(await b.stateDict()[k]!.data())).toEqual(Array.from(await t.data()));
    expect(Array.from(await b.steps.data())).toEqual([7]);
    a.dispose(); b.dispose();
  });

  it('loadStateDict reports missing, unexpected and mis-shaped keys with typed errors', () => {
    const net = new Net();
    const sd = { ...net.stateDict() };
    const { 'fc1.bias': _dropped, ...missing } = sd;
    let e = catchErr(() => net.loadStateDict(missing));
    expect(e).toBeInstanceOf(StateDictError);
    expect(e.kind).toBe('missing');
    expect(e.missingKeys).toEqual(['fc1.bias']);
    expect(e.message).toContain("'fc1.bias'");

    const extra = zeros([3]);
    e = catchErr(() => net.loadStateDict({ ...sd, 'fc9.weight': extra }));
    expect(e.kind).toBe('unexpected');
    expect(e.unexpectedKeys).toEqual(['fc9.weight']);

    const bad = zeros([4, 4]);
    e = catchErr(() => net.loadStateDict({ ...sd, 'fc1.weight': bad }));
    expect(e.kind).toBe('shape');
    expect(e.mismatched).toEqual([{ key: 'fc1.weight', expected: [4, 3], got: [4, 4] }]);
    expect(e.message).toMatch(/fc1\.weight.*\[4, 3\].*\[4, 4\]/);

    // Non-strict: missing/unexpected are returned, shape mismatches still throw.
    const r = net.loadStateDict({ ...missing, 'fc9.weight': extra }, { strict: false });
    expect(r).toEqual({ missingKeys: ['fc1.bias'], unexpectedKeys: ['fc9.weight'] });
    expect(() => net.loadStateDict({ 'fc1.weight': bad }, { strict: false })).toThrow(StateDictError);
    extra.dispose(); bad.dispose(); net.dispose();
  });

  it('requiresGrad_ freezes a submodule; numParameters counts trainable ones', () => {
    const net = new Net();
    net.fc1.requiresGrad_(false);
    expect(net.fc1.weight.requiresGrad).toBe(false);
    expect(net.numParameters({ trainableOnly: true })).toBe(net.numParameters() - 16);
    const x = randn([2, 3]);
    tidy(() => net.forward(x).sum().backward());
    expect(net.fc1.weight.grad).toBeNull();
    expect(net.layers.at(0).weight.grad).not.toBeNull();
    net.zeroGrad();
    expect(net.layers.at(0).weight.grad).toBeNull();
    net.fc1.requiresGrad_(true);
    expect(net.numParameters({ trainableOnly: true })).toBe(net.numParameters());
    x.dispose(); net.dispose();
  });

  it('train/eval propagate; Dropout is the identity in eval', async () => {
    const seq = new Sequential(new Linear(3, 3), new ReLU(), new Dropout(0.9));
    expect(seq.training).toBe(true);
    seq.eval();
    for (const m of seq.modules()) expect(m.training).toBe(false);
    const x = randn([4, 3]);
    const y1 = seq.forward(x) as Tensor;
    const y2 = seq.call(x) as Tensor;
    expect(Array.from(await y1.data())).toEqual(Array.from(await y2.data()));
    seq.train();
    expect(seq.at(2).training).toBe(true);
    x.dispose(); y1.dispose(); y2.dispose(); seq.dispose();
  });

  it('ModuleDict names children by key; shared params are listed once', () => {
    const shared = new Linear(2, 2);
    const d = new ModuleDict({ enc: shared, dec: new Linear(2, 2) });
    expect([...d.namedParameters()].map(([n]) => n)).toEqual(['enc.weight', 'enc.bias', 'dec.weight', 'dec.bias']);
    expect(d.get('enc')).toBe(shared);
    const tied = new ModuleDict({ a: shared, b: shared });
    expect(tied.parameters().length).toBe(2);
    expect(Object.keys(tied.stateDict())).toEqual(['a.weight', 'a.bias']); // a module reached twice is visited once
    d.dispose();
  });

  it('toDType converts floats and keeps ints; to(device) keeps ties', () => {
    const net = new Net();
    net.toDType('float64');
    expect(net.fc1.weight.dtype).toBe('float64');
    expect(net.fc1.weight.requiresGrad).toBe(true);
    expect(net.steps.dtype).toBe('int32');
    // float64 is a CPU-only dtype: convert back to float32 before moving to any other device.
    if (device !== 'cpu') {
      net.toDType('float32');
      expect(net.fc1.weight.dtype).toBe('float32');
      expect(net.steps.dtype).toBe('int32');
    }
    net.to(device);
    expect(net.fc1.weight.device).toBe(device);
    expect(net.fc1.weight.requiresGrad).toBe(true);
    expect(net.steps.dtype).toBe('int32');
    net.dispose();
  });

  it('forward + backward in a loop keeps memory flat', () => {
    const net = new Net();
    const x = randn([5, 3]);
    const step = () => { tidy(() => net.forward(x).square().mean().backward()); net.zeroGrad(); };
    step();
    const before = memory().tensors;
    for (let i = 0; i < 5; i++) step();
    expect(memory().tensors).toBe(before);
    x.dispose(); net.dispose();
  });

  it('init helpers use the core generator and PyTorch fans', async () => {
    const w = parameter(zeros([50, 40]));
    manualSeed(3); init.kaimingUniform(w, { a: Math.sqrt(5) });
    const a = Array.from(await w.data());
    manualSeed(3); init.kaimingUniform(w, { a: Math.sqrt(5) });
    expect(Array.from(await w.data())).toEqual(a);
    const bound = 1 / Math.sqrt(40);
    expect(Math.max(...a.map(Math.abs))).toBeLessThanOrEqual(bound + 1e-7);
    expect(Math.max(...a.map(Math.abs))).toBeGreaterThan(bound * 0.9);
    init.xavierNormal(w);
    const v = Array.from(await w.data());
    const std = Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
    expect(std).toBeGreaterThan(Math.sqrt(2 / 90) * 0.9);
    expect(std).toBeLessThan(Math.sqrt(2 / 90) * 1.1);
    init.truncNormal(w, 0, 1, -0.5, 0.5);
    const t = Array.from(await w.data());
    expect(Math.max(...t.map(Math.abs))).toBeLessThanOrEqual(0.5);
    expect(init.calculateGain('leakyRelu', Math.sqrt(5))).toBeCloseTo(Math.sqrt(2 / 6));
    expect(init.computeFans([8, 3, 5, 5])).toEqual({ fanIn: 75, fanOut: 200 });
    w.dispose();
  });
});

function catchErr(fn: () => unknown): StateDictError {
  try { fn(); } catch (e) { return e as StateDictError; }
  throw new Error('expected an error');
}

void tensor;
