// Creating the device writes nothing to stderr. Dawn's native code writes its warnings straight to
// file descriptor 2, past anything JavaScript can intercept, so the device is created in a child
// process (device.ts bundled with esbuild) whose stderr is read whole. The child writes a marker
// between the adapter request and acquireDevice: Dawn's two "maxDynamic…BuffersPerPipelineLayout
// artificially reduced" warnings on Vulkan adapters that report more dynamic buffers than Dawn
// supports (lavapipe) come from adapter enumeration, before the marker, whatever the device requests.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
// Inside the package's node_modules, so that the child's import('webgpu') resolves as the package's does.
const cacheDir = join(here, '..', 'node_modules', '.cache');
mkdirSync(cacheDir, { recursive: true });
const workDir = mkdtempSync(join(cacheDir, 'device-stderr-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

const MARK_DEVICE = '--- acquireDevice ---';
const MARK_DONE = '--- device created ---';

const CHILD = `
import { acquireDevice, findGPU } from '../src/webgpu/device.ts';
const gpu = await findGPU();
const adapter = await gpu.requestAdapter();
if (!adapter) throw new Error('no WebGPU adapter');
process.stderr.write(${JSON.stringify(MARK_DEVICE + '\n')});
const { device, info } = await acquireDevice({ gpu });
process.stderr.write(${JSON.stringify(MARK_DONE + '\n')});
const limits = {};
for (const k of ['maxStorageBuffersPerShaderStage', 'maxComputeWorkgroupStorageSize', 'maxBufferSize', 'maxDynamicUniformBuffersPerPipelineLayout', 'maxBindGroups']) limits[k] = device.limits[k];
console.log(JSON.stringify({ description: info.description || info.device, limits, adapterStorageBuffers: adapter.limits.maxStorageBuffersPerShaderStage }));
device.destroy();
process.exit(0);
`;

describe('WebGPU device creation', () => {
  it('logs nothing on stderr (Dawn\'s adapter notices come before, from requestAdapter)', async () => {
    const outfile = join(workDir, 'child.mjs');
    await build({
      stdin: { contents: CHILD, resolveDir: here, sourcefile: 'device_child.ts', loader: 'ts' },
      bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile, logLevel: 'error',
    });
    const run = spawnSync(process.execPath, [outfile], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    const stderr = run.stderr;
    const start = stderr.indexOf(MARK_DEVICE);
    const end = stderr.indexOf(MARK_DONE);
    expect(start, stderr).toBeGreaterThanOrEqual(0);
    expect(end, stderr).toBeGreaterThan(start);
    expect(stderr.slice(start + MARK_DEVICE.length, end).trim()).toBe('');
    expect(stderr.slice(end + MARK_DONE.length).trim()).toBe('');
    // Whatever Dawn printed came from adapter enumeration: only its limit notices.
    const before = stderr.slice(0, start).split('\n').filter((l) => l.trim() !== '');
    for (const line of before) expect(line).toMatch(/^Warning: maxDynamic(?:Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+/);
    // The limits that matter were raised to the adapter's; the ones left at the defaults still hold what the kernels use.
    const out = JSON.parse(run.stdout.trim().split('\n').pop()!) as { limits: Record<string, number>; adapterStorageBuffers: number };
    expect(out.limits.maxStorageBuffersPerShaderStage).toBe(out.adapterStorageBuffers);
    expect(out.limits.maxDynamicUniformBuffersPerPipelineLayout).toBeGreaterThanOrEqual(1);
    expect(out.limits.maxBindGroups).toBeGreaterThanOrEqual(1);
  });
});
