// The file-system calls checkpoints make, behind one small interface (CheckpointFs) so that a test
// can stand in for the disk, e.g. to crash before any chosen call. nodeCheckpointFs() is the real
// one; node:fs and node:path are imported lazily so browser bundles of the package never load them.

/** Every file-system operation a checkpoint save, listing or load performs. */
export interface CheckpointFs {
  /** Create a directory and its parents; no error when it exists. */
  mkdir(path: string): Promise<void>;
  /** Entry names of a directory (rejects when it does not exist). */
  readdir(path: string): Promise<string[]>;
  /** Whether a file or directory exists at `path`. */
  exists(path: string): Promise<boolean>;
  /** The bytes of a file (rejects when it does not exist). */
  readFile(path: string): Promise<Uint8Array>;
  /** Create a new file holding `bytes` (fails if it exists); with `fsync`, flushed to disk before it resolves. */
  writeFile(path: string, bytes: Uint8Array, fsync: boolean): Promise<void>;
  /** Atomic rename; the target must not be a non-empty directory. */
  rename(from: string, to: string): Promise<void>;
  /** Remove a file or a directory tree; no error when it is absent. */
  rm(path: string): Promise<void>;
  /** Flush a directory's entries to disk (best effort: not every platform can). */
  syncDir(path: string): Promise<void>;
}

const nodeModule = (name: string): Promise<unknown> => import(name);
const loadFs = async () => (await nodeModule('node:fs/promises')) as typeof import('node:fs/promises');

/** node:path, loaded on first use. */
export const nodePath = async () => (await nodeModule('node:path')) as typeof import('node:path');

/** The real file system (Node). */
export async function nodeCheckpointFs(): Promise<CheckpointFs> {
  const fs = await loadFs();
  return {
    mkdir: async (path) => { await fs.mkdir(path, { recursive: true }); },
    readdir: (path) => fs.readdir(path),
    exists: async (path) => { try { await fs.stat(path); return true; } catch { return false; } },
    readFile: async (path) => {
      const buf = await fs.readFile(path);
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    },
    writeFile: async (path, bytes, fsync) => {
      const h = await fs.open(path, 'wx', 0o644);
      try {
        let written = 0;
        while (written < bytes.length) written += (await h.write(bytes, written, bytes.length - written, null)).bytesWritten;
        if (fsync) await h.sync();
      } finally {
        await h.close();
      }
    },
    rename: (from, to) => fs.rename(from, to),
    rm: (path) => fs.rm(path, { recursive: true, force: true }),
    syncDir: async (path) => {
      try {
        const h = await fs.open(path, 'r');
        try { await h.sync(); } finally { await h.close(); }
      } catch { /* not every platform can fsync a directory */ }
    },
  };
}
