/** Shared fixtures for spool and store tests: envelopes and throwaway directories. */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Envelope } from '../../src/envelope/types.js';
import { afterEach } from 'vitest';

/** A valid envelope whose id and payload are derived from `n` (and an optional tag). */
export function makeEnvelope(n: number, tag = 't', payloadBytes = 16): Envelope {
  const text = `${tag}:${n}:`.padEnd(Math.max(payloadBytes, 1), 'x');
  return {
    id: `${tag}-${String(n).padStart(8, '0')}`,
    partitionKey: `pk-${n % 7}`,
    kind: n % 5 === 0 ? 'snapshot' : 'delta',
    ...(n % 5 === 0 ? { coalesceKey: `ck-${n % 3}` } : {}),
    eventTime: 1_700_000_000_000 + n,
    sentTime: 1_700_000_000_500 + n,
    contentType: 'text/plain',
    data: Buffer.from(text, 'utf8'),
  };
}

/** `count` envelopes numbered from `from`. */
export function makeEnvelopes(from: number, count: number, tag = 't', payloadBytes = 16): Envelope[] {
  return Array.from({ length: count }, (_, i) => makeEnvelope(from + i, tag, payloadBytes));
}

/** The fields of an envelope as plain values, for deep equality across decoding. */
export function plain(envelope: Envelope): Record<string, unknown> {
  return { ...envelope, data: Buffer.from(envelope.data).toString('base64') };
}

/** A fresh, unique directory under the OS temp dir, and a function that removes it. */
export async function makeTempDir(label = 'spool'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `spillway-${label}-${randomUUID().slice(0, 8)}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Per-test scratch space for a test file: temp dirs and open resources are
 * released after each test, last first. Call once at the top of the file.
 */
export function useScratch(label: string): {
  tempDir(): Promise<string>;
  defer(...fns: Array<() => Promise<void> | void>): void;
  track<T extends { close(): Promise<void> }>(resource: T): T;
} {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });
  return {
    async tempDir() {
      const { dir, cleanup } = await makeTempDir(label);
      cleanups.push(cleanup);
      return dir;
    },
    defer(...fns) {
      cleanups.push(...fns);
    },
    track(resource) {
      cleanups.push(() => resource.close());
      return resource;
    },
  };
}
