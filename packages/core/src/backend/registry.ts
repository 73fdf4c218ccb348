// Which devices exist and which one new tensors go to.
import { DeviceError } from '../errors.js';
import { fmtValue } from '../validate.js';
import type { Backend, DeviceName } from './backend.js';
import { cpuBackend } from './cpu.js';

const backends = new Map<DeviceName, Backend>([['cpu', cpuBackend as Backend]]);
let defaultDevice: DeviceName = 'cpu';

/** Make a device available under its `name`, replacing any backend registered under it. */
export function registerBackend(b: Backend): void {
  backends.set(b.name, b);
}

/** Whether a backend is registered for `name` (webgpu after `initWebGPU()`). */
export function hasDevice(name: DeviceName): boolean {
  return backends.has(name);
}

/** The backend of device `name`; `op` is the public op named in the error when there is none. */
export function getBackend(name: DeviceName, op = 'getBackend'): Backend {
  const b = typeof name === 'string' ? backends.get(name) : undefined;
  if (!b) {
    if (name === 'webgpu') {
      throw new DeviceError(`${op}: device 'webgpu' is not initialised: call \`await initWebGPU()\` first (available: ${[...backends.keys()].join(', ')})`);
    }
    throw new DeviceError(`${op}: unknown device ${fmtValue(name)} (available: ${[...backends.keys()].join(', ')})`);
  }
  return b;
}

/** Make `name` the device tensor factories use when no `device` is given; a DeviceError when it is not registered. */
export function setDefaultDevice(name: DeviceName): void {
  getBackend(name, 'setDefaultDevice');
  defaultDevice = name;
}

/** The device tensor factories use when no `device` is given (initially 'cpu'). */
export function getDefaultDevice(): DeviceName {
  return defaultDevice;
}
