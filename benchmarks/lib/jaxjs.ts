// jax-js (`@jax-js/jax`) as a peer of the cpu_models suite: its WebAssembly device in Node (the only
// one there), each workload under `jit`. The models are written as a jax-js user would: parameters
// in a tree, `jit(valueAndGrad(loss))`, and Adam as one jitted tree update (torch.optim.Adam's
// formula). jax-js counts references: every function consumes its array arguments, so an array
// used again is passed as `x.ref`. Convolutions are NCHW/OIHW (`lax.conv`), max pooling is
// `lax.reduceWindow` with a max.
import type * as JAX from '@jax-js/jax';

type Jax = typeof JAX;
type Arr = JAX.numpy.Array;
type Tree = { w: Arr[]; b: Arr[]; k?: Arr[]; c?: Arr[] };

let loaded: Promise<Jax | string> | null = null;

/** The jax-js module with its wasm device started, or why it is unavailable. */
export function loadJax(): Promise<Jax | string> {
  loaded ??= (async () => {
    try {
      const jax = (await import('@jax-js/jax')) as Jax;
      await jax.init('wasm');
      return jax;
    } catch (e) {
      return `n/a (jax-js: ${(e as Error).message.split('\n')[0]})`;
    }
  })();
  return loaded;
}

function floats(count: number, seed: number, scale: number): Float32Array {
  const out = new Float32Array(count);
  let a = seed >>> 0;
  for (let i = 0; i < count; i++) { a = (Math.imul(a, 1664525) + 1013904223) >>> 0; out[i] = (a / 2 ** 32 - 0.5) * 2 * scale; }
  return out;
}

/** One call of a jax-js workload, awaited until its result is computed. */
export type JaxRun = () => Promise<void>;

/** The workload `key` of the suite in jax-js (model steps, blocks, matmuls). */
export function jaxWorkload(jax: Jax, key: string): JaxRun {
  const { numpy: np, nn, lax, tree, jit, valueAndGrad, grad } = jax;
  const arr = (data: Float32Array, shape: number[]) => np.array(data).reshape(shape);
  const refs = <T>(t: T): T => tree.map((a: Arr) => a.ref, t as never) as T;
  if (key === 'mlp' || key === 'lenet') {
    const mlp = key === 'mlp';
    const B = mlp ? 128 : 64;
    const dims = mlp ? [784, 256, 256, 10] : [400, 120, 84, 10];
    let params: Tree = { w: [], b: [] };
    for (let i = 0; i < 3; i++) {
      params.w.push(arr(floats(dims[i]! * dims[i + 1]!, i + 1, 1 / Math.sqrt(dims[i]!)), [dims[i]!, dims[i + 1]!]));
      params.b.push(np.zeros([dims[i + 1]!]));
    }
    if (!mlp) {
      params.k = [arr(floats(150, 7, 0.2), [6, 1, 5, 5]), arr(floats(2400, 8, 0.08), [16, 6, 5, 5])];
      params.c = [np.zeros([6]), np.zeros([16])];
    }
    const x = arr(floats(B * 784, 9, 1), mlp ? [B, 784] : [B, 1, 28, 28]);
    const y = nn.oneHot(np.array(Int32Array.from({ length: B }, (_, i) => (i * 7) % 10), { dtype: np.int32 }), 10);
    const head = (p: Tree, h: Arr): Arr => {
      for (let i = 0; i < 3; i++) { h = np.dot(h, p.w[i]!).add(p.b[i]!); if (i < 2) h = nn.relu(h); }
      return h;
    };
    const pool = (h: Arr) => lax.reduceWindow(h, (w: Arr) => w.max(), [1, 1, 2, 2], [1, 1, 2, 2]);
    const loss = (p: Tree, xx: Arr, yy: Arr): Arr => {
      let h = xx;
      if (!mlp) {
        h = pool(nn.relu(lax.conv(h, p.k![0]!, [1, 1], [[2, 2], [2, 2]]).add(p.c![0]!.reshape([1, 6, 1, 1]))));
        h = pool(nn.relu(lax.conv(h, p.k![1]!, [1, 1], 'VALID').add(p.c![1]!.reshape([1, 16, 1, 1])))).reshape([B, 400]);
      }
      return nn.logSoftmax(head(p, h)).mul(yy).sum().mul(-1 / B);
    };
    const vg = jit(valueAndGrad(loss));
    let m = tree.map((a: Arr) => np.zerosLike(a.ref), params as never) as Tree;
    let v = tree.map((a: Arr) => np.zerosLike(a.ref), params as never) as Tree;
    // Adam (torch.optim.Adam, no weight decay): s1 = lr / (1 − β1^t), s2 = 1 / (1 − β2^t).
    const update = jit((p: Tree, g: Tree, mm: Tree, vv: Tree, s1: Arr, s2: Arr) => {
      const m2 = tree.map((a: Arr, b: Arr) => a.mul(0.9).add(b.mul(0.1)), mm as never, refs(g) as never) as Tree;
      const v2 = tree.map((a: Arr, b: Arr) => a.mul(0.999).add(b.ref.mul(b).mul(0.001)), vv as never, g as never) as Tree;
      const p2 = tree.map((q: Arr, a: Arr, b: Arr) => q.sub(a.ref.mul(s1.ref).div(np.sqrt(b.ref.mul(s2.ref)).add(1e-8))), p as never, m2 as never, v2 as never) as Tree;
      s1.dispose();
      s2.dispose();
      return [p2, m2, v2] as const;
    });
    let t = 0;
    return async () => {
      t++;
      const [l, g] = vg(refs(params), x.ref, y.ref) as unknown as [Arr, Tree];
      [params, m, v] = update(params, g, m, v, np.array([1e-3 / (1 - 0.9 ** t)]), np.array([1 / (1 - 0.999 ** t)])) as unknown as [Tree, Tree, Tree];
      await l.data();
    };
  }
  if (key === 'conv') {
    const x = arr(floats(32 * 6 * 14 * 14, 1, 1), [32, 6, 14, 14]), w = arr(floats(16 * 150, 2, 1), [16, 6, 5, 5]), b = arr(floats(16, 3, 1), [16]);
    const g = jit(grad((xx: Arr, ww: Arr, bb: Arr) => lax.conv(xx, ww, [1, 1], 'VALID').add(bb.reshape([1, 16, 1, 1])).sum(), { argnums: [0, 1, 2] } as never));
    return async () => { const gs = g(x.ref, w.ref, b.ref) as unknown as Arr[]; for (const a of gs) await a.data(); };
  }
  if (key === 'pool') {
    const x = arr(floats(32 * 6 * 28 * 28, 4, 1), [32, 6, 28, 28]);
    const g = jit(grad((xx: Arr) => lax.reduceWindow(xx, (w: Arr) => w.max(), [1, 1, 2, 2], [1, 1, 2, 2]).sum()));
    return async () => { await (g(x.ref) as unknown as Arr).data(); };
  }
  const n = key === 'matmul256' ? 256 : 1024;
  const a = arr(floats(n * n, 5, 1), [n, n]), b = arr(floats(n * n, 6, 1), [n, n]);
  const mm = jit((p: Arr, q: Arr) => np.dot(p, q));
  return async () => { await (mm(a.ref, b.ref) as unknown as Arr).data(); };
}
