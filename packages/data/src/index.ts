// @webgrad/data: datasets, loaders, tokenizers and record readers.
export { DataError, JsonlError } from './errors.js';
export { SeededRandom, randperm, deriveSeed, seedFromGlobal, type RandpermOptions } from './random.js';
export { Dataset, IterableDataset, ArrayDataset, TensorDataset, Subset, ConcatDataset, type AnyDataset, type BatchedDataset } from './dataset.js';
export { randomSplit, splitSizes, type RandomSplitOptions } from './split.js';
export { MixedDataset, MixedIterableDataset, mixDatasets, type MixedDatasetOptions, type MixOptions, type StoppingStrategy } from './mix.js';
export { defaultCollate, padCollate, type CollateFn, type CollateContext, type PadCollateOptions } from './collate.js';
export { DataLoader, type DataLoaderOptions, type Collated } from './loader.js';
export { parseJsonl, readJsonl, type JsonlOptions, type JsonlResult, type JsonlLineError, type JsonlSchema } from './jsonl.js';
export {
  instructionSchema, preferenceSchema, parseInstructionRecords, readInstructionRecords, parsePreferenceRecords, readPreferenceRecords,
  type InstructionRecord, type PreferenceRecord, type RecordReadOptions,
} from './records.js';
export { TokenStream, randomWindows, getBatch, splitTokens, type WindowOptions, type WindowBatch } from './tokens.js';
export type { Tokenizer, EncodeOptions, DecodeOptions, SpecialTokenRoles } from './tokenizer/tokenizer.js';
export { CharTokenizer, type CharTokenizerOptions, type CharTokenizerJSON } from './tokenizer/char.js';
export { ByteLevelBPETokenizer, type ByteLevelBPEOptions, type BPETrainOptions } from './tokenizer/bpe.js';
export { BYTE_TO_CHAR, GPT2_PATTERN, preTokenize } from './tokenizer/byte_level.js';
export { HFTokenizer, loadTokenizer } from './tokenizer/hf.js';
export type { HFTokenizerJSON, HFTokenizerConfig, HFAddedToken } from './tokenizer/hf_json.js';
export {
  alpacaPrompt, tokenizeInstruction, tokenizePreference, ALPACA_PROMPT_INPUT, ALPACA_PROMPT_NO_INPUT, IGNORE_INDEX,
  type TokenizeRecordOptions, type TokenizedExample, type TokenizedPreference,
} from './instruction.js';
