/**
 * The `encryption` field every spool kind takes, and the cipher it makes:
 * AES-256-GCM with a 32-byte key given in the configuration (hex or base64)
 * or, better, named by an environment variable.
 */
import { z } from 'zod';
import type { SpoolCipher } from '../contracts/index.js';
import { createSpoolCipher, spoolKeyFrom } from './spool-cipher.js';

/** `encryption: { key } | { keyEnv }` on a spool. */
export const spoolEncryptionSchema = z
  .object({ key: z.string().min(1).optional(), keyEnv: z.string().min(1).optional() })
  .strict()
  .refine((e) => (e.key === undefined) !== (e.keyEnv === undefined), { error: 'encryption needs exactly one of key (32 bytes, hex or base64) or keyEnv (the name of an environment variable holding it)' });

/** The cipher for a spool's `encryption` field, or none; a bad or missing key is a ConfigError naming `field`. */
export function cipherFor(encryption: z.output<typeof spoolEncryptionSchema> | undefined, field: string, spool: string): SpoolCipher | undefined {
  if (!encryption) return undefined;
  return createSpoolCipher(spoolKeyFrom(encryption, `${field}.encryption`), spool);
}
