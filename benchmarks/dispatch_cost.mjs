#!/usr/bin/env node
// Runs benchmarks/dispatch_cost.ts without a build step (see its header):
// `node benchmarks/dispatch_cost.mjs [--chain N] [--reps N]`.
import { runProgram } from '../scripts/transpile_workspace.mjs';

await runProgram(new URL('./dispatch_cost.ts', import.meta.url), 'webgrad-dispatch-cost');
