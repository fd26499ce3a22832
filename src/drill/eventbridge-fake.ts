/**
 * A protocol-level EventBridge fake for tests and drills (no EventBridge
 * emulator exists on npm): an HTTP server on 127.0.0.1 speaking AWS JSON 1.1
 * with `X-Amz-Target: AWSEvents.PutEvents | AWSEvents.DescribeEventBus`, error
 * bodies as AWS sends them (`{"__type","message"}` plus `x-amzn-ErrorType`).
 * Each bus may have one rule target: an SQS queue that every accepted event
 * is delivered to, as EventBridge delivers it (`{ version, id, detail-type,
 * source, account, time, region, resources, detail }`). Tooling only.
 *
 * Unlike EventBridge, delivery happens before PutEvents answers (so an
 * accepted event is already in the queue), and an event the queue does not
 * take fails its entry with InternalFailure instead of being retried later.
 */
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** Where a bus's rule delivers its events. */
export interface FakeRuleTarget {
  /** A client that reaches the queue (the fake does not own it). */
  client: SQSClient;
  queueUrl: string;
}

/** Make some PutEvents entries fail, as EventBridge reports them (in `Entries`, counted in `FailedEntryCount`). */
export interface EntryFaults {
  /** Fail every `failEvery`-th entry of a call (1-based). */
  failEvery: number;
  /** For the next this many PutEvents calls (default: until changed). */
  calls?: number;
  /** Default `InternalFailure`; `ThrottlingException` is the throttled case. */
  errorCode?: string;
}

/** Counters since the fake started. */
export interface EventBridgeFakeStats {
  putEventsCalls: number;
  entries: number;
  failedEntries: number;
  delivered: number;
}

/** A running fake. */
export interface EventBridgeFake {
  /** `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  /** Create a bus (and its rule target, if given). */
  addBus(name: string, target?: FakeRuleTarget): void;
  removeBus(name: string): void;
  /** Fail some entries of the next calls; `undefined` to stop. */
  failEntries(faults: EntryFaults | undefined): void;
  stats(): EventBridgeFakeStats;
  close(): Promise<void>;
}

const ACCOUNT = '000000000000';
const MAX_CALL_BYTES = 262_144;
const JSON_11 = 'application/x-amz-json-1.1';

class AwsError extends Error {
  constructor(readonly type: string, message: string, readonly status = 400) {
    super(message);
  }
}

interface PutEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  EventBusName?: string;
  Time?: number | string;
  Resources?: string[];
}

