// Which devices exist and which one new tensors go to.
import { DeviceError } from '../errors.js';
import type { Backend, DeviceName } from './backend.js';
import { cpuBackend } from './cpu.js';

const backends = new Map<DeviceName, Backend>([['cpu', cpuBackend as Backend]]);
let defaultDevice: DeviceName = 'cpu';

export function registerBackend(b: Backend): void {
  backends.set(b.name, b);
}

export function hasDevice(name: DeviceName): boolean {
  return backends.has(name);
}

export function getBackend(name: DeviceName): Backend {
  const b = backends.get(name);
  if (!b) {
    if (name === 'webgpu') {
      throw new DeviceError(`device 'webgpu' is not initialised: call \`await initWebGPU()\` first (available: ${[...backends.keys()].join(', ')})`);
    }
    throw new DeviceError(`unknown device '${String(name)}' (available: ${[...backends.keys()].join(', ')})`);
  }
  return b;
}

export function setDefaultDevice(name: DeviceName): void {
  getBackend(name);
  defaultDevice = name;
}

export function getDefaultDevice(): DeviceName {
  return defaultDevice;
}
