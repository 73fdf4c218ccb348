// `webgpu` (Dawn) is an optional peer dependency of @webgrad/kernels: findGPU imports it only when
// Node asks for WebGPU without a GPU object. These tests replace that import to check the error a
// user gets when the package is absent or broken; scripts/pack/pack.test.ts checks the real import
// in an install without it.
import { describe, expect, it } from 'vitest';
import { findGPU } from '../src/webgpu/device.js';
import { WebGPUUnavailableError } from '../src/webgpu/errors.js';

/** Node's error for `import('webgpu')` when no node_modules above the importer holds the package. */
function notFound(pkg: string, from: string): Error {
  return Object.assign(new Error(`Cannot find package '${pkg}' imported from ${from}`), { code: 'ERR_MODULE_NOT_FOUND' });
}

async function failure(load: () => Promise<unknown>): Promise<WebGPUUnavailableError> {
  const err = await findGPU(undefined, load).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(WebGPUUnavailableError);
  return err as WebGPUUnavailableError;
}

describe('findGPU without a usable webgpu package', () => {
  it('names the package to install when it is not installed', async () => {
    const cause = notFound('webgpu', '/app/node_modules/@webgrad/kernels/dist/webgpu/device.js');
    const err = await failure(() => Promise.reject(cause));
    expect(err.name).toBe('WebGPUUnavailableError');
    expect(err.message).toContain('`npm install webgpu`');
    expect(err.message).toContain('optional peer dependency of @webgrad/kernels');
    expect(err.message).toContain('pass a GPU object as `gpu`');
    expect(err.cause).toBe(cause);
  });

  it('says CommonJS resolution failed the same way (Cannot find module)', async () => {
    const err = await failure(() => Promise.reject(new Error("Cannot find module 'webgpu'")));
    expect(err.message).toContain('`npm install webgpu`');
  });

  it('does not blame a missing webgpu for a dependency of webgpu that is missing', async () => {
    const cause = notFound('debug', '/app/node_modules/webgpu/index.js');
    const err = await failure(() => Promise.reject(cause));
    expect(err.message).not.toContain('npm install webgpu');
    expect(err.message).toContain('is installed but could not be loaded');
    expect(err.message).toContain("Cannot find package 'debug'");
  });

  it('points at the Vulkan driver when the native module fails to load', async () => {
    const cause = new Error('libvulkan.so.1: cannot open shared object file: No such file or directory');
    const err = await failure(() => Promise.reject(cause));
    expect(err.message).toContain('is installed but could not be loaded (libvulkan.so.1');
    expect(err.message).toContain('mesa-vulkan-drivers');
    expect(err.cause).toBe(cause);
  });

  it('rejects a module that is not Dawn (no create and globals)', async () => {
    const err = await failure(() => Promise.resolve({ default: {} }));
    expect(err.message).toContain('not the `webgpu` package');
  });

  it('never imports the package when a GPU object is given', async () => {
    const given = { requestAdapter: async () => null } as unknown as GPU;
    let imported = false;
    const gpu = await findGPU(given, async () => { imported = true; return {}; });
    expect(gpu).toBe(given);
    expect(imported).toBe(false);
  });
});
