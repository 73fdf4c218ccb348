// Choosing where an example runs: 'cpu', 'webgpu' (fails if no adapter), or 'auto' (WebGPU on a
// hardware adapter, else the CPU). `releaseDevices()` shuts the GPU down before the process exits.
import { initWebGPU, webgpuRuntime, type DeviceName } from '@webgrad/core';

export type DeviceChoice = 'cpu' | 'webgpu' | 'auto';

/** Whether selectDevice opened the WebGPU runtime (and so releaseDevices may close it). */
let opened = false;

export async function selectDevice(choice: DeviceChoice, log: (s: string) => void = console.log): Promise<DeviceName> {
  if (choice === 'cpu') return 'cpu';
  try {
    if (!webgpuRuntime()) opened = true;
    const info = await initWebGPU({ setDefault: false });
    const label = `${info.vendor} ${info.architecture} ${info.description}`.replace(/\s+/g, ' ').trim() || 'unknown adapter';
    if (choice === 'auto' && info.isSoftware) {
      log(`device: cpu (the WebGPU adapter "${label}" is a software renderer)`);
      return 'cpu';
    }
    log(`device: webgpu (${label}${info.isSoftware ? ', software' : ''})`);
    return 'webgpu';
  } catch (e) {
    if (choice === 'webgpu') throw e;
    log(`device: cpu (WebGPU unavailable: ${(e as Error).message.split('\n')[0]})`);
    return 'cpu';
  }
}

/** Wait for and destroy the WebGPU runtime, if selectDevice opened it (a program that embeds an
 *  example, such as a test, keeps a runtime it opened itself). */
export async function releaseDevices(): Promise<void> {
  const rt = webgpuRuntime();
  if (!rt || !opened) return;
  opened = false;
  try { await rt.sync(); } finally { rt.destroy(); }
}
