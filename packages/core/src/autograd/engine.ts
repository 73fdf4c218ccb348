// Reverse-mode sweep. Iterative (no recursion: unrolled RNNs are deep), visits only nodes on a path
// to something that needs a gradient, each node once after all its consumers (Kahn's order), sums
// broadcast gradients back to each input's shape in one place, and frees saved tensors as it goes.
import { AutogradError, DisposedError, ShapeError, fmtShape } from '../errors.js';
import { keep, tidy } from '../memory.js';
import { broadcastShapes, shapesEqual } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { setGradEnabled, isGradEnabled } from './grad_mode.js';
import { swapAutocastDType } from '../autocast.js';
import type { Node } from './node.js';
import { cast, clone } from '../ops/cast.js';
import { onesLike } from '../ops/creation.js';
import { sum } from '../ops/reduce.js';
import { reshape } from '../ops/views.js';
import { graphAlias } from '../ops/define.js';
import { checkShapeArg, checkTensor } from '../validate.js';
import { add } from '../ops/elementwise.js';
import { gradAssigned } from '../compile/trace.js';

/** Options of `backward` and `gradients` (torch.autograd.backward's). */
export interface BackwardOptions {
  /** Keep saved tensors so backward can run through the graph again (default: `createGraph`). */
  retainGraph?: boolean;
  /**
   * Record the backward computation itself, for higher-order gradients (Hessian-vector products,
   * gradient penalties, meta-learning): the gradients returned are differentiable. Implies
   * `retainGraph` unless that is given, as in PyTorch.
   */
  createGraph?: boolean;
}

/** Sum a broadcast gradient back down to `shape`. */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  checkTensor('sumToShape', 'gradient', g);
  checkShapeArg('sumToShape', 'shape', shape);
  if (shapesEqual(g.shape, shape)) return g;
  if (!shapesEqual(broadcastShapes('sumToShape', g.shape, shape), g.shape)) {
    throw new ShapeError(`sumToShape: a gradient of shape ${fmtShape(g.shape)} cannot be summed to shape ${fmtShape(shape)}`);
  }
  const lead = g.ndim - shape.length;
  if (lead < 0) throw new ShapeError(`autograd: gradient of shape ${fmtShape(g.shape)} cannot be reduced to ${fmtShape(shape)}`);
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  return tidy(() => reshape(sum(g, axes, { keepdim: true }), shape));
}

/** Accumulate `g` into a leaf's `.grad` (owned; never swept by a scope). */
function accumulateLeaf(leaf: Tensor, g: Tensor): void {
  if (leaf.isDisposed) return;
  gradAssigned(leaf);
  if (leaf.grad === null || leaf.grad.isDisposed) {
    leaf.grad = keep(g.isContiguous() && g.storage.refs === 1 && g.isLeaf ? g : clone(g));
    return;
  }
  const old = leaf.grad;
  leaf.grad = keep(add(old, g));
  old.dispose();
}

interface Root { tensor: Tensor; grad: Tensor | null }

/**
 * Run the sweep from `roots`. When `capture` is given, gradients for those tensors are returned
 * instead of accumulated into leaves' `.grad`.
 */
