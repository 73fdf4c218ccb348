// Obtaining a WebGPU adapter and device, in Node (the optional `webgpu` package, i.e. Dawn) or in a
// browser (navigator.gpu).
//
// The device is requested with the adapter's own limits for the sizes compute kernels scale with
// (buffer sizes, workgroup storage and size, dispatch extent) and for storage buffers per stage,
// not the WebGPU defaults; the other limits stay at their defaults, which the kernels stay within.
// The optional features `shader-f16`, `timestamp-query` and `subgroups` are requested when the
// adapter offers them. A software adapter (Mesa lavapipe/llvmpipe, SwiftShader, WARP, a 'cpu'
// adapter type or a fallback adapter) is labelled `isSoftware`, so tests and benchmarks can say
// what they ran on.
//
// Dawn prints two "maxDynamic…BuffersPerPipelineLayout artificially reduced" warnings on stderr when
// it first enumerates a Vulkan adapter that reports more dynamic buffers than Dawn supports (lavapipe
// reports 1000000): that happens inside `requestAdapter`, before and whatever a device requests.

import { WebGPUUnavailableError } from './errors.js';

/** What the adapter says about itself (GPUAdapterInfo), and whether it is a software rasterizer. */
export interface AdapterDescription {
  /** Vendor name as the adapter reports it; may be empty. */
  vendor: string;
  /** GPU family as the adapter reports it; may be empty. */
  architecture: string;
  /** Device identifier; may be empty. */
  device: string;
  /** Driver's description; may be empty. */
  description: string;
  /** True for a CPU adapter (lavapipe, SwiftShader, WARP) or a fallback adapter. */
  isSoftware: boolean;
}

export interface DeviceOptions {
  /** A GPU object to use instead of discovering one (navigator.gpu, or `create([])` from `webgpu`). */
  gpu?: GPU;
  /** Passed to `requestAdapter`: 'high-performance' or 'low-power' (default: the browser's choice). */
  powerPreference?: GPUPowerPreference;
  /** Accept a software adapter (default true: CI runs on lavapipe). */
  allowSoftware?: boolean;
}

const INSTALL_HINT = 'On Linux without a GPU, Dawn needs a software Vulkan driver, Mesa lavapipe from a recent Mesa ' +
  '(packages libvulkan1 and mesa-vulkan-drivers: Debian bookworm\'s Mesa 22.3 is too old, bookworm-backports\' 25.x ' +
  'works; the webgrad repository\'s scripts/install-webgpu-driver.sh installs them); in a browser, use one with WebGPU enabled.';

/**
 * The limits requested at the adapter's maximum. Not requested, because the kernels stay within the
 * WebGPU defaults: bind groups (one), dynamic uniform buffers per layout (one, the uniform ring's
 * slice), dynamic storage buffers (none) and the uniform binding size (a few hundred bytes).
 */
const RAISED_LIMITS = [
  'maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ', 'maxComputeWorkgroupsPerDimension', 'maxStorageBuffersPerShaderStage',
] as const;

const OPTIONAL_FEATURES: GPUFeatureName[] = ['shader-f16', 'timestamp-query', 'subgroups' as GPUFeatureName];

const SOFTWARE_PATTERN = /lavapipe|llvmpipe|swiftshader|software|warp|basic render|microsoft basic/i;

/**
 * Holds the JS event loop open while a GPU promise is pending: Dawn's Node binding settles its
 * promises from its own thread without keeping the loop alive, so a process whose only pending
 * work is a GPU request would otherwise exit mid-await.
 */
export function keepAlive<T>(p: Promise<T>): Promise<T> {
  const timer = setInterval(() => {}, 1 << 30);
  return p.finally(() => clearInterval(timer));
}

/** The one Dawn instance of this process (Node only), held for the process's lifetime. */
let nodeGPU: GPU | undefined;

/** Loads Node's `webgpu` package (Dawn); `findGPU` takes another to test a missing or broken install. */
export type WebGPUPackageLoader = () => Promise<unknown>;

const loadWebGPUPackage: WebGPUPackageLoader = () => {
  const name = 'webgpu'; // kept in a variable so browser bundlers do not try to resolve it
  return import(/* @vite-ignore */ name);
};

