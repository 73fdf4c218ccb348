// A chain of 1,000 dependent adds (v ← v + b) of float32 [N] tensors, run as 1,000 eager `add`
// kernels and as one fusedElementwise program, per device (`node benchmarks/fused_chain.mjs
// [--n 64,65536] [--chain 1000] [--rounds 7] [--device cpu,webgpu]`); then a bias + GELU step and
// its backward (h = x + bias[C], y = gelu(h), dh = geluGrad(h, g) over [256, 256]) as three eager
// kernels and as one program with two outputs. Kernel calls only (no tensor ops): cpu is the fast
// tier on heap arrays (WebAssembly both ways); webgpu ends each round with a 4-byte readback.
// Prints µs per add (per call for the GELU step), median and fastest round, and checks that the
// chain gives the same bits both ways.
import { allocTensorArray, contiguousStrides, createWebGPUKernels, fastCpuKernels, WebGPURuntime, type FusedProgram, type FusedStep, type View } from '@webgrad/kernels';
import { flag, intFlag, intListFlag } from './lib/args.js';

const SIZES = intListFlag('n', [64, 65536]);
const CHAIN = intFlag('chain', 1000);
const ROUNDS = intFlag('rounds', 7);
const DEVICES = flag('device', 'cpu,webgpu').split(',');

const steps: FusedStep[] = [];
for (let i = 0; i < CHAIN; i++) steps.push({ kind: 'binary', op: 'add', args: [i === 0 ? 0 : 1 + i, 1] });
const program: FusedProgram = { inputs: 2, steps, outputs: [1 + CHAIN] };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const line = (device: string, n: number, what: string, us: number[]) =>
  console.log(`${device.padEnd(7)} n=${String(n).padEnd(6)} ${what.padEnd(26)} ${(median(us) / CHAIN).toFixed(3).padStart(9)} µs/add (fastest ${(Math.min(...us) / CHAIN).toFixed(3)})`);

async function time(fn: () => unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) * 1000;
}

async function cpu(n: number): Promise<void> {
  const k = fastCpuKernels;
  const view = (): View<Float32Array> => ({ buffer: allocTensorArray(n) ?? new Float32Array(n), dtype: 'float32', shape: [n], strides: contiguousStrides([n]), offset: 0 });
  const x = view(), b = view(), p = view(), q = view(), out = view();
  for (let i = 0; i < n; i++) { x.buffer[i] = Math.sin(i); b.buffer[i] = 1e-3 * Math.cos(i); }
  const eager = () => {
    let src = x, dst = p;
    for (let i = 0; i < CHAIN; i++) { k.binary('add', src, b, dst); src = dst; dst = dst === p ? q : p; }
    return src;
  };
  const fused = () => k.fusedElementwise(program, [x, b], [out]);
  const e: number[] = [], f: number[] = [];
  eager(); fused(); // compile and warm up
  for (let r = 0; r < ROUNDS; r++) { e.push(await time(eager)); f.push(await time(fused)); }
  const last = eager();
  for (let i = 0; i < n; i++) if (!Object.is(last.buffer[i], out.buffer[i])) throw new Error(`cpu n=${n}: element ${i} differs`);
  line('cpu', n, `${CHAIN} eager add kernels`, e);
  line('cpu', n, 'one fused program', f);
}

