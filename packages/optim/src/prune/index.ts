// Pruning: magnitude (per parameter and global), random, structured (Ln-norm slices, channels,
// attention heads) and N:M; masks kept as `<name>_mask` buffers and enforced through optimizer
// steps; a gradual cubic sparsity schedule.
export {
  PruningError, maskName, getMask, isPruned, customFromMask, removePruning, prunedParameters, loadPrunedStateDict, loadPrunedModule, type PrunedParameter,
} from './masks.js';
export { roundHalfEven, type AmountOptions } from './amount.js';
export * from './unstructured.js';
export { lnStructured, pruneChannels, type LnStructuredOptions, type PruneChannelsOptions } from './structured.js';
export * from './heads.js';
export * from './n_m.js';
export * from './attach.js';
export * from './schedule.js';
