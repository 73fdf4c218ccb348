// Node.js file helpers for safetensors: atomic writes (temp file in the same directory, fsync,
// rename) and reads. node:fs is loaded lazily inside the functions so browser bundles of the
// package entry never pull it in.

import { SafetensorsError } from './errors.js';
import { parseSafetensors, serializeSafetensors, type ParsedSafetensors, type SafeTensorInput } from './format.js';

/** Options of `writeSafetensorsFile`, which writes a temporary file and renames it over `path`, so a crash never leaves a partial file. */
export interface WriteSafetensorsOptions {
  /** fsync the file and its directory (default true). */
  fsync?: boolean;
  /** Called after the temp file is fully written and synced, just before the rename. */
  beforeRename?: (tempPath: string) => void | Promise<void>;
}

// A non-literal specifier keeps browser bundlers from trying to resolve Node built-ins.
const nodeModule = (name: string): Promise<unknown> => import(name);
const loadFs = async () => (await nodeModule('node:fs/promises')) as typeof import('node:fs/promises');
const loadPath = async () => (await nodeModule('node:path')) as typeof import('node:path');

function describeCause(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

/**
 * Write `bytes` to `path` atomically: readers see either the old file or the complete new one.
 * On failure the temp file is removed, the old file (if any) is left untouched, and a
 * SafetensorsError naming `path` is thrown.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array, options: WriteSafetensorsOptions = {}): Promise<void> {
  const fs = await loadFs();
  const nodePath = await loadPath();
  const doSync = options.fsync ?? true;
  const dir = nodePath.dirname(path);
  const base = nodePath.basename(path);
  const tmp = nodePath.join(dir, `.${base}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`);
  let handle: Awaited<ReturnType<typeof fs.open>> | undefined;
  try {
    handle = await fs.open(tmp, 'wx', 0o644);
    let written = 0;
    while (written < bytes.length) {
      const { bytesWritten } = await handle.write(bytes, written, bytes.length - written, null);
      written += bytesWritten;
    }
    if (doSync) await handle.sync();
    await handle.close();
    handle = undefined;
    if (options.beforeRename) await options.beforeRename(tmp);
    await fs.rename(tmp, path);
  } catch (cause) {
    if (handle) await handle.close().catch(() => undefined);
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    if (cause instanceof SafetensorsError) throw cause;
    throw new SafetensorsError('io', `writing failed: ${describeCause(cause)}`, { source: path, cause });
  }
  if (doSync) {
    // Persist the rename itself; not every platform allows fsync on a directory.
    try {
      const dh = await fs.open(dir, 'r');
      try {
        await dh.sync();
      } finally {
        await dh.close();
      }
    } catch {
      /* best effort */
    }
  }
}

/** Serialize `tensors` and write them atomically to `path` (see serializeSafetensors). */
export async function writeSafetensorsFile(
  path: string,
  tensors: Record<string, SafeTensorInput>,
  metadata?: Record<string, string>,
  options: WriteSafetensorsOptions = {},
): Promise<void> {
  const bytes = serializeSafetensors(tensors, metadata, { source: path });
  await writeFileAtomic(path, bytes, options);
}

/** Read and validate a safetensors file; errors name `path`. */
export async function readSafetensorsFile(path: string): Promise<ParsedSafetensors> {
  const fs = await loadFs();
  let buf: Buffer;
  try {
    buf = await fs.readFile(path);
  } catch (cause) {
    throw new SafetensorsError('io', `reading failed: ${describeCause(cause)}`, { source: path, cause });
  }
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  return parseSafetensors(bytes, { source: path });
}
