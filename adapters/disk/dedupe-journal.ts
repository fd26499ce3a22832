/**
 * A {@link DedupeStore} on local disk: an append-only journal of
 * `["<id>",<expiresAt>]` lines, fdatasync'd before `markSeen` resolves (one
 * sync serves every concurrent call), loaded on open (expired entries
 * dropped) into a compact table ({@link SeenIds}: ULIDs as 16 bytes, no
 * string per id), so a drain of millions of records stays small in memory. When the journal grows well past the live set it is
 * compacted: live entries are written to a tmp file, fsync'd and renamed over
 * the journal. A torn tail (a crash mid-append) is cut off on open. A write
 * that fails (or writes short and then fails) is cut back off at once, so a
 * broken line is never followed by good ones; if even that cut fails, the
 * store refuses further writes until it is reopened.
 */
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DedupeStore } from '../../src/contracts/stores.js';
import { ClosedError, ConfigError, SpoolCorruptError, ValidationError } from '../../src/errors/index.js';
import { createCoalescer } from './coalescer.js';
import { FILE_MODE, describeFsError, ensurePrivateDir, errnoCode, ioError, writeFileAtomic } from './fs-util.js';
import { diskIo } from './io-seam.js';
import { acquireDirLock, type DirLock } from './lock.js';
import { SeenIds } from './seen-ids.js';
import { isPackableUlid } from '../../src/envelope/ulid-bytes.js';

/** Options for {@link createDiskDedupeStore}. */
export interface DiskDedupeStoreOptions {
  /** Directory for `dedupe.journal` (created with mode 0700). One process per directory. */
  dir: string;
  /** Wall-clock milliseconds; injected by tests. */
  clock?: () => number;
  /** Never compact a journal shorter than this many lines. Default 10,000. */
  compactMinLines?: number;
  /** Compact once the journal holds more than this many lines per live id. Default 4. */
  compactRatio?: number;
}

/** A {@link DedupeStore} that also reports its journal's size. */
export interface DiskDedupeStore extends DedupeStore {
  /** Ids held (live, or expired but not yet purged) and lines in the journal file. */
  stats(): { ids: number; journalLines: number; compactions: number };
}

/** File name of the journal inside the directory. */
export const DEDUPE_JOURNAL_FILE = 'dedupe.journal';

/**
 * Open (or create) the dedupe journal in `options.dir`. Throws
 * {@link ConfigError} for an unusable or locked directory and
 * {@link SpoolCorruptError} for a journal damaged before its tail.
 */
export async function createDiskDedupeStore(options: DiskDedupeStoreOptions): Promise<DiskDedupeStore> {
  if (typeof options?.dir !== 'string' || options.dir.length === 0) {
    throw new ConfigError('the dedupe store needs a dir: the directory for its journal', { field: 'stateDir' });
  }
  const dir = resolve(options.dir);
  await ensurePrivateDir(dir, 'stateDir');
  const lock = await acquireDirLock(dir, 'dedupe.lock', 'stateDir');
  try {
    const journal = new DedupeJournal(dir, options, lock);
    await journal.open();
    return journal;
  } catch (error) {
    await lock.release();
    throw error;
  }
}