const inNode = (): boolean => typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/** The error for a `webgpu` package that could not be imported: not installed, or installed and broken. */
function packageLoadError(e: unknown): WebGPUUnavailableError {
  const message = (e as Error)?.message ?? String(e);
  const notInstalled = /Cannot find (?:package|module) ['"]webgpu['"]/.test(message);
  const err = new WebGPUUnavailableError(!inNode()
    ? `WebGPU is not available: navigator.gpu is missing. ${INSTALL_HINT}`
    : notInstalled
      ? 'WebGPU in Node needs the `webgpu` package (Dawn), an optional peer dependency of @webgrad/kernels ' +
        'that is not installed: run `npm install webgpu`, or pass a GPU object as `gpu`.'
      : `The \`webgpu\` package is installed but could not be loaded (${message}). ${INSTALL_HINT}`);
  return Object.assign(err, { cause: e });
}

/**
 * Finds a GPU object: the one given, navigator.gpu, or Node's `webgpu` package (installing its
 * globals such as GPUBufferUsage). `load` imports the package (tests replace it).
 */
export async function findGPU(given?: GPU, load: WebGPUPackageLoader = loadWebGPUPackage): Promise<GPU> {
  if (given) return given;
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  let mod: { create(flags: string[]): GPU; globals: object };
  try {
    mod = (await load()) as typeof mod;
  } catch (e) {
    throw packageLoadError(e);
  }
  if (typeof mod?.create !== 'function' || typeof mod.globals !== 'object') {
    throw packageLoadError(new Error('the module has no create() and globals: not the `webgpu` package (Dawn)'));
  }
  const g = globalThis as Record<string, unknown>;
  for (const [k, v] of Object.entries(mod.globals)) if (!(k in g)) g[k] = v;
  // Dawn's instance must outlive every adapter and device made from it: if the GPU object were
  // garbage-collected, Dawn's event processing would touch a freed instance and crash the process.
  nodeGPU ??= mod.create([]);
  return nodeGPU;
}

export function describeAdapter(adapter: GPUAdapter): AdapterDescription {
  const info = (adapter.info ?? {}) as Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean; adapterType?: string };
  const vendor = info.vendor ?? '';
  const architecture = info.architecture ?? '';
  const device = info.device ?? '';
  const description = info.description ?? '';
  const fallback = info.isFallbackAdapter === true ||
    (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  const isSoftware = fallback || info.adapterType === 'cpu' || architecture === 'software' ||
    SOFTWARE_PATTERN.test(`${vendor} ${architecture} ${device} ${description}`);
  return { vendor, architecture, device, description, isSoftware };
}

export interface AcquiredDevice {
  adapter: GPUAdapter;
  device: GPUDevice;
  info: AdapterDescription;
  features: ReadonlySet<string>;
}

export async function acquireDevice(opts: DeviceOptions = {}): Promise<AcquiredDevice> {
  const gpu = await findGPU(opts.gpu);
  const adapterOpts: GPURequestAdapterOptions = {};
  if (opts.powerPreference) adapterOpts.powerPreference = opts.powerPreference;
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await keepAlive(gpu.requestAdapter(adapterOpts));
  } catch (e) {
    throw new WebGPUUnavailableError(`requestAdapter failed: ${(e as Error).message}. ${INSTALL_HINT}`);
  }
  if (!adapter) throw new WebGPUUnavailableError(`No WebGPU adapter found. ${INSTALL_HINT}`);
  const info = describeAdapter(adapter);
  if (info.isSoftware && opts.allowSoftware === false) {
    throw new WebGPUUnavailableError(`Only a software WebGPU adapter is available (${info.description || info.device}) ` +
      'and allowSoftware is false.');
  }
  const requiredLimits: Record<string, number> = {};
  const limits = adapter.limits as unknown as Record<string, number | undefined>;
  for (const name of RAISED_LIMITS) {
    const v = limits[name];
    if (typeof v === 'number') requiredLimits[name] = v;
  }
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
  let device: GPUDevice;
  try {
    device = await keepAlive(adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'webgrad' }));
  } catch (e) {
    throw new WebGPUUnavailableError(`requestDevice failed on ${info.description || info.device}: ${(e as Error).message}`);
  }
  return { adapter, device, info, features: new Set(device.features as unknown as Iterable<string>) };
}