export function runBackward(roots: Root[], opts: BackwardOptions, capture?: Tensor[]): Map<Tensor, Tensor> {
  const captured = new Map<Tensor, Tensor>();
  const captureLeaf = new Set(capture?.filter((t) => t.isLeaf));
  const captureNode = new Map<Node, Tensor>();
  for (const t of capture ?? []) if (t.gradFn) captureNode.set(t.gradFn, t);

  const retainGraph = opts.retainGraph ?? !!opts.createGraph;
  const prevGrad = isGradEnabled();
  setGradEnabled(!!opts.createGraph);
  const prevAutocast = swapAutocastDType(null); // gradients are computed in their forward's dtypes
  try {
    const grads = new Map<Node, Tensor>();
    const deps = new Map<Node, number>();
    const seedNodes: Node[] = [];

    const deliver = (node: Node | null, leaf: Tensor | null, g: Tensor) => {
      if (node) {
        const prev = grads.get(node);
        if (prev) { grads.set(node, add(prev, g)); prev.dispose(); g.dispose(); } else grads.set(node, g);
      } else if (leaf) {
        if (capture) {
          if (captureLeaf.has(leaf)) {
            const prev = captured.get(leaf);
            captured.set(leaf, prev ? add(prev, g) : g);
            if (prev) { prev.dispose(); g.dispose(); }
          } else g.dispose();
        } else {
          accumulateLeaf(leaf, g);
          if (leaf.grad !== g) g.dispose();
        }
      } else g.dispose();
    };

    for (const { tensor, grad } of roots) {
      if (tensor.isDisposed) throw new DisposedError(`backward: the output tensor of shape ${fmtShape(tensor.shape)} was disposed`);
      if (!tensor.requiresGrad) {
        throw new AutogradError(`backward: tensor of shape ${fmtShape(tensor.shape)} does not require grad and has no graph (did you compute it under noGrad, or forget requiresGrad on the inputs?)`);
      }
      if (grad === null && tensor.size !== 1) {
        throw new AutogradError(`backward: output of shape ${fmtShape(tensor.shape)} is not a scalar; pass a gradient of the same shape, e.g. t.backward(onesLike(t))`);
      }
      if (grad && !shapesEqual(grad.shape, tensor.shape)) {
        throw new AutogradError(`backward: gradient shape ${fmtShape(grad.shape)} does not match the output's ${fmtShape(tensor.shape)}`);
      }
      const seed = grad ? (grad.dtype === tensor.dtype ? clone(grad) : cast(grad, tensor.dtype)) : onesLike(tensor);
      if (tensor.gradFn) { seedNodes.push(tensor.gradFn); deliver(tensor.gradFn, null, seed); } else deliver(null, tensor, seed);
    }

    // When only some tensors' gradients are wanted, sweep only the nodes on a path to one of them.
    const wanted = capture ? nodesLeadingTo(seedNodes, captureNode, captureLeaf) : null;
    const follow = (e: Node['edges'][number]): boolean => e.needsGrad && (wanted === null || (e.node ? wanted.has(e.node) : e.leaf !== null && captureLeaf.has(e.leaf)));

    // Count, for every reachable node, how many reachable consumers will send it a gradient.
    const stack = [...new Set(seedNodes)];
    const seen = new Set<Node>(stack);
    for (let n = stack.pop(); n !== undefined; n = stack.pop()) {
      for (const e of n.edges) {
        if (!follow(e) || !e.node) continue;
        deps.set(e.node, (deps.get(e.node) ?? 0) + 1);
        if (!seen.has(e.node)) { seen.add(e.node); stack.push(e.node); }
      }
    }

    const ready = [...new Set(seedNodes)].filter((n) => !deps.get(n));
    for (let node = ready.pop(); node !== undefined; node = ready.pop()) {
      const g = grads.get(node);
      grads.delete(node);
      const edges = [...node.edges];
      if (g && wanted && !wanted.has(node)) g.dispose();
      else if (g) {
        const cap = captureNode.get(node);
        if (cap) captured.set(cap, graphAlias(g)); // kept at the end: a failed sweep disposes it
        const retained = capture ? undefined : node.retained?.deref();
        if (retained && !retained.isDisposed) accumulateLeaf(retained, graphAlias(g));
        const saved = node.unpackSaved();
        const needs = edges.map((e) => follow(e));
        const results = tidy(() => node.backwardFn(g, saved, needs).map((r, i) => {
          if (!r || !needs[i]) return null;
          const e = edges[i];
          let out = sumToShape(r, e.shape);
          if (out.dtype !== e.dtype) out = cast(out, e.dtype);
          if (out === g) out = graphAlias(g);
          return out;
        }));
        g.dispose();
        if (!retainGraph) node.releaseSaved();
        results.forEach((r, i) => { if (r) deliver(edges[i].node, edges[i].leaf, r); });
      }
      for (const e of edges) {
        if (!follow(e) || !e.node) continue;
        const left = (deps.get(e.node) ?? 0) - 1;
        deps.set(e.node, left);
        if (left === 0) ready.push(e.node);
      }
    }
    for (const g of grads.values()) g.dispose();
  } finally {
    setGradEnabled(prevGrad);
    swapAutocastDType(prevAutocast);
  }
  for (const g of captured.values()) keep(g);
  return captured;
}

/** The nodes from which a wanted node or leaf can be reached (the seeds' part of the graph only). */
function nodesLeadingTo(seeds: Node[], wantNodes: Map<Node, Tensor>, wantLeaves: Set<Tensor>): Set<Node> {
  const leads = new Set<Node>();
  const done = new Set<Node>();
  // Iterative post-order: a node leads to a wanted one when it is wanted or an input leads there.
  const stack: { node: Node; expanded: boolean }[] = [...new Set(seeds)].map((node) => ({ node, expanded: false }));
  while (stack.length) {
    const top = stack[stack.length - 1];
    if (done.has(top.node)) { stack.pop(); continue; }
    if (!top.expanded) {
      top.expanded = true;
      for (const e of top.node.edges) if (e.needsGrad && e.node && !done.has(e.node)) stack.push({ node: e.node, expanded: false });
      continue;
    }
    stack.pop();
    done.add(top.node);
    if (wantNodes.has(top.node) || top.node.edges.some((e) => e.needsGrad && (e.node ? leads.has(e.node) : e.leaf !== null && wantLeaves.has(e.leaf)))) {
      leads.add(top.node);
    }
  }
  return leads;
}
