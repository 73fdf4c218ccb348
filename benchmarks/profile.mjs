#!/usr/bin/env node
// Runs benchmarks/profile.ts without a build step (see its header):
// `node benchmarks/profile.mjs [--device cpu|webgpu|all] [--steps N] [--model nano|larger] [--top N]`.
import { runProgram } from '../scripts/transpile_workspace.mjs';

await runProgram(new URL('./profile.ts', import.meta.url), 'webgrad-profile');
