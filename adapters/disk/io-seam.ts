/**
 * Fault-injection seam: the filesystem calls whose failure (or whose order)
 * the disk adapters' guarantees rest on go through {@link diskIo}, so a test
 * can make one of them fail, write short, or watch when it returns, and check
 * the recovery. Internal: not exported from `index.ts`.
 */
import { open, type FileHandle } from 'node:fs/promises';

/** fsync a directory, so entries created, renamed or removed in it are durable. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * The seam itself. Production code only calls its members and never
 * reassigns them; a test replaces one member and puts the original back when
 * it is done (see `test/helpers/spool-faults.ts`).
 *
 * @internal
 */
export const diskIo = {
  /** Open a spool segment for reading (`SegmentReader`). */
  openSegmentForRead: (file: string): Promise<FileHandle> => open(file, 'r'),
  /** fsync the spool directory after a new segment file was created in it (`createSegment`). */
  fsyncDirAfterCreate: (dir: string): Promise<void> => syncDirectory(dir),
  /** fsync any directory (`fsyncDir`: renames, lock files, deletions). */
  syncDir: (dir: string): Promise<void> => syncDirectory(dir),
  /** fsync a whole file (`writeFileAtomic`: cursor, checkpoints, quarantine copies). */
  syncFile: (handle: FileHandle, _file: string): Promise<void> => handle.sync(),
  /** One gathered write at the end of a spool segment; like writev(2) it may write fewer bytes than asked. */
  writeSegment: (handle: FileHandle, buffers: Buffer[], _file: string): Promise<{ bytesWritten: number }> => handle.writev(buffers),
  /** fdatasync a spool segment: the call every `append` acknowledgement waits for. */
  syncSegment: (handle: FileHandle, _file: string): Promise<void> => handle.datasync(),
  /** One write to the dedupe journal; like write(2) it may write fewer bytes than asked. */
  writeJournal: (handle: FileHandle, data: Buffer, offset: number, length: number): Promise<{ bytesWritten: number }> =>
    handle.write(data, offset, length),
};
