/** Encryption at rest: AES-256-GCM records, a wrong key told apart from damage, never garbage. */
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createDiskSpool, type DiskSpoolOptions } from '../../adapters/disk/index.js';
import { createSpoolCipher, parseSpoolKey, spoolKeyFrom } from '../../src/crypto/spool-cipher.js';
import { ConfigError, SpoolCorruptError } from '../../src/errors/index.js';
import { SpoolKeyMismatchError } from '../../src/errors/spool.js';
import { makeEnvelopes, plain, useScratch } from '../helpers/spool-fixtures.js';
import { watchSpool } from '../helpers/spool-log.js';

const { tempDir, track } = useScratch('cipher');
const keyA = randomBytes(32);
const keyB = randomBytes(32);

const open = async (options: DiskSpoolOptions) => track(await createDiskSpool({ logger: watchSpool().logger, ...options }));

describe('spool cipher', () => {
  it('reads keys as 64 hex digits or base64 and refuses anything else with a ConfigError naming the field', () => {
    expect(parseSpoolKey(keyA.toString('hex'))).toEqual(keyA);
    expect(parseSpoolKey(keyA.toString('base64'))).toEqual(keyA);
    expect(() => parseSpoolKey('too short')).toThrow(ConfigError);
    expect(() => parseSpoolKey(randomBytes(16).toString('hex'), 'spool.encryption.key')).toThrow(/spool\.encryption\.key must be a 32-byte key/);
    expect(spoolKeyFrom({ keyEnv: 'SPOOL_KEY_T' }, 'spool.encryption', { SPOOL_KEY_T: keyA.toString('base64') })).toEqual(keyA);
    expect(() => spoolKeyFrom({ keyEnv: 'SPOOL_KEY_UNSET' }, 'spool.encryption', {})).toThrow(/SPOOL_KEY_UNSET, which is not set/);
  });

  it('seals with a fresh nonce each time and opens only under the same key', () => {
    const a = createSpoolCipher(keyA, 'spool disk:/x');
    const b = createSpoolCipher(keyB, 'spool disk:/x');
    const plainBytes = Buffer.from('the payload');
    const one = a.seal(plainBytes);
    const two = a.seal(plainBytes);
    expect(Buffer.from(one).equals(Buffer.from(two))).toBe(false);
    expect(Buffer.from(one).includes(plainBytes)).toBe(false);
    expect(Buffer.from(a.open(one, 'record 1'))).toEqual(plainBytes);
    expect(a.keyId).not.toBe(b.keyId);
    const wrong = (() => {
      try {
        b.open(one, 'record 1');
      } catch (e) {
        return e;
      }
    })();
    expect(wrong).toBeInstanceOf(SpoolKeyMismatchError);
    expect((wrong as Error).message).toMatch(/record 1 in spool disk:\/x .*key does not match/);
    const tampered = Buffer.from(one);
    tampered[tampered.length - 20]! ^= 1;
    expect(() => a.open(tampered, 'record 1')).toThrow(SpoolCorruptError);
    expect(() => a.open(tampered, 'record 1')).not.toThrow(SpoolKeyMismatchError);
  });
});

describe('disk spool with encryption at rest', () => {
  it('writes no plaintext, reads back under the same key, and refuses a wrong or missing key at open naming the spool', async () => {
    const dir = await tempDir();
    const records = makeEnvelopes(0, 20, 'secret-payload', 80);
    const spool = await open({ dir, cipher: createSpoolCipher(keyA) });
    await spool.append(records.slice(0, 10));
    await spool.append(records.slice(10));
    await spool.close();
    for (const f of (await readdir(dir)).filter((n) => n.endsWith('.seg'))) {
      const bytes = await readFile(join(dir, f));
      expect(bytes.includes(Buffer.from('secret-payload'))).toBe(false);
    }

    const wrong = await createDiskSpool({ dir, cipher: createSpoolCipher(keyB), logger: watchSpool().logger }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(SpoolKeyMismatchError);
    expect((wrong as Error).message).toContain(`spool disk:${dir}`);
    expect((wrong as Error).message).toMatch(/key does not match/);
    const none = await createDiskSpool({ dir, logger: watchSpool().logger }).catch((e: unknown) => e);
    expect(none).toBeInstanceOf(SpoolCorruptError);
    expect((none as Error).message).toMatch(/holds encrypted records .* no encryption key is configured/);

    const right = await open({ dir, cipher: createSpoolCipher(keyA) }); // the failed opens released the lock
    const lease = await right.lease(100);
    expect(lease.envelopes.map(plain)).toEqual(records.map(plain));
  });

  it('quarantines a sealed record whose GCM check fails under the right key instead of returning garbage', async () => {
    const dir = await tempDir();
    const records = makeEnvelopes(0, 5, 'gcm', 60);
    const spool = await open({ dir, cipher: createSpoolCipher(keyA) });
    await spool.append(records);
    await spool.close();
    const [name] = (await readdir(dir)).filter((n) => n.endsWith('.seg'));
    const file = join(dir, name!);
    const bytes = await readFile(file);
    // Flip a ciphertext byte of the third record and fix its CRC: only the GCM tag can notice.
    let at = 0;
    for (let i = 0; i < 2; i += 1) at += 8 + bytes.readUInt32BE(at);
    const length = bytes.readUInt32BE(at);
    bytes[at + 8 + 40]! ^= 0x01;
    bytes.writeUInt32BE(crc32(bytes.subarray(at + 8, at + 8 + length)), at + 4);
    await writeFile(file, bytes);
    const watch = watchSpool();
    const reopened = await open({ dir, cipher: createSpoolCipher(keyA), logger: watch.logger, onEvent: watch.onEvent });
    const lease = await reopened.lease(100);
    expect(lease.envelopes.map(plain)).toEqual(records.filter((_, i) => i !== 2).map(plain));
    expect(watch.events).toEqual([expect.objectContaining({ type: 'quarantined', file, offset: at })]);
  });
});
