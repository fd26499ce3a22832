/**
 * One classifier for everything ioredis and the server can throw at the
 * spool: raw ioredis errors never leave this adapter.
 *
 * - `OOM command not allowed` (server `maxmemory` reached) and the spool's own
 *   `maxBytes` refusal are a {@link SpoolFullError}: the next spool takes it.
 * - Down, slow, loading, read-only replica, busy script: {@link TransientError}.
 *   `ambiguous` is true when the command may have run (a timeout after it was
 *   sent, a connection lost with it in flight). With no connection (ioredis
 *   then says only "Stream isn't writeable and enableOfflineQueue options is
 *   false"), the message says which server cannot be reached, the last
 *   connection error (ECONNREFUSED, ENOTFOUND…) and what to check.
 * - Wrong password, ACL denial, key of the wrong type: {@link TargetRejectedError}
 *   (retrying there will not help; the message says what to fix).
 */
import { isSpillwayError, SpillwayError, SpoolFullError, TargetRejectedError, TransientError } from '../../src/errors/index.js';

/** The reply the append script gives when the spool's own `maxBytes` would be exceeded. */
export const FULL_REPLY = 'SPILLWAY_FULL';

/** What the failed operation was, for the message. */
export interface RedisErrorContext {
  /** Spool id, `redis:<host>:<port>/<key>`. */
  readonly spool: string;
  /** e.g. `append of 3 records`. */
  readonly operation: string;
  /** The command may have been sent (writes: the outcome is then unknown). */
  readonly sent: boolean;
  /** The spool's `maxBytes`, for the full message. */
  readonly maxBytes?: number;
  /** The configuration field of the url, named in the fix when the server cannot be reached (e.g. `spool.url`). */
  readonly field?: string;
  /** The client's last connection error (`connectionContext` in redis-connection.ts), said when the server cannot be reached. */
  readonly connectionError?: string;
}

/** No connection to the server: nothing was sent, and the reason is the connection's, not the command's. */
const UNREACHABLE = [/enableOfflineQueue/i, /Connection is closed/i, /ECONNREFUSED/, /ENOTFOUND/, /EAI_AGAIN/, /EHOSTUNREACH/, /ENETUNREACH/, /not connected/i, /None of startup nodes is available/i];
/** A message that itself names why the connection failed. */
const CONNECT_CAUSE = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ECONNRESET|certificate|TLS|SSL/i;
/** Failures before a command left this process: with no connection, it was never sent. */
const NOT_SENT = UNREACHABLE;
const MAYBE_SENT = [/Command timed out/i, /max retries per request/i, /ECONNRESET/, /EPIPE/, /ETIMEDOUT/, /socket/i];
const SERVER_BUSY = [/^LOADING/, /^BUSY/, /^READONLY/, /^MASTERDOWN/, /^TRYAGAIN/, /^CLUSTERDOWN/, /^MISCONF/, /^MOVED/, /^ASK/, /^NOREPLICAS/];
const REJECTED = [/^NOAUTH/, /^WRONGPASS/, /^NOPERM/, /^WRONGTYPE/, /^ERR unknown command/i];

/** Turn anything thrown by ioredis into a classified spillway error. */
export function classifyRedisError(error: unknown, context: RedisErrorContext): SpillwayError {
  if (isSpillwayError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const where = `redis spool ${context.spool}: ${context.operation} failed`;
  if (message.startsWith('OOM')) {
    return new SpoolFullError(
      `${where}: the Redis server is out of memory (${message}); nothing of it was written. ` +
        `Raise the server's maxmemory, let the reconciler drain the spool, or rely on the next spool`,
      { target: context.spool, cause: error },
    );
  }
  if (message.includes(FULL_REPLY)) {
    return new SpoolFullError(
      `${where}: the spool holds records up to its maxBytes (${context.maxBytes ?? '?'} bytes) not yet drained; nothing of it was written. ` +
        `Raise spool.maxBytes, or let the reconciler drain the spool`,
      { target: context.spool, cause: error },
    );
  }
  if (REJECTED.some((re) => re.test(message))) {
    return new TargetRejectedError(`${where}: the server refused it (${message}); check the url's password or ACL user, and that the key prefix is not used by something else`, {
      target: context.spool,
      cause: error,
    });
  }
  const notSent = NOT_SENT.some((re) => re.test(message));
  const ambiguous = context.sent && !notSent && (MAYBE_SENT.some((re) => re.test(message)) || !SERVER_BUSY.some((re) => re.test(message)));
  const text = UNREACHABLE.some((re) => re.test(message)) ? unreachable(where, message, context) : `${where}: ${message}`;
  return new TransientError(`${text}${ambiguous ? ' (it may have been applied)' : ''}`, {
    target: context.spool,
    cause: error,
    ambiguous,
  });
}

/** The message for a spool with no connection: which server, why (when known), and what to check. */
function unreachable(where: string, message: string, context: RedisErrorContext): string {
  const address = /^redis:(.+?:\d+)\//.exec(context.spool)?.[1] ?? context.spool;
  const cause = context.connectionError ?? (CONNECT_CAUSE.test(message) ? message : undefined);
  return (
    `${where}: the Redis server at ${address} cannot be reached (${cause === undefined ? 'not connected' : `last connection error: ${cause}`}); ` +
    `check ${context.field ?? 'the url'} (host and port) and that Redis is running and reachable from here. The spool reconnects by itself once it answers`
  );
}

/** True for a server reply that says the consumer group or stream is missing (deleted behind our back, or a restart without persistence). */
export function isNoGroup(error: unknown): boolean {
  return error instanceof Error && /^NOGROUP/.test(error.message);
}
