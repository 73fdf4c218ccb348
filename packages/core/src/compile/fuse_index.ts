// Index epilogues of a finished tape: a float32 `binary('add')` that reads the result of the entry
// just before it, which nothing else reads, becomes part of that entry's launch as an addend:
//
// - an `indexAdd` into zeros (an embedding's backward) and the add of another gradient of the same
//   weight (tied weights, as GPT's wte and LM head): out = addend + Σ src;
// - an `indexSelect` (an embedding lookup) and the add of the positions: out = x[index] + addend,
//   the add's operands read in row-major order (the lookup's [B·T, C] as the add's [B, T, C]).
//
// Each is the add's own sum, bit for bit (IEEE addition commutes), and the index kernel's result
// leaves the arena with the add. Conditions: float32 throughout; the add reads the index kernel's
// result through a view with the same offset and element order (indexAdd: the same view;
// indexSelect: both contiguous) and writes a contiguous view into a buffer the index kernel does
// not read; nothing later (an entry, a host action, a returned or surviving tensor) reads the
// index kernel's result. Other tapes are left as they are.
import { contiguousStrides, type View } from '@webgrad/kernels';
import { isView, type Entry, type KernelEntry, type OutputTemplate, type Ref, type Tape } from './tape.js';

const sameList = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
const sameView = (a: View<unknown>, b: View<unknown>): boolean =>
  a.buffer === b.buffer && a.offset === b.offset && sameList(a.shape, b.shape) && sameList(a.strides, b.strides);

function returnedLogicals(t: OutputTemplate, out: Set<number>): Set<number> {
  if (t.k === 'tensor') out.add(t.ref.logical);
  else if (t.k === 'list') for (const i of t.items) returnedLogicals(i, out);
  else if (t.k === 'record') for (const [, f] of t.fields) returnedLogicals(f, out);
  return out;
}

const numel = (v: View<unknown>): number => v.shape.reduce((p, d) => p * d, 1);
const contiguous = (v: View<unknown>): boolean => sameList(v.strides, contiguousStrides(v.shape));

/** The joined entry for indexSelect `e` followed by add `f`, or null where they may not be joined. */
function joinedSelect(e: Entry, f: Entry | undefined, readLater: (r: Ref) => boolean): KernelEntry | null {
  if (e.kind !== 'kernel' || e.name !== 'indexSelect' || (e.args[4] ?? null) !== null) return null;
  if (f === undefined || f.kind !== 'kernel' || f.name !== 'binary' || f.args[0] !== 'add' || f.backend !== e.backend) return null;
  const [x, dim, index, y] = e.args as [View<unknown>, number, View<unknown>, View<unknown>];
  const [, a, b, out] = f.args as [string, View<unknown>, View<unknown>, View<unknown>];
  if (!isView(a) || !isView(b) || !isView(out) || ![x, y, a, b, out].every((v) => v.dtype === 'float32')) return null;
  const isY = (v: View<unknown>): boolean => v.buffer === y.buffer && v.offset === y.offset && contiguous(v) && numel(v) === numel(y);
  const yIsA = isY(a);
  if (!yIsA && !isY(b)) return null;
  const addend = yIsA ? b : a;
  if (!contiguous(y) || !contiguous(out) || numel(out) !== numel(y) || addend.buffer === y.buffer) return null;
  if (out.buffer === x.buffer || out.buffer === index.buffer || out.buffer === y.buffer) return null;
  if (addend.buffer === out.buffer && !(addend.offset === out.offset && contiguous(addend))) return null;
  const yView = yIsA ? a : b;
  const outRef = f.refs.find((r) => r.view === out);
  if (outRef === undefined || [...e.refs, ...f.refs].filter((r) => r.view === y || r.view === yView).some(readLater)) return null;
  // The add's output seen in the lookup's shape (both contiguous: the same elements in the same order).
  const into: View<unknown> = { buffer: out.buffer, dtype: out.dtype, shape: [...y.shape], strides: contiguousStrides(y.shape), offset: out.offset };
  const refs = [...e.refs.filter((r) => r.view !== y), ...f.refs.filter((r) => r.view !== yView && r.view !== out), { ...outRef, view: into }];
  return { kind: 'kernel', backend: e.backend, name: 'indexSelect', args: [x, dim, index, into, addend], refs, rng: null };
}

/** The joined entry for indexAdd `e` followed by add `f`, or null where they may not be joined. */
function joined(e: Entry, f: Entry | undefined, readLater: (r: Ref) => boolean): KernelEntry | null {
  if (e.kind !== 'kernel' || e.name !== 'indexAdd' || e.args[4] !== true || (e.args[5] ?? null) !== null) return null;
  if (f === undefined || f.kind !== 'kernel' || f.name !== 'binary' || f.args[0] !== 'add' || f.backend !== e.backend) return null;
  const [y, dim, index, src] = e.args as [View<unknown>, number, View<unknown>, View<unknown>];
  const [, a, b, out] = f.args as [string, View<unknown>, View<unknown>, View<unknown>];
  if (!isView(a) || !isView(b) || !isView(out) || ![y, src, a, b, out].every((v) => v.dtype === 'float32')) return null;
  const yIsA = sameView(a, y);
  if (!yIsA && !sameView(b, y)) return null;
  const addend = yIsA ? b : a;
  if (addend.buffer === y.buffer || !sameList(out.shape, y.shape) || !sameList(out.strides, contiguousStrides(out.shape))) return null;
  if (out.buffer === src.buffer || out.buffer === index.buffer || out.buffer === y.buffer) return null;
  if (addend.buffer === out.buffer && !sameView(addend, out)) return null;
  const yRefs = [...e.refs, ...f.refs].filter((r) => r.view === y || r.view === a && yIsA || r.view === b && !yIsA);
  if (yRefs.length === 0 || yRefs.some(readLater)) return null;
  const refs = [...e.refs.filter((r) => r.view !== y), ...f.refs.filter((r) => r.view !== (yIsA ? a : b))];
  return { kind: 'kernel', backend: e.backend, name: 'indexAdd', args: [out, dim, index, src, true, addend], refs, rng: null };
}

/** Join each indexAdd into zeros and each indexSelect with the float32 add that reads its result next (see the header), in place. */
export function fuseIndexEpilogues(tape: Tape): void {
  const entries = tape.entries;
  if (!entries.some((e) => e.kind === 'kernel' && (e.name === 'indexAdd' || e.name === 'indexSelect'))) return;
  const lastRef = new Map<number, number>();
  entries.forEach((e, i) => { if (e.kind !== 'host') for (const r of e.refs) if (r.logical >= 0) lastRef.set(r.logical, i); });
  const returned = returnedLogicals(tape.output, new Set());
  const out: Entry[] = [];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (e === undefined) continue;
    const readLater = (r: Ref): boolean =>
      r.logical < 0 || tape.liveAtEnd.has(r.logical) || tape.hostRead.has(r.logical) || returned.has(r.logical) || (lastRef.get(r.logical) ?? -1) > i + 1;
    const j = joined(e, entries[i + 1], readLater) ?? joinedSelect(e, entries[i + 1], readLater);
    if (j === null) { out.push(e); continue; }
    out.push(j);
    i++;
  }
  tape.entries = out;
}
