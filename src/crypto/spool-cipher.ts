/**
 * Encryption of spool records at rest: AES-256-GCM (node:crypto), a fresh
 * random 12-byte nonce per record, and the key's id stored with every record
 * so that a wrong key is told apart from damaged bytes.
 *
 * Sealed record layout (all spools share it):
 *
 *   0..3    magic and version: 0x53 0x50 0x45 0x01 ("SPE" + 1)
 *   4..11   key id: the first 8 bytes of SHA-256("spillway spool key" || key)
 *   12..23  nonce (random, 12 bytes)
 *   24..    ciphertext, then the 16-byte GCM tag
 *
 * The 12-byte prefix is also the GCM additional data, so the key id and
 * version cannot be swapped without the tag failing.
 *
 * Invariants
 * - `open` returns only bytes whose GCM tag verified under the configured key;
 *   it never returns garbage.
 * - A record sealed under another key throws {@link SpoolKeyMismatchError}
 *   (key ids differ); a record whose tag fails under the right key id throws
 *   {@link SpoolCorruptError} (damage).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { SpoolCipher } from '../contracts/spool.js';
import { ConfigError } from '../errors/config.js';
import { SpoolCorruptError, SpoolKeyMismatchError } from '../errors/spool.js';

/** Magic of a sealed record: "SPE" and format version 1. */
export const SEALED_MAGIC = Buffer.from([0x53, 0x50, 0x45, 0x01]);
const KEY_ID_BYTES = 8;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const PREFIX_BYTES = SEALED_MAGIC.length + KEY_ID_BYTES;
/** Bytes a sealed record adds to its plaintext. */
export const SEALED_OVERHEAD_BYTES = PREFIX_BYTES + NONCE_BYTES + TAG_BYTES;

/** True when `bytes` start like a sealed record (any key). */
export function isSealed(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x53 && bytes[1] === 0x50 && bytes[2] === 0x45;
}

/** The key id stored in a sealed record (hex), or undefined when it is too short to hold one. */
export function sealedKeyId(bytes: Uint8Array): string | undefined {
  if (bytes.length < PREFIX_BYTES) return undefined;
  return Buffer.from(bytes.buffer, bytes.byteOffset + SEALED_MAGIC.length, KEY_ID_BYTES).toString('hex');
}

/**
 * Parse a key: 32 bytes written as 64 hex digits or as base64 (44 characters
 * with padding). Throws {@link ConfigError} naming `field` otherwise.
 */
export function parseSpoolKey(text: string, field = 'spool.encryption.key'): Buffer {
  const trimmed = typeof text === 'string' ? text.trim() : '';
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) {
    const key = Buffer.from(trimmed, trimmed.includes('-') || trimmed.includes('_') ? 'base64url' : 'base64');
    if (key.length === 32) return key;
  }
  throw new ConfigError(
    `${field} must be a 32-byte key written as 64 hex digits or as base64 (for example the output of ` +
      `\`openssl rand -base64 32\`); got ${trimmed.length} characters that are neither`,
    { field },
  );
}

/**
 * Create the AES-256-GCM {@link SpoolCipher} for `key` (a 32-byte Buffer, or
 * a hex/base64 string: see {@link parseSpoolKey}). `spool` names the spool in
 * error messages.
 */
export function createSpoolCipher(key: Uint8Array | string, spool = 'the spool'): SpoolCipher {
  const raw = typeof key === 'string' ? parseSpoolKey(key) : Buffer.from(key);
  if (raw.length !== 32) throw new ConfigError(`a spool encryption key must be 32 bytes, got ${raw.length}`, { field: 'spool.encryption.key' });
  const idBytes = createHash('sha256').update('spillway spool key').update(raw).digest().subarray(0, KEY_ID_BYTES);
  const prefix = Buffer.concat([SEALED_MAGIC, idBytes]);
  const keyId = idBytes.toString('hex');
  return {
    keyId,
    seal(plain) {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', raw, nonce);
      cipher.setAAD(prefix);
      const body = cipher.update(plain);
      const last = cipher.final();
      return Buffer.concat([prefix, nonce, body, last, cipher.getAuthTag()]);
    },
    open(sealed, where) {
      const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
      if (!isSealed(bytes) || bytes.length < SEALED_OVERHEAD_BYTES) {
        throw new SpoolCorruptError(`${where} in ${spool} is not an encrypted spool record (too short or wrong magic)`, { spool });
      }
      if (bytes[3] !== SEALED_MAGIC[3]) {
        throw new SpoolCorruptError(`${where} in ${spool} uses encryption format version ${bytes[3]}; this spillway reads version 1. Upgrade spillway`, { spool });
      }
      const found = sealedKeyId(bytes) as string;
      if (found !== keyId) throw new SpoolKeyMismatchError(`${where} in ${spool}`, found, keyId, { spool });
      const nonce = bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + NONCE_BYTES);
      const decipher = createDecipheriv('aes-256-gcm', raw, nonce);
      decipher.setAAD(bytes.subarray(0, PREFIX_BYTES));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      try {
        return Buffer.concat([decipher.update(bytes.subarray(PREFIX_BYTES + NONCE_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
      } catch (cause) {
        throw new SpoolCorruptError(
          `${where} in ${spool} failed its AES-256-GCM check although it carries the configured key's id ${keyId}: ` +
            `the record is damaged, not encrypted with another key`,
          { spool, cause },
        );
      }
    },
  };
}

/**
 * The key for a spool from its configuration: the key itself, or the name of
 * an environment variable holding it. Throws {@link ConfigError} when the
 * variable is unset or the key does not parse.
 */
export function spoolKeyFrom(config: { key?: string; keyEnv?: string }, field: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  if (config.key !== undefined) return parseSpoolKey(config.key, `${field}.key`);
  if (config.keyEnv !== undefined) {
    const value = env[config.keyEnv];
    if (value === undefined || value === '') {
      throw new ConfigError(`${field}.keyEnv names the environment variable ${config.keyEnv}, which is not set; export the 32-byte spool key in it`, {
        field: `${field}.keyEnv`,
      });
    }
    return parseSpoolKey(value, `the environment variable ${config.keyEnv} (${field}.keyEnv)`);
  }
  throw new ConfigError(`${field} needs either key (the 32-byte key, hex or base64) or keyEnv (an environment variable holding it)`, { field });
}
