// Index epilogues of a finished tape: an `indexAdd` into zeros (an embedding's backward) whose
// result only the next entry reads, a float32 `binary('add')` of it and another gradient (a weight
// tied to the embedding, as GPT's wte is to its LM head, accumulates both), becomes one indexAdd
// launch with that gradient as its addend: out = addend + Σ src, which is the add's own sum, bit
// for bit (IEEE addition commutes). The indexAdd's buffer leaves the arena with the add.
//
// Conditions: both float32; the add reads exactly the indexAdd's view (same buffer, offset and
// strides) and writes a contiguous view of its shape into a buffer the indexAdd does not read;
// nothing later (an entry, a host action, a returned or surviving tensor) reads the indexAdd's
// result. Other tapes are left as they are.
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

/** Join each indexAdd into zeros with the float32 add that reads it next (see the header), in place. */
export function fuseIndexAdds(tape: Tape): void {
  const entries = tape.entries;
  if (!entries.some((e) => e.kind === 'kernel' && e.name === 'indexAdd')) return;
  const lastRef = new Map<number, number>();
  entries.forEach((e, i) => { if (e.kind !== 'host') for (const r of e.refs) if (r.logical >= 0) lastRef.set(r.logical, i); });
  const returned = returnedLogicals(tape.output, new Set());
  const out: Entry[] = [];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const readLater = (r: Ref): boolean =>
      r.logical < 0 || tape.liveAtEnd.has(r.logical) || tape.hostRead.has(r.logical) || returned.has(r.logical) || (lastRef.get(r.logical) ?? -1) > i + 1;
    const j = joined(e, entries[i + 1], readLater);
    if (j === null) { out.push(e); continue; }
    out.push(j);
    i++;
  }
  tape.entries = out;
}
