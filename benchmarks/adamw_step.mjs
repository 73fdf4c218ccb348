#!/usr/bin/env node
// Runs benchmarks/adamw_step.ts without a build step: `node benchmarks/adamw_step.mjs`.
import { runProgram } from '../scripts/transpile_workspace.mjs';

await runProgram(new URL('./adamw_step.ts', import.meta.url), 'webgrad-adamw-step');
