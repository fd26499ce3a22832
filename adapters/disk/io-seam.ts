/**
 * Fault-injection seam: the few filesystem calls whose failure the disk
 * adapters must survive without losing or corrupting data go through
 * {@link diskIo}, so a test can make one of them fail (or write short) and
 * check the recovery. Internal: not exported from `index.ts`.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { fsyncDir } from './fs-util.js';

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
  fsyncDirAfterCreate: (dir: string): Promise<void> => fsyncDir(dir),
  /** One write to the dedupe journal; like write(2) it may write fewer bytes than asked. */
  writeJournal: (handle: FileHandle, data: Buffer, offset: number, length: number): Promise<{ bytesWritten: number }> =>
    handle.write(data, offset, length),
};
