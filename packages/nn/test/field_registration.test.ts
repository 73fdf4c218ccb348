// PyTorch's habit: submodules and parameters assigned as fields are registered, trained, saved
// and moved like explicitly registered ones — never silently left out.
import { describe, expect, it } from 'vitest';
import { ValueError, ones, randn, tensor, zeros, type Tensor } from '@webgrad/core';
import { Linear, Module, ModuleList, isParameter, parameter } from '@webgrad/nn';
import { SGD } from '@webgrad/optim';

class Net extends Module {
  fc1 = new Linear(4, 8);
  blocks: Linear[] = [new Linear(8, 8), new Linear(8, 8)];
  heads: Record<string, Linear> = { a: new Linear(8, 2), b: new Linear(8, 3) };
  scale = parameter(ones([8]));
  notes = { lr: 0.1 };
  cache: Tensor | null = null;
  constructor() {
    super();
    this.registerBuffer('count', zeros([1]));
  }
  forward(x: Tensor): Tensor {
    let h = this.fc1.forward(x).relu().mul(this.scale);
    for (const b of this.blocks) h = b.forward(h).relu();
    return this.heads.a!.forward(h);
  }
}

describe('fields register themselves', () => {
  it('modules, parameters, arrays and objects of them, with PyTorch names', () => {
    const net = new Net();
    const names = [...net.namedParameters()].map(([n]) => n);
    expect(names).toEqual([
      'scale',
      'fc1.weight', 'fc1.bias',
      'blocks.0.weight', 'blocks.0.bias', 'blocks.1.weight', 'blocks.1.bias',
      'heads.a.weight', 'heads.a.bias', 'heads.b.weight', 'heads.b.bias',
    ]);
    expect(new Set(names).size).toBe(11);
    expect(Object.keys(net.stateDict())).toContain('count');
    expect(net.fc1).toBeInstanceOf(Linear);              // the field still reads the module
    expect(Array.isArray(net.blocks)).toBe(true);        // and the array stays an array
    expect(isParameter(net.scale)).toBe(true);
  });

  it('an assigned layer is trained by an optimizer over parameters()', async () => {
    const net = new Net();
    const opt = new SGD(net.parameters(), { lr: 0.1 });
    const before = await net.blocks[1]!.weight.data();
    const x = randn([5, 4]);
    net.forward(x).square().sum().backward();
    opt.step();
    expect(Array.from(await net.blocks[1]!.weight.data())).not.toEqual(Array.from(before));
  });

  it('re-syncs when a field is reassigned or an array grows', () => {
    const net = new Net();
    net.parameters();
    net.fc1 = new Linear(4, 8, { bias: false });
    net.blocks.push(new Linear(8, 8));
    const names = [...net.namedParameters()].map(([n]) => n);
    expect(names).not.toContain('fc1.bias');
    expect(names).toContain('blocks.2.weight');
    net.train(false);
    expect(net.blocks[2]!.training).toBe(false);
  });

  it('a trainable leaf assigned as a field is a parameter; a plain tensor is not', () => {
    class M extends Module {
      w = tensor([1, 2], { dtype: 'float32' }).requiresGrad_(true);
      c = tensor([3, 4], { dtype: 'float32' });
      forward(x: Tensor) { return x.mul(this.w).add(this.c); }
    }
    expect([...new M().namedParameters()].map(([n]) => n)).toEqual(['w']);
  });

  it('a field mixing modules with other values is refused loudly', () => {
    class Bad extends Module {
      parts = [new Linear(2, 2), 3];
      forward(x: Tensor) { return x; }
    }
    expect(() => new Bad().parameters()).toThrow(ValueError);
    expect(() => new Bad().parameters()).toThrow(/Bad\.parts/);
  });

  it('explicit containers and registration still work alongside', () => {
    class M extends Module {
      list = new ModuleList([new Linear(2, 2)]);
      forward(x: Tensor) { return x; }
    }
    expect([...new M().namedParameters()].map(([n]) => n)).toEqual(['list.0.weight', 'list.0.bias']);
  });
});
