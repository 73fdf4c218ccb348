#!/usr/bin/env node
// Runs benchmarks/cnn_cpu.ts without a build step (see its header).
import { runProgram } from '../scripts/transpile_workspace.mjs';

await runProgram(new URL('./cnn_cpu.ts', import.meta.url), 'webgrad-cnn-cpu');
