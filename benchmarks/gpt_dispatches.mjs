#!/usr/bin/env node
// Runs benchmarks/gpt_dispatches.ts without a build step (see its header):
// `node benchmarks/gpt_dispatches.mjs [--chain N] [--reps N]`.
import { runProgram } from '../scripts/transpile_workspace.mjs';

await runProgram(new URL('./gpt_dispatches.ts', import.meta.url), 'webgrad-gpt-dispatches');
