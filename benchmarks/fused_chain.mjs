#!/usr/bin/env node
// Runs benchmarks/fused_chain.ts without a build step (see its header):
// `node benchmarks/fused_chain.mjs [--n 64,65536] [--chain 1000] [--rounds 7] [--device cpu,webgpu]`.
import { runProgram } from '../scripts/transpile_workspace.mjs';

await runProgram(new URL('./fused_chain.ts', import.meta.url), 'webgrad-fused-chain');
