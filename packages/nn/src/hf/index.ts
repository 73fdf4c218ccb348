// HuggingFace interop: GPT-2 and Llama-family checkpoints in transformers' names and layouts
// (name tables in gpt2.ts and llama.ts), HF model directories on disk, and LoRA adapters in
// PEFT's format.
export * from './names.js';
export * from './gpt2.js';
export * from './llama.js';
export * from './files.js';
export * from './peft.js';
