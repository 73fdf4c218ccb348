// The WebAssembly form of a fused elementwise program (elementwise/fused.ts), for programs whose
// every op has one (elementwise/wasm.ts): one small module per program structure and input layout,
// instantiated over the fast kernels' memory.
//
// fused(in0, .., in<I-1>, out0, .., out<O-1>, n, scalars, rows, step_in0, .., step_out<O-1>) runs
// the program over `rows` rows of n elements: in<k> / out<k> are the byte addresses of the first
// row, step_<view> the bytes from one row to the next (0 for a view broadcast across rows); along a
// row each input is either contiguous or broadcast (one element for the whole row, as the module
// was built for), the outputs contiguous; `scalars` addresses the scalar steps' float32 values.
// A bias add over [rows, n] is therefore one call. Each step is computed as the fast tier's per-op WebAssembly kernel
// computes its op, into its own v128 local of four float32 lanes:
// - 'f32' ops (add, sub, mul, div, maximum, minimum, neg, abs, sqrt, square, reciprocal, relu): one
//   correctly rounded f32x4 instruction — bit-identical to the reference;
// - 'f64' ops (exp, tanh, sigmoid, silu, geluTanh, erf, rsqrt, siluGrad): both halves promoted to
//   f64x2, the expression evaluated there (wasm_math.ts) and demoted to float32;
// - 'f32poly' ops (gelu, geluGrad): the expression on the four float32 lanes (wasm_math32.ts);
// each the values of unary_program.ts's kernels, within the ops' `wasm` contracts.
// So every step's value is rounded to float32 before the next step reads it. Four elements per
// iteration, then one at a time (splat loads, lane-0 stores) for the n % 4 left: nothing is read or
// written past a row, so outputs may be views inside larger arrays.

import type { Expr } from '../elementwise/expr.js';
import type { FusedProgram } from '../elementwise/fused.js';
import { BINARY_DEFS, UNARY_DEFS } from '../elementwise/ops.js';
import { emitF32Poly, emitF32x4, emitF64x2, wasmCtx, wasmRoute } from '../elementwise/wasm.js';
import { ModuleBuilder, type FuncBuilder, type Local, type Val, type ValType } from '../wasm/emitter.js';
import { MAX_PAGES } from '../wasm/module.js';

/** A step as its op expression and what each operand reads: a value number, or scalar k. */
interface StepOp { expr: Expr; operands: Partial<Record<'x' | 'a' | 'b', { value: number } | { scalar: number }>> }

function stepOps(p: FusedProgram): StepOp[] {
  let scalars = 0;
  return p.steps.map((s) => {
    if (s.kind === 'unary') return { expr: UNARY_DEFS[s.op].expr, operands: { x: { value: s.args[0] } } };
    if (s.kind === 'binary') return { expr: BINARY_DEFS[s.op].expr, operands: { a: { value: s.args[0] }, b: { value: s.args[1] } } };
    const v = { value: s.args[0] }, c = { scalar: scalars++ };
    return { expr: BINARY_DEFS[s.op].expr, operands: s.scalarFirst ? { a: c, b: v } : { a: v, b: c } };
  });
}

/** Whether every op of the program has a WebAssembly form. */
export function hasWasmForm(p: FusedProgram): boolean {
  return stepOps(p).every((s) => wasmRoute(s.expr) !== null);
}

/**
 * The module of `p` for inputs that are contiguous (false) or broadcast (true) along a row, over a
 * memory that is `shared` or not; `fma` as the runtime's (relaxed multiply-adds in the float64 lanes).
 */
