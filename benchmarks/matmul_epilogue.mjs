#!/usr/bin/env node
// Runs benchmarks/matmul_epilogue.ts without a build step (see its header):
// `node benchmarks/matmul_epilogue.mjs [--rounds 7] [--reps 20]`.
import { runProgram } from '../scripts/transpile_workspace.mjs';

await runProgram(new URL('./matmul_epilogue.ts', import.meta.url), 'webgrad-matmul-epilogue');
