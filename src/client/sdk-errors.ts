/**
 * The errors the drop-in client throws where `KinesisClient` callers check
 * the SDK's: a missing stream (`ResourceNotFoundException`) and an aborted
 * request (`AbortError`). See docs/drop-in-client.md, "Errors".
 */
import { ConfigError, isSpillwayError } from '../errors/index.js';

/**
 * The command's stream does not exist in the primary region. A
 * {@link ConfigError} (code `spillway:config`, never retried, never failed
 * over) that also looks like the SDK's `ResourceNotFoundException`: its
 * `name` is that, and it carries `$fault` and `$metadata`, so both
 * `error.name === 'ResourceNotFoundException'` and the SDK's
 * `error instanceof ResourceNotFoundException` hold, as with `KinesisClient`.
 */
export class StreamNotFoundError extends ConfigError {
  readonly $fault = 'client' as const;
  readonly $metadata: Record<string, unknown>;
  constructor(stream: string, region: string, cause: ConfigError) {
    super(`stream "${stream}" does not exist in ${region} (ResourceNotFoundException); create it, or fix the command's StreamName / StreamARN or the client's region`, {
      field: 'StreamName',
      stream,
      region,
      ...(cause.target === undefined ? {} : { target: cause.target }),
      cause,
    });
    this.name = 'ResourceNotFoundException';
    this.$metadata = { ...sdkMetadataOf(cause) };
  }
}

/** When opening a stream's bus failed because the primary stream is missing: the SDK-shaped error; otherwise the error as it was. */
export function asStreamNotFound(error: unknown, stream: string, region: string): unknown {
  // Only Kinesis' own answer that the stream is missing: a name the schema refuses is a configuration error as it is.
  if (isSpillwayError(error) && error.code === ConfigError.code && (error as ConfigError).field === 'primary.stream' && causeNamed(error, 'ResourceNotFoundException')) {
    return new StreamNotFoundError(stream, region, error as ConfigError);
  }
  return error;
}

/** `error` and the errors of its cause chain, at most five. */
function* chainOf(error: unknown): Generator<{ name?: unknown; $metadata?: unknown }> {
  for (let e = error, depth = 0; typeof e === 'object' && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) yield e;
}

/** True when an error named `name` is in the cause chain below `error`. */
function causeNamed(error: unknown, name: string): boolean {
  for (const e of chainOf((error as { cause?: unknown }).cause)) if (e.name === name) return true;
  return false;
}

/** The `$metadata` (request id, status) of the SDK error at the bottom of a cause chain, if any. */
function sdkMetadataOf(error: unknown): object {
  for (const e of chainOf(error)) if (typeof e.$metadata === 'object' && e.$metadata !== null) return e.$metadata;
  return {};
}

/** What the SDK accepts as `abortSignal`: a DOM AbortSignal or its own `AbortSignal` (with `onabort`). */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  /** Assigned by spillway only when there is no `addEventListener`, as the SDK's HTTP handler does. */
  onabort?: unknown;
  addEventListener?(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener?(type: 'abort', listener: () => void): void;
}

/** The SDK's abort error (as `@smithy/node-http-handler` builds it): `name` `AbortError`, the signal's reason as `cause`. */
export function abortError(signal: AbortSignalLike): Error {
  const reason = signal.reason;
  const error = new Error(reason && !(reason instanceof Error) ? String(reason) : 'Request aborted', reason instanceof Error ? { cause: reason } : undefined);
  error.name = 'AbortError';
  return error;
}

/**
 * `work()`, unless the signal is aborted first: an already-aborted signal
 * rejects before `work` starts (nothing is written); an abort while waiting
 * rejects at once, but cannot call back what was already handed to the bus.
 */
export function abortable<T>(signal: AbortSignalLike | undefined, work: () => Promise<T>): Promise<T> {
  if (!signal) return work();
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    const detach = listen(signal, onAbort);
    work().then(resolve, reject).finally(detach);
  });
}

function listen(signal: AbortSignalLike, onAbort: () => void): () => void {
  if (typeof signal.addEventListener === 'function') {
    signal.addEventListener('abort', onAbort, { once: true });
    return () => signal.removeEventListener?.('abort', onAbort);
  }
  // The SDK's own AbortSignal has only `onabort`; the SDK's HTTP handler assigns it the same way.
  const previous = signal.onabort;
  signal.onabort = function (this: unknown, ...args: unknown[]) {
    onAbort();
    return typeof previous === 'function' ? (previous as (...a: unknown[]) => unknown).apply(this, args) : undefined;
  };
  return () => {
    signal.onabort = previous ?? null;
  };
}
