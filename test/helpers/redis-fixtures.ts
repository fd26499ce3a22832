/** Fixtures for Redis spool tests: a unique key prefix, a log catcher and a tiny AES-256-GCM cipher. */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { afterAll, afterEach } from 'vitest';
import type { SpoolCipher } from '../../src/contracts/spool.js';
import { SpoolCorruptError } from '../../src/errors/index.js';

/** The Redis every test may use (it keeps nothing on disk); tests write only under their own key prefix. */
export const SHARED_REDIS_URL = process.env.SPILLWAY_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * The shared Redis for one test file: an admin client (closed after the
 * file), and `cleanups`, run after each test in reverse order of pushing.
 */
export function useSharedRedis(): { admin: Redis; cleanups: Array<() => Promise<unknown>> } {
  const admin = new Redis(SHARED_REDIS_URL, { maxRetriesPerRequest: 1 });
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });
  afterAll(() => admin.quit());
  return { admin, cleanups };
}

/** A key prefix no other test uses. */
export function uniquePrefix(label = 'redis'): string {
  return `test-${label}-${randomUUID()}`;
}

/** The keys a spool under `prefix` writes, for DEL in cleanup. */
export function spoolKeyNames(prefix: string): string[] {
  return [`{${prefix}}:spool`, `{${prefix}}:spool:bytes`];
}

/** A pino logger whose lines land in `lines` (parsed). */
export function catchLogs(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

/**
 * A test-local AES-256-GCM {@link SpoolCipher}: 12-byte nonce, ciphertext,
 * 16-byte tag. Stands in for the project's own cipher, through the interface only.
 */
export function testCipher(key: Buffer = randomBytes(32), keyId = 'test-key'): SpoolCipher {
  return {
    keyId,
    seal(plain) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([c.update(plain), c.final()]);
      return Buffer.concat([iv, body, c.getAuthTag()]);
    },
    open(sealed, where) {
      const buf = Buffer.from(sealed);
      try {
        const d = createDecipheriv('aes-256-gcm', key, buf.subarray(0, 12));
        d.setAuthTag(buf.subarray(buf.length - 16));
        return Buffer.concat([d.update(buf.subarray(12, buf.length - 16)), d.final()]);
      } catch (cause) {
        throw new SpoolCorruptError(`${where}: cannot decrypt with key ${keyId} (wrong key or altered bytes)`, { cause });
      }
    },
  };
}
