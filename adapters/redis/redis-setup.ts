/** Connection-time chores (the consumer group, the node owning the spool's slot) and the durability confirmation. */
import type { Redis } from 'ioredis';
import { TransientError } from '../../src/errors/index.js';
import { connectionContext, type RedisClient } from './redis-connection.js';
import { classifyRedisError, type RedisErrorContext } from './redis-errors.js';
import { keySlot, type RedisSpoolKeys } from './redis-keys.js';
import type { DurabilityPlan } from './redis-persistence.js';

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

/**
 * Run the durability plan's confirmation after an append's write: WAITAOF or
 * WAIT on the slot owner's connection. A shortfall is an ambiguous
 * TransientError: the write happened and may survive.
 */
export async function confirmDurability(
  client: RedisClient,
  key: string,
  plan: DurabilityPlan | undefined,
  options: { waitTimeoutMs: number; minReplicas: number },
  where: Pick<RedisErrorContext, 'spool' | 'operation' | 'field'>,
): Promise<void> {
  if (plan === undefined || plan.confirm === 'none') return;
  const node = slotNode(client, key);
  const timeout = options.waitTimeoutMs;
  let confirmed: number;
  try {
    confirmed = plan.confirm === 'waitaof' ? (((await node.call('WAITAOF', 1, 0, timeout)) as number[])[0] ?? 0) : Number(await node.call('WAIT', options.minReplicas, timeout));
  } catch (error) {
    throw classifyRedisError(error, { ...where, operation: `${where.operation} (${plan.confirm.toUpperCase()})`, sent: true, ...connectionContext(client) });
  }
  const wanted = plan.confirm === 'waitaof' ? 1 : options.minReplicas;
  if (confirmed < wanted) {
    const what = plan.confirm === 'waitaof' ? 'the server did not confirm the AOF fsync' : `only ${confirmed} of ${wanted} replicas acknowledged it`;
    throw new TransientError(`redis spool ${where.spool}: ${where.operation} was written but ${what} within ${timeout} ms (it may survive)`, { target: where.spool, ambiguous: true });
  }
}
