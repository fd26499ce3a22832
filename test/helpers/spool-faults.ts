/**
 * Fault injection for the disk adapters through their internal seam
 * (adapters/disk/io-seam.ts): replace one call, undo it after the test.
 */
import { diskIo } from '../../adapters/disk/io-seam.js';

type DiskIo = typeof diskIo;

/**
 * Replace `diskIo[name]` with `make(original)`; returns a function that puts
 * the original back. Call it from `afterEach` (or a `finally`).
 */
export function replaceDiskIo<K extends keyof DiskIo>(name: K, make: (original: DiskIo[K]) => DiskIo[K]): () => void {
  const original = diskIo[name];
  diskIo[name] = make(original);
  return () => {
    diskIo[name] = original;
  };
}

/** An errno-style error, as Node's fs raises them. */
export function fsError(code: string, message = `${code}: injected failure`): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}
