// A recorded op in the autograd graph.
//
// Lifetime is deterministic, not left to GC: a node is referenced by the tensors it produced and by
// the nodes that consumed them. When the count reaches zero (those tensors disposed, consumers gone),
// the node releases its saved tensors and its references to its own inputs' nodes. `backward()`
// frees saved tensors as it goes unless asked to retain the graph.
import type { DType } from '@webgrad/kernels';
import { AutogradError } from '../errors.js';
import type { Tensor } from '../tensor.js';

export interface Edge {
  /** The node that produced the input, or null for a leaf. */
  node: Node | null;
  /** The leaf tensor itself (only when node is null and it requires grad). */
  leaf: Tensor | null;
  /** Whether a gradient must flow to this input at all. */
  needsGrad: boolean;
  shape: readonly number[];
  dtype: DType;
}

interface Saved { tensor: Tensor; version: number }

export type BackwardFn = (grad: Tensor, saved: Tensor[], needs: boolean[]) => (Tensor | null | undefined)[];

/**
 * Lets the saved-tensor tests substitute what a backward reads (to prove every saved tensor is
 * read). Not part of the public API.
 */
export type UnpackHook = (op: string, index: number, saved: Tensor) => Tensor;
let unpackHook: UnpackHook | null = null;
export function setUnpackHook(hook: UnpackHook | null): void { unpackHook = hook; }

export class Node {
  refs = 0;
  freed = false;
  /** A non-leaf output that asked to keep its gradient (`retainGrad()`). */
  retained: WeakRef<Tensor> | null = null;
  #saved: Saved[];

  constructor(
    readonly op: string,
    readonly edges: Edge[],
    saved: Tensor[],
    readonly backwardFn: BackwardFn,
    /** Shape of the output, for seeding and checking gradients. */
    readonly outShape: readonly number[],
    readonly outDtype: DType,
  ) {
    this.#saved = saved.map((t) => ({ tensor: t, version: t.storage.version }));
    for (const e of edges) e.node?.incRef();
  }

  incRef(): void { this.refs++; }

  decRef(): void {
    // Iterative cascade: graphs of unrolled RNNs are deep.
    const stack: Node[] = [this];
    for (let n = stack.pop(); n !== undefined; n = stack.pop()) {
      if (--n.refs > 0) continue;
      n.releaseSaved();
      for (const e of n.edges) if (e.node) stack.push(e.node);
      n.edges.length = 0;
    }
  }

  /** How many tensors this node keeps for its backward. */
  get savedCount(): number { return this.#saved.length; }

  /** Saved tensors, checked against in-place changes made since they were saved. */
  unpackSaved(): Tensor[] {
    if (this.freed) {
      throw new AutogradError(`backward through '${this.op}' a second time: its saved tensors were freed after the first backward(); pass { retainGraph: true } to the first call`);
    }
    return this.#saved.map(({ tensor, version }, i) => {
      if (tensor.storage.version !== version) {
        throw new AutogradError(`'${this.op}': saved tensor ${i} (shape [${tensor.shape.join(', ')}]) was modified in place after it was saved for backward (version ${version} → ${tensor.storage.version})`);
      }
      return unpackHook ? unpackHook(this.op, i, tensor) : tensor;
    });
  }

  releaseSaved(): void {
    for (const s of this.#saved) s.tensor.dispose();
    this.#saved = [];
    this.freed = true;
  }
}
