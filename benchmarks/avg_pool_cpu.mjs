#!/usr/bin/env node
// Runs benchmarks/avg_pool_cpu.ts without a build step (see its header).
import { runProgram } from '../scripts/transpile_workspace.mjs';

await runProgram(new URL('./avg_pool_cpu.ts', import.meta.url), 'webgrad-avg-pool-cpu');
