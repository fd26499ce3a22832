/**
 * Takes and releases the lock of one directory `rounds` times, racing other
 * copies of itself, and counts the times another process held the lock at the
 * same time (each holder writes its mark to a shared file and reads it back
 * after a turn of the event loop). Prints `{ held, refused, doubles }` as JSON.
 *
 * Usage: node --import tsx lock-child.ts <dir> <rounds>
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { acquireDirLock } from '../../adapters/disk/lock.js';

const [dir, rounds] = [process.argv[2] as string, Number(process.argv[3])];
let held = 0;
let refused = 0;
let doubles = 0;
for (let i = 0; i < rounds; i++) {
  let lock;
  try {
    lock = await acquireDirLock(dir, 'LOCK', 'spool.dir');
  } catch {
    refused++;
    continue;
  }
  held++;
  const mark = `${process.pid}-${i}`;
  await writeFile(join(dir, 'owner'), mark);
  await new Promise((resolve) => setImmediate(resolve));
  if ((await readFile(join(dir, 'owner'), 'utf8')) !== mark) doubles++;
  await lock.release();
}
process.stdout.write(`${JSON.stringify({ held, refused, doubles })}\n`);
