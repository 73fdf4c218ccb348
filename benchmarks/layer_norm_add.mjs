#!/usr/bin/env node
// Runs benchmarks/layer_norm_add.ts without a build step (see its header):
// `node benchmarks/layer_norm_add.mjs [--rounds 7] [--reps 20]`.
import { runProgram } from '../scripts/transpile_workspace.mjs';

await runProgram(new URL('./layer_norm_add.ts', import.meta.url), 'webgrad-layer-norm-add');
