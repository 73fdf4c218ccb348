// @webgrad/data: datasets, loaders, tokenizers and record readers.
export {};