class DedupeJournal implements DiskDedupeStore {
  private readonly file: string;
  private readonly clock: () => number;
  private readonly minLines: number;
  private readonly ratio: number;
  private readonly seen = new SeenIds();
  private readonly writer = createCoalescer(() => this.flush());
  private pending: string[] = [];
  private lines = 0;
  /** Bytes of whole, durable lines in the journal file. */
  private size = 0;
  /** Set when a failed append could not be cut back off; every later write rejects with it. */
  private failure: SpoolCorruptError | undefined;
  private nextCheck = 0;
  private compactions = 0;
  private handle: FileHandle | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly dir: string,
    options: DiskDedupeStoreOptions,
    private readonly lock: DirLock,
  ) {
    this.file = join(dir, DEDUPE_JOURNAL_FILE);
    this.clock = options.clock ?? Date.now;
    this.minLines = options.compactMinLines ?? 10_000;
    this.ratio = options.compactRatio ?? 4;
    this.nextCheck = this.minLines;
  }

  async open(): Promise<void> {
    const now = this.clock();
    const { lines, validBytes, totalBytes } = await readJournal(this.file, (id, expiresAt) => {
      if (expiresAt > now) this.remember(id, expiresAt);
    });
    this.lines = lines;
    this.size = validBytes;
    this.handle = await this.openAppend();
    if (validBytes < totalBytes) {
      await this.handle.truncate(validBytes);
      await this.handle.sync();
    }
    if (this.shouldCompact()) await this.compact();
  }

  async filterUnseen(ids: readonly string[]): Promise<string[]> {
    this.assertOpen();
    const now = this.clock();
    return ids.filter((id) => {
      const expiresAt = this.seen.get(id);
      return expiresAt === undefined || expiresAt <= now;
    });
  }

  async markSeen(ids: readonly string[], ttlMs: number): Promise<void> {
    this.assertOpen();
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new ValidationError(`markSeen needs a ttlMs > 0, got ${String(ttlMs)}`);
    if (ids.length === 0) return;
    if (this.failure !== undefined) throw this.failure;
    const expiresAt = this.clock() + ttlMs;
    const tail = `",${JSON.stringify(expiresAt)}]\n`;
    for (const id of ids) {
      if (typeof id !== 'string') throw new ValidationError('record ids must be strings');
      this.remember(id, expiresAt);
      // A canonical ULID needs no JSON escaping: the same line JSON.stringify would write, without an array per id.
      this.pending.push(isPackableUlid(id) ? `["${id}${tail}` : `${JSON.stringify([id, expiresAt])}\n`);
    }
    await this.writer.request();
  }

  stats(): { ids: number; journalLines: number; compactions: number } {
    return { ids: this.seen.size, journalLines: this.lines, compactions: this.compactions };
  }

  close(): Promise<void> {
    this.closing ??= this.writer
      .idle()
      .then(() => this.handle?.close())
      .finally(() => this.lock.release());
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new ClosedError(`dedupe store ${this.dir} is closed`);
  }

  private remember(id: string, expiresAt: number): void {
    this.seen.set(id, expiresAt); // keeps the later of two expiries
  }

  private async openAppend(): Promise<FileHandle> {
    try {
      return await open(this.file, 'a', FILE_MODE);
    } catch (cause) {
      throw ioError('open the dedupe journal', this.file, cause);
    }
  }

  /** Append every pending line with one write and one fdatasync, then compact if due. */
  private async flush(): Promise<void> {
    const lines = this.pending;
    this.pending = [];
    if (lines.length === 0) return;
    if (this.failure !== undefined) throw this.failure;
    this.handle ??= await this.openAppend();
    const data = Buffer.from(lines.join(''));
    await this.append(this.handle, data);
    this.size += data.length;
    this.lines += lines.length;
    if (this.shouldCompact()) await this.compact();
  }

  /** Write all of `data` (finishing short writes) and fdatasync; on failure cut the file back to its last good size. */
  private async append(handle: FileHandle, data: Buffer): Promise<void> {
    try {
      for (let done = 0; done < data.length; ) {
        const { bytesWritten } = await diskIo.writeJournal(handle, data, done, data.length - done);
        if (bytesWritten <= 0) throw new Error(`a write of ${data.length - done} bytes wrote nothing`);
        done += bytesWritten;
      }
      await handle.datasync();
    } catch (cause) {
      throw await this.undo(handle, cause);
    }
  }

  /** Cut a failed append back off; if even that fails, refuse all further writes. */
  private async undo(handle: FileHandle, cause: unknown): Promise<SpoolCorruptError> {
    try {
      await handle.truncate(this.size);
      await handle.datasync();
    } catch {
      this.failure = new SpoolCorruptError(
        `could not append to the dedupe journal ${this.file} (${describeFsError(cause)}) nor cut the failed write back off; ` +
          `the dedupe store refuses further writes. Check the disk (dmesg, df), then restart to reopen it`,
        { cause },
      );
      return this.failure;
    }
    return ioError('append to the dedupe journal', this.file, cause);
  }

  /**
   * Checked after every `max(compactMinLines, ids held)` appended lines (so
   * the purge costs O(1) per line): purge expired ids, then compact if the
   * journal holds more than `ratio` lines per live id.
   */
  private shouldCompact(): boolean {
    if (this.lines < this.nextCheck) return false;
    this.seen.purge(this.clock());
    this.nextCheck = this.lines + Math.max(this.minLines, this.seen.size);
    return this.lines > this.ratio * this.seen.size;
  }

  /** Rewrite the live entries to a tmp file, fsync it, rename it over the journal. */
  private async compact(): Promise<void> {
    const body = journalBody(this.seen.entries());
    try {
      await writeFileAtomic(this.dir, this.file, body);
      this.size = body.length;
      const old = this.handle;
      this.handle = undefined;
      await old?.close();
      this.handle = await this.openAppend();
    } catch (cause) {
      throw ioError('compact the dedupe journal', this.file, cause);
    }
    this.lines = this.seen.size;
    this.nextCheck = this.lines + Math.max(this.minLines, this.seen.size);
    this.compactions += 1;
  }
}

/** The journal lines of `entries` as one buffer, built 10,000 lines at a time (no string per id held at once). */
function journalBody(entries: Iterable<[string, number]>): Buffer {
  const parts: Buffer[] = [];
  let lines: string[] = [];
  for (const [id, expiresAt] of entries) {
    lines.push(`${JSON.stringify([id, expiresAt])}\n`);
    if (lines.length === 10_000) {
      parts.push(Buffer.from(lines.join('')));
      lines = [];
    }
  }
  parts.push(Buffer.from(lines.join('')));
  return Buffer.concat(parts);
}

interface JournalContents {
  /** Good lines read. */
  lines: number;
  /** Bytes up to the end of the last good line. */
  validBytes: number;
  totalBytes: number;
}

/** Parse the journal, handing each good line to `visit`; a bad tail is left out, a bad line before good ones throws. */
async function readJournal(file: string, visit: (id: string, expiresAt: number) => void): Promise<JournalContents> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (cause) {
    if (errnoCode(cause) === 'ENOENT') return { lines: 0, validBytes: 0, totalBytes: 0 };
    throw ioError('read the dedupe journal', file, cause);
  }
  let lines = 0;
  let at = 0;
  let bad: number | undefined;
  while (at < data.length) {
    const newline = data.indexOf(0x0a, at);
    const end = newline === -1 ? data.length : newline + 1;
    const entry = newline === -1 ? undefined : parseLine(data.toString('utf8', at, newline));
    if (entry === undefined) bad ??= at;
    else if (bad !== undefined) throw journalCorrupt(file, bad);
    else {
      visit(entry[0], entry[1]);
      lines++;
    }
    at = end;
  }
  return { lines, validBytes: bad ?? data.length, totalBytes: data.length };
}

function parseLine(line: string): [string, number] | undefined {
  try {
    const value: unknown = JSON.parse(line);
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'number') {
      return [value[0], value[1]];
    }
  } catch {
    // not a journal line
  }
  return undefined;
}

function journalCorrupt(file: string, offset: number): SpoolCorruptError {
  return new SpoolCorruptError(
    `the dedupe journal ${file} is corrupt at byte ${offset} (a bad line is followed by good ones). ` +
      `Move it aside to inspect it; without it, records already delivered may be delivered once more`,
  );
}