export function buildFusedModule(p: FusedProgram, broadcast: readonly boolean[], shared: boolean, fma: boolean): Uint8Array {
  const m = new ModuleBuilder({ initialPages: 1, maximumPages: MAX_PAGES, shared });
  const I = p.inputs, O = p.outputs.length;
  const ops = stepOps(p);
  const nScalars = ops.reduce((c, s) => c + Object.values(s.operands).filter((o) => 'scalar' in o).length, 0);
  const params: ValType[] = new Array<ValType>(2 * (I + O) + 3).fill('i32');
  m.func('fused', params, null, (f: FuncBuilder, ...args: Local<ValType>[]) => {
    const ptr = args as Local<'i32'>[];
    const first = ptr.slice(0, I + O), n = ptr[I + O]!, sp = ptr[I + O + 1]!, rows = ptr[I + O + 2]!, steps = ptr.slice(I + O + 3);
    // The current row's addresses.
    const cur = first.map(() => f.local('i32'));
    const ins = cur.slice(0, I), outs = cur.slice(I);
    const cx = wasmCtx(f, fma);
    const scalars: Local<'v128'>[] = [];
    for (let k = 0; k < nScalars; k++) {
      const l = f.local('v128');
      f.set(l, f.v128Load32Splat(f.get(sp), 4 * k));
      scalars.push(l);
    }
    const used = new Set<number>([...p.outputs, ...ops.flatMap((s) => Object.values(s.operands).flatMap((o) => ('value' in o ? [o.value] : [])))]);
    // A broadcast input is one value for the whole row: loaded once per row.
    const fixed = new Map<number, Local<'v128'>>();
    for (let k = 0; k < I; k++) if (broadcast[k] && used.has(k)) fixed.set(k, f.local('v128'));
    const i = f.local('i32'), off = f.local('i32'), nv = f.local('i32'), r = f.local('i32');
    /** The program on the four lanes that `load` gives each streamed input; `store` writes output k. */
    const body = (load: (k: number) => Val<'v128'>, store: (k: number, v: () => Val<'v128'>) => void) => {
      const values: Local<'v128'>[] = [];
      for (let k = 0; k < I; k++) {
        const l = fixed.get(k) ?? f.local('v128');
        if (!fixed.has(k) && used.has(k)) f.set(l, load(k));
        values.push(l);
      }
      for (const s of ops) {
        const local = (name: 'x' | 'a' | 'b'): Local<'v128'> => {
          const o = s.operands[name]!;
          return 'value' in o ? values[o.value]! : scalars[o.scalar]!;
        };
        const out = f.local('v128');
        const route = wasmRoute(s.expr);
        if (route === 'f32') {
          f.set(out, emitF32x4(f, s.expr, (name) => f.get(local(name))));
        } else if (route === 'f32poly') {
          const lanes: Partial<Record<'x' | 'a' | 'b', Local<'v128'>>> = {};
          for (const name of Object.keys(s.operands) as ('x' | 'a' | 'b')[]) lanes[name] = local(name);
          f.set(out, f.get(emitF32Poly(cx, s.expr, lanes)));
        } else {
          const half = (high: boolean) => {
            const lanes: Partial<Record<'x' | 'a' | 'b', Local<'v128'>>> = {};
            for (const name of Object.keys(s.operands) as ('x' | 'a' | 'b')[]) {
              const v = local(name), h = cx.tmp();
              f.set(h, f.f64x2PromoteLowF32x4(high ? f.i32x4Shuffle(f.get(v), f.get(v), [2, 3, 0, 1]) : f.get(v)));
              lanes[name] = h;
            }
            return emitF64x2(cx, s.expr, lanes);
          };
          const lo = half(false), hi = half(true);
          f.set(out, f.i32x4Shuffle(f.f32x4DemoteF64x2Zero(f.get(lo)), f.f32x4DemoteF64x2Zero(f.get(hi)), [0, 1, 4, 5]));
        }
        values.push(out);
      }
      p.outputs.forEach((v, k) => store(k, () => f.get(values[v]!)));
    };
    f.set(nv, f.and(f.get(n), f.i32(-4)));
    first.forEach((a, k) => f.set(cur[k]!, f.get(a)));
    f.forRange(r, () => f.i32(0), () => f.get(rows), 1, () => {
      for (const [k, l] of fixed) f.set(l, f.v128Load32Splat(f.get(ins[k]!)));
      f.forRange(i, () => f.i32(0), () => f.get(nv), 4, () => {
        f.set(off, f.shl(f.get(i), f.i32(2)));
        body((k) => f.v128Load(f.add(f.get(ins[k]!), f.get(off))), (k, v) => f.v128Store(f.add(f.get(outs[k]!), f.get(off)), v()));
      });
      f.forRange(i, () => f.get(nv), () => f.get(n), 1, () => {
        f.set(off, f.shl(f.get(i), f.i32(2)));
        body((k) => f.v128Load32Splat(f.add(f.get(ins[k]!), f.get(off))), (k, v) => f.f32Store(f.add(f.get(outs[k]!), f.get(off)), f.f32x4ExtractLane(v(), 0)));
      });
      cur.forEach((l, k) => f.set(l, f.add(f.get(l), f.get(steps[k]!))));
    });
  });
  return m.toBytes();
}