/** Start the fake on a free port of 127.0.0.1 (or `port`), in the given region. */
export async function startEventBridgeFake(options: { region?: string; port?: number } = {}): Promise<EventBridgeFake> {
  const state = new FakeBuses(options.region ?? 'us-east-1');
  const server = http.createServer((req, res) => void handle(req, res, (operation, body) => state.dispatch(operation, body)));
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    addBus(name, target) {
      state.buses.set(name, { arn: `arn:aws:events:${state.region}:${ACCOUNT}:event-bus/${name}`, created: Date.now(), ...(target ? { target } : {}) });
    },
    removeBus(name) {
      state.buses.delete(name);
    },
    failEntries(next) {
      state.faults = next ? { ...next, left: next.calls ?? -1 } : undefined;
    },
    stats: () => ({ ...state.counters }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The fake's buses, knobs and counters, and the two operations. */
class FakeBuses {
  readonly buses = new Map<string, { arn: string; target?: FakeRuleTarget; created: number }>();
  readonly counters: EventBridgeFakeStats = { putEventsCalls: 0, entries: 0, failedEntries: 0, delivered: 0 };
  faults: (EntryFaults & { left: number }) | undefined;

  constructor(readonly region: string) {}

  async dispatch(operation: string, body: Record<string, unknown>): Promise<unknown> {
    if (operation === 'AWSEvents.PutEvents') return this.putEvents(body as { Entries?: PutEntry[] });
    if (operation === 'AWSEvents.DescribeEventBus') {
      const bus = this.busOf(body['Name'] as string | undefined);
      return { Name: bus.name, Arn: bus.arn, CreationTime: bus.created / 1_000, LastModifiedTime: bus.created / 1_000 };
    }
    throw new AwsError('UnknownOperationException', `Operation ${operation || '(none)'} is not supported by this fake.`);
  }

  private busOf(nameOrArn: string | undefined) {
    const name = (nameOrArn ?? 'default').split(':event-bus/').at(-1) as string;
    const bus = this.buses.get(name);
    if (!bus) throw new AwsError('ResourceNotFoundException', `Event bus ${name} does not exist.`);
    return { name, ...bus };
  }

  private async putEvents(body: { Entries?: PutEntry[] }): Promise<unknown> {
    const entries = body.Entries ?? [];
    if (entries.length < 1 || entries.length > 10) {
      throw new AwsError('ValidationException', `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10`);
    }
    const size = entries.reduce((n, e) => n + (e.Time === undefined ? 0 : 14) + bytes(e.Source) + bytes(e.DetailType) + bytes(e.Detail) + (e.Resources ?? []).reduce((r, x) => r + bytes(x), 0), 0);
    if (size > MAX_CALL_BYTES) throw new AwsError('ValidationException', 'Total size of the entries in the request is over the limit.');
    for (const entry of entries) this.busOf(entry.EventBusName); // a missing bus fails the whole call, before anything is put
    this.counters.putEventsCalls++;
    const failing = this.faults && this.faults.left !== 0 ? this.faults : undefined;
    if (failing && failing.left > 0) failing.left--;
    const results = [];
    for (const [i, entry] of entries.entries()) {
      this.counters.entries++;
      const result = failing && (i + 1) % failing.failEvery === 0 ? failed(failing.errorCode ?? 'InternalFailure', 'Injected entry failure.') : await this.accept(entry);
      if ('ErrorCode' in result) this.counters.failedEntries++;
      results.push(result);
    }
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  }

  private async accept(entry: PutEntry): Promise<{ EventId: string } | { ErrorCode: string; ErrorMessage: string }> {
    if (!entry.Source || !entry.DetailType) return failed('InvalidArgument', 'Parameter Source and DetailType are required.');
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail ?? '');
    } catch {
      return failed('MalformedDetail', 'Detail is malformed.');
    }
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return failed('MalformedDetail', 'Detail is malformed.');
    const bus = this.busOf(entry.EventBusName);
    const id = randomUUID();
    const time = entry.Time === undefined ? new Date() : new Date(typeof entry.Time === 'number' ? entry.Time * 1_000 : entry.Time);
    const event = { version: '0', id, 'detail-type': entry.DetailType, source: entry.Source, account: ACCOUNT, time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'), region: this.region, resources: entry.Resources ?? [], detail };
    if (bus.target) {
      try {
        await bus.target.client.send(new SendMessageCommand({ QueueUrl: bus.target.queueUrl, MessageBody: JSON.stringify(event) }));
        this.counters.delivered++;
      } catch {
        return failed('InternalFailure', 'Internal service failure.');
      }
    }
    return { EventId: id };
  }
}

async function handle(req: IncomingMessage, res: ServerResponse, dispatch: (operation: string, body: Record<string, unknown>) => Promise<unknown>): Promise<void> {
  try {
    const raw = Buffer.concat((await req.toArray()) as Buffer[]).toString('utf8');
    let body: Record<string, unknown>;
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      throw new AwsError('SerializationException', 'Request body is not valid JSON.');
    }
    send(res, 200, await dispatch(String(req.headers['x-amz-target'] ?? ''), body));
  } catch (error) {
    const e = error instanceof AwsError ? error : new AwsError('InternalException', String(error), 500);
    send(res, e.status, { __type: e.type, message: e.message }, e.type);
  }
}

function send(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const out = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': JSON_11, 'content-length': out.length, 'x-amzn-requestid': randomUUID(), ...(errorType ? { 'x-amzn-errortype': errorType } : {}) });
  res.end(out);
}

function failed(code: string, message: string): { ErrorCode: string; ErrorMessage: string } {
  return { ErrorCode: code, ErrorMessage: message };
}

function bytes(text: string | undefined): number {
  return text === undefined ? 0 : Buffer.byteLength(text, 'utf8');
}
