/// <reference types="@webgpu/types" preserve="true" />
/// <reference lib="esnext.disposable" preserve="true" />
// The global declarations webgrad's public types use, brought into every program that imports the
// packages (the references are kept in the emitted index.d.ts's import of this file): the WebGPU
// types (GPU, GPUBuffer, …, from @webgpu/types, which extends TypeScript's DOM library) and
// Symbol.dispose / Disposable for `using` (TypeScript's libraries before ESNext lack them).
export {};
