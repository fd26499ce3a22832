/**
 * Stream entries and the Lua scripts that write and delete them.
 *
 * An entry's fields: `e` the envelope bytes (`encodeEnvelope`, sealed when a
 * cipher is configured), `t` the event time (ms, plain, for `inspect`), `k`
 * the partition key (left out when sealed: it would leak in plain text) and
 * `x` the cipher's key id (only when sealed).
 *
 * The bytes counter counts `#e + #k` of every entry not yet deleted; the
 * append script adds exactly that, the ack script subtracts what it deletes.
 */
import type { SpoolCipher } from '../../src/contracts/spool.js';
import { decodeEnvelope, encodeEnvelope, type Envelope } from '../../src/envelope/index.js';
import { SpoolCorruptError } from '../../src/errors/index.js';
import { FULL_REPLY } from './redis-errors.js';

/**
 * KEYS: stream, bytes counter. ARGV: maxBytes (0 = none), batch bytes, then 4 per record: e, t, k, x.
 * All or nothing: the check comes before the first write, and a script's writes are atomic.
 */
export const APPEND_SCRIPT = `
local max = tonumber(ARGV[1])
local size = tonumber(ARGV[2])
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
if max > 0 and used + size > max then
  return redis.error_reply('${FULL_REPLY} ' .. used .. ' of ' .. max .. ' bytes held')
end
for i = 3, #ARGV, 4 do
  local fields = {'e', ARGV[i], 't', ARGV[i + 1]}
  if ARGV[i + 2] ~= '' then table.insert(fields, 'k'); table.insert(fields, ARGV[i + 2]) end
  if ARGV[i + 3] ~= '' then table.insert(fields, 'x'); table.insert(fields, ARGV[i + 3]) end
  redis.call('XADD', KEYS[1], '*', unpack(fields))
end
redis.call('INCRBY', KEYS[2], size)
return used + size
`;

/**
 * KEYS: stream, bytes counter. ARGV: group, then ids. XACK then XDEL each id
 * (never anything else: nothing unacknowledged is trimmed), and take the
 * deleted entries' bytes off the counter. Returns how many were deleted.
 */
export const ACK_SCRIPT = `
local freed = 0
local deleted = 0
for i = 2, #ARGV do
  local found = redis.call('XRANGE', KEYS[1], ARGV[i], ARGV[i])
  redis.call('XACK', KEYS[1], ARGV[1], ARGV[i])
  if #found > 0 then
    local f = found[1][2]
    for j = 1, #f, 2 do
      if f[j] == 'e' or f[j] == 'k' then freed = freed + #f[j + 1] end
    end
    deleted = deleted + redis.call('XDEL', KEYS[1], ARGV[i])
  end
end
if freed > 0 then
  local left = redis.call('DECRBY', KEYS[2], freed)
  if left < 0 then redis.call('SET', KEYS[2], 0) end
end
return deleted
`;

/** One record as the append script takes it. */
export interface EncodedEntry {
  readonly args: [Buffer, string, string, string];
  readonly bytes: number;
}

/** Encode (and seal) an envelope into the append script's four arguments. */
export function encodeEntry(envelope: Envelope, cipher?: SpoolCipher): EncodedEntry {
  const plain = encodeEnvelope(envelope);
  const bytes = cipher === undefined ? plain : cipher.seal(plain);
  const e = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const k = cipher === undefined ? envelope.partitionKey : '';
  return { args: [e, String(envelope.eventTime), k, cipher?.keyId ?? ''], bytes: e.length + Buffer.byteLength(k, 'utf8') };
}

/** An entry as read back: its id, the envelope and the bytes it counts for. */
export interface SpoolEntry {
  readonly id: string;
  readonly envelope: Envelope;
  readonly bytes: number;
}

/** Fields of a raw entry (`[name, value, name, value…]` as Buffers) by name. */
export function entryFields(raw: readonly Buffer[]): Map<string, Buffer> {
  const fields = new Map<string, Buffer>();
  for (let i = 0; i + 1 < raw.length; i += 2) fields.set((raw[i] as Buffer).toString('utf8'), raw[i + 1] as Buffer);
  return fields;
}

/** Decode one entry; throws SpoolCorruptError naming the entry when it cannot. */
export function decodeEntry(id: string, raw: readonly Buffer[], where: string, cipher?: SpoolCipher): SpoolEntry {
  const fields = entryFields(raw);
  const e = fields.get('e');
  const keyId = fields.get('x')?.toString('utf8');
  const at = `${where} entry ${id}`;
  if (e === undefined) throw new SpoolCorruptError(`${at} has no 'e' field: it was not written by spillway; delete it (XDEL) or use another keyPrefix`);
  if (keyId !== undefined && cipher === undefined) {
    throw new SpoolCorruptError(`${at} is encrypted with key '${keyId}' but the spool has no cipher; configure the spool's encryption key to read it`);
  }
  try {
    const plain = keyId === undefined ? e : cipher!.open(e, at);
    return { id, envelope: decodeEnvelope(plain), bytes: e.length + (fields.get('k')?.length ?? 0) };
  } catch (cause) {
    if (cause instanceof SpoolCorruptError) throw cause;
    throw new SpoolCorruptError(`${at} does not decode as a spillway envelope (${(cause as Error).message}); it cannot be replayed`, { cause });
  }
}
