/** Connection-time chores: the consumer group, and which node owns the spool's slot. */
import type { Redis } from 'ioredis';
import type { RedisClient } from './redis-connection.js';
import { keySlot, type RedisSpoolKeys } from './redis-keys.js';

/**
 * Create the consumer group (from the stream's start, so entries appended
 * before any reconciler ran are read too) unless it exists. Checks first with
 * the read-only XINFO GROUPS, so a server at maxmemory (which refuses XGROUP
 * CREATE) can still be drained.
 */
export async function ensureGroup(client: RedisClient, keys: RedisSpoolKeys): Promise<void> {
  try {
    const groups = (await client.call('XINFO', 'GROUPS', keys.stream)) as unknown[][];
    if (groups.some((g) => g[1] === keys.group)) return;
  } catch (error) {
    if (!/no such key/i.test((error as Error).message)) throw error;
  }
  try {
    await client.call('XGROUP', 'CREATE', keys.stream, keys.group, '0', 'MKSTREAM');
  } catch (error) {
    if (!/^BUSYGROUP/.test((error as Error).message)) throw error;
  }
}

/**
 * The client that talks to the node owning the spool's slot: the client
 * itself for a single Redis; on a cluster, that master's connection, so that
 * WAIT/WAITAOF and INFO go where the writes went (ioredis would send a
 * keyless command to any node).
 */
export function slotNode(client: RedisClient, key: string): Redis {
  if (!('nodes' in client) || typeof client.nodes !== 'function' || !('slots' in client)) return client as Redis;
  const owner = client.slots[keySlot(key)]?.[0];
  const masters = client.nodes('master');
  const node = masters.find((n) => `${n.options.host}:${n.options.port}` === owner) ?? masters[0];
  if (node === undefined) throw new Error('the cluster has no master node connected');
  return node;
}