async function webgpu(n: number, rt: WebGPURuntime): Promise<void> {
  const k = createWebGPUKernels(rt);
  const view = (): View<GPUBuffer> => ({ buffer: rt.allocate(n * 4), dtype: 'float32', shape: [n], strides: [1], offset: 0 });
  const x = view(), b = view(), p = view(), q = view(), out = view();
  const xs = new Float32Array(n), bs = new Float32Array(n);
  for (let i = 0; i < n; i++) { xs[i] = Math.sin(i); bs[i] = 1e-3 * Math.cos(i); }
  rt.write(x.buffer, xs);
  rt.write(b.buffer, bs);
  let last = p;
  const eager = async () => {
    let src = x, dst = p;
    for (let i = 0; i < CHAIN; i++) { k.binary('add', src, b, dst); src = dst; dst = dst === p ? q : p; }
    last = src;
    await rt.read(src.buffer, 0, 4);
  };
  const fused = async () => { k.fusedElementwise(program, [x, b], [out]); await rt.read(out.buffer, 0, 4); };
  const e: number[] = [], f: number[] = [];
  await eager(); await fused();
  for (let r = 0; r < ROUNDS; r++) { e.push(await time(eager)); f.push(await time(fused)); }
  const [ge, gf] = [new Float32Array(await rt.read(last.buffer, 0, n * 4)), new Float32Array(await rt.read(out.buffer, 0, n * 4))];
  for (let i = 0; i < n; i++) if (!Object.is(ge[i], gf[i])) throw new Error(`webgpu n=${n}: element ${i} differs`);
  line('webgpu', n, `${CHAIN} eager add kernels`, e);
  line('webgpu', n, 'one fused program', f);
}

const GELU: FusedProgram = { inputs: 3, steps: [{ kind: 'binary', op: 'add', args: [0, 1] }, { kind: 'unary', op: 'gelu', args: [3] },
  { kind: 'binary', op: 'geluGrad', args: [3, 2] }], outputs: [4, 5] };
const [R, C] = [256, 256];

/** The bias + GELU step on `k` over views from `view` (contiguous [R, C]; the bias broadcast from [C]). */
async function gelu<B>(device: string, k: ReturnType<typeof createWebGPUKernels> | typeof fastCpuKernels, view: (n: number) => View<B>,
  sync: (v: View<B>) => Promise<unknown> | void): Promise<void> {
  const kk = k as unknown as typeof fastCpuKernels;
  const full = (): View<B> => ({ ...view(R * C), shape: [R, C], strides: [C, 1] });
  const x = full(), g = full(), h = full(), y = full(), dh = full(), y2 = full(), dh2 = full();
  const bias: View<B> = { ...view(C), shape: [R, C], strides: [0, 1] };
  const V = (v: View<B>) => v as unknown as View<Float32Array>;
  const eager = async () => {
    kk.binary('add', V(x), V(bias), V(h));
    kk.unary('gelu', V(h), V(y));
    kk.binary('geluGrad', V(h), V(g), V(dh));
    await sync(dh);
  };
  const fused = async () => { kk.fusedElementwise(GELU, [V(x), V(bias), V(g)], [V(y2), V(dh2)]); await sync(dh2); };
  const e: number[] = [], f: number[] = [];
  await eager(); await fused();
  for (let r = 0; r < ROUNDS; r++) { e.push(await time(eager)); f.push(await time(fused)); }
  const us = (xs: number[]) => `${median(xs).toFixed(1).padStart(9)} µs/call (fastest ${Math.min(...xs).toFixed(1)})`;
  console.log(`${device.padEnd(7)} [${R}, ${C}] bias + gelu + geluGrad: 3 eager kernels ${us(e)}; one fused program ${us(f)}`);
}

if (DEVICES.includes('cpu')) {
  for (const n of SIZES) await cpu(n);
  const heap = (n: number): View<Float32Array> => {
    const buffer = allocTensorArray(n) ?? new Float32Array(n);
    for (let i = 0; i < n; i++) buffer[i] = Math.sin(i);
    return { buffer, dtype: 'float32', shape: [n], strides: [1], offset: 0 };
  };
  await gelu('cpu', fastCpuKernels, heap, () => undefined);
}
if (DEVICES.includes('webgpu')) {
  const rt = await WebGPURuntime.create();
  console.log(`webgpu adapter: ${JSON.stringify(rt.info)}`);
  for (const n of SIZES) await webgpu(n, rt);
  const gpuView = (n: number): View<GPUBuffer> => {
    const buffer = rt.allocate(n * 4);
    rt.write(buffer, Float32Array.from({ length: n }, (_, i) => Math.sin(i)));
    return { buffer, dtype: 'float32', shape: [n], strides: [1], offset: 0 };
  };
  await gelu('webgpu', createWebGPUKernels(rt), gpuView, (v) => rt.read(v.buffer, 0, 4));
  rt.destroy();
}
