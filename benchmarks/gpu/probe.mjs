#!/usr/bin/env node
// Prints the WebGPU adapter Dawn finds (vendor, architecture, description, features, a few limits)
// as one JSON line and exits 1 when there is none: the first check of benchmarks/gpu/run.sh.
import { create, globals } from 'webgpu';

Object.assign(globalThis, globals);
const gpu = create([]);
const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
if (!adapter) {
  console.error('probe: no WebGPU adapter (is a Vulkan driver installed and its ICD manifest visible to the loader?)');
  process.exit(1);
}
const info = adapter.info ?? {};
const limits = {};
for (const k of ['maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup']) limits[k] = adapter.limits[k];
console.log(JSON.stringify({
  vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description,
  features: [...adapter.features].sort(), limits,
}));
process.exit(0);
