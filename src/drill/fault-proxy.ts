/**
 * An HTTP-level, fault-injecting reverse proxy in front of a Kinesis endpoint (usually an emulator).
 *
 * Faults can be switched at any time with `setFault`; each may be limited to some Kinesis operations
 * (read from `X-Amz-Target`) and to the next `times` matching requests.
 *
 * Wire protocol: @aws-sdk/client-kinesis 3.1143 speaks AWS JSON 1.1 (`application/x-amz-json-1.1`,
 * record Data as base64). Bodies are rewritten only for JSON; a CBOR request under `partial` is
 * forwarded untouched, and synthesised errors are always JSON with an `x-amzn-ErrorType` header.
 *
 * Invariants:
 * - `refuse` without limits closes the listener and destroys every open socket, so new connections
 *   get ECONNREFUSED; the next `setFault` re-listens on the SAME port (bound within a tick). Refused
 *   connections never reach the proxy and are not counted. `refuse` with `operations` or `times`
 *   must see the request first, so it resets that connection instead (client sees ECONNRESET).
 * - Requests held by `hang` are destroyed as soon as the fault changes or the proxy closes.
 * - In pass-through, client connections are kept alive and upstream uses a keep-alive agent.
 */
import { randomUUID } from 'node:crypto';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Error codes a `partial` fault can give the removed PutRecords entries. */
export type PartialErrorCode = 'ProvisionedThroughputExceededException' | 'InternalFailure';

/** Limits that narrow when a fault applies. */
export interface FaultLimits {
  /** Apply only to these operations (e.g. `'PutRecords'`); all others pass through. */
  operations?: readonly string[];
  /** Apply only to the next N matching requests, then pass through. */
  times?: number;
}

/**
 * A fault the proxy injects. `none`: pass through. `refuse`: ECONNREFUSED (ECONNRESET when limited, see
 * Invariants). `hang`: hold the request unanswered until the fault changes. `delay`: forward after `ms`.
 * `error500`: answer 500 InternalFailure. `throttle`: answer 400 ProvisionedThroughputExceededException.
 * `partial` (PutRecords only): forward all but every `failEvery`-th entry and report those as failed in place.
 * Synthesised answers are never forwarded.
 */
export type Fault =
  | { mode: 'none' }
  | ({ mode: 'refuse' } & FaultLimits)
  | ({ mode: 'hang' } & FaultLimits)
  | ({ mode: 'delay'; ms: number } & FaultLimits)
  | ({ mode: 'error500' } & FaultLimits)
  | ({ mode: 'throttle' } & FaultLimits)
  | ({ mode: 'partial'; failEvery: number; errorCode?: PartialErrorCode } & FaultLimits);

/** The name of a fault mode. */
export type FaultMode = Fault['mode'];

/** Counters since the proxy started. */
export interface ProxyStats {
  /** Requests that reached the proxy (refused connections never do). */
  total: number;
  /** Client connections accepted; fewer than `total` when keep-alive works. */
  connections: number;
  /** Requests per Kinesis operation (`'unknown'` without `X-Amz-Target`). */
  byOperation: Record<string, number>;
  /** Requests per request Content-Type. */
  contentTypes: Record<string, number>;
  /** Requests a fault was applied to, per mode. */
  faulted: Record<Exclude<FaultMode, 'none'>, number>;
  /** PutRecords entries removed and reported as failed by `partial`. */
  failedRecords: number;
}

/** A running fault proxy. */
export interface FaultProxy {
  /** `http://127.0.0.1:PORT`, stable across `refuse`. */
  readonly url: string;
  /** Switches the fault; takes effect for the next request (or connection, for `refuse`). */
  setFault(fault: Fault): void;
  /** A snapshot of the counters. */
  stats(): ProxyStats;
  /** Stops listening, destroys all sockets and the upstream agent. */
  close(): Promise<void>;
}

/** Options for {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** Upstream endpoint, e.g. `http://127.0.0.1:4567`. */
  target: string;
  /** Port to listen on (127.0.0.1); a free one when omitted. */
  port?: number;
}

type Upstream = { status: number; headers: IncomingHttpHeaders; body: Buffer };

const HOST = '127.0.0.1';
const JSON_TYPE = 'application/x-amz-json-1.1';
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade', 'te',
  'trailer', 'proxy-connection']);
const PARTIAL_MESSAGES: Record<PartialErrorCode, string> = {
  ProvisionedThroughputExceededException: 'Rate exceeded for shard in stream under account 000000000000.',
  InternalFailure: 'Internal service failure.',
};

/** Starts a fault proxy in pass-through mode (`{ mode: 'none' }`). */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const proxy = new FaultProxyServer(new URL(options.target));
  await proxy.listen(options.port ?? 0);
  return proxy;
}

class FaultProxyServer implements FaultProxy {
  private readonly server = http.createServer((req, res) => this.onRequest(req, res));
  private readonly agent = new http.Agent({ keepAlive: true });
  private readonly sockets = new Set<Socket>();
  private readonly hung = new Set<Socket>();
  private readonly counters: ProxyStats = { total: 0, connections: 0, byOperation: {}, contentTypes: {},
    faulted: { refuse: 0, hang: 0, delay: 0, error500: 0, throttle: 0, partial: 0 }, failedRecords: 0 };
  private fault: Fault = { mode: 'none' };
  private remaining: number | undefined;
  private listening = false;
  private closed = false;
  private port = 0;

  constructor(private readonly target: URL) {
    this.server.on('connection', (socket: Socket) => {
      this.counters.connections += 1;
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.server.on('error', () => (this.listening = false));
    // A re-listen binds a tick later; a refuse or close() that came in between wins.
    this.server.on('listening', () => {
      if (this.closed || !this.listening) this.server.close();
    });
  }

  get url(): string {
    return `http://${HOST}:${this.port}`;
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.listening = true;
      this.server.once('error', reject);
      this.server.listen(port, HOST, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        this.port = typeof address === 'object' && address !== null ? address.port : port;
        resolve();
      });
    });
  }

  setFault(fault: Fault): void {
    validateFault(fault);
    this.fault = fault;
    this.remaining = fault.mode === 'none' ? undefined : fault.times;
    this.releaseHung();
    const refuseAll = fault.mode === 'refuse' && fault.operations === undefined && fault.times === undefined;
    if (refuseAll) this.closeListener();
    else this.reopenListener();
  }

  stats(): ProxyStats {
    const c = this.counters;
    return { ...c, byOperation: { ...c.byOperation }, contentTypes: { ...c.contentTypes }, faulted: { ...c.faulted } };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.releaseHung();
    const wasListening = this.listening;
    const done = new Promise<void>((resolve) => (wasListening ? this.server.close(() => resolve()) : resolve()));
    this.listening = false;
    for (const socket of this.sockets) socket.destroy();
    this.agent.destroy();
    await done;
  }

  private closeListener(): void {
    if (!this.listening) return;
    this.listening = false;
    this.server.close();
    for (const socket of this.sockets) socket.destroy();
  }

  private reopenListener(): void {
    if (this.listening || this.closed) return;
    this.listening = true;
    this.server.listen(this.port, HOST);
  }

  private releaseHung(): void {
    for (const socket of this.hung) socket.destroy();
    this.hung.clear();
  }

  /** Returns the fault to apply to this request, consuming one of `times`, or undefined. */
  private claim(operation: string): Fault | undefined {
    const fault = this.fault;
    if (fault.mode === 'none' || this.remaining === 0) return undefined;
    if (fault.operations !== undefined && !fault.operations.includes(operation)) return undefined;
    if (fault.mode === 'partial' && operation !== 'PutRecords') return undefined;
    if (this.remaining !== undefined) this.remaining -= 1;
    this.counters.faulted[fault.mode] += 1;
    return fault;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] || 'unknown';
    const contentType = String(req.headers['content-type'] ?? 'none');
    const c = this.counters;
    c.total += 1;
    c.byOperation[operation] = (c.byOperation[operation] ?? 0) + 1;
    c.contentTypes[contentType] = (c.contentTypes[contentType] ?? 0) + 1;
    const fault = this.claim(operation);
    if (fault?.mode === 'hang') {
      this.hung.add(req.socket);
      req.socket.once('close', () => this.hung.delete(req.socket));
    } else if (fault?.mode === 'refuse') {
      req.socket.resetAndDestroy();
    } else {
      this.handle(req, res, fault);
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse, fault: Fault | undefined): void {
    readBody(req)
      .then((body) => this.respond(req, res, body, fault))
      .catch((error: unknown) => sendKinesisError(res, 502, 'InternalFailure', `fault proxy: ${String(error)}`));
  }

  private async respond(req: IncomingMessage, res: ServerResponse, body: Buffer, fault?: Fault): Promise<void> {
    switch (fault?.mode) {
      case 'error500':
        return sendKinesisError(res, 500, 'InternalFailure', 'Internal service failure (injected).');
      case 'throttle':
        return sendKinesisError(res, 400, 'ProvisionedThroughputExceededException', 'Rate exceeded (injected).');
      case 'delay':
        await new Promise((resolve) => setTimeout(resolve, fault.ms));
        break;
      case 'partial':
        return this.respondPartial(req, res, body, fault);
    }
    sendUpstream(res, await this.forward(req, body));
  }

  private async respondPartial(
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    fault: Extract<Fault, { mode: 'partial' }>,
  ): Promise<void> {
    const request = parsePutRecords(req, body);
    if (request === undefined) return sendUpstream(res, await this.forward(req, body));
    const removed = request.Records.map((_, i) => (i + 1) % fault.failEvery === 0);
    const kept = request.Records.filter((_, i) => !removed[i]);
    let output: PutRecordsOutput = { FailedRecordCount: 0, Records: [] };
    if (kept.length > 0) {
      const upstream = await this.forward(req, Buffer.from(JSON.stringify({ ...request, Records: kept })));
      if (upstream.status !== 200) return sendUpstream(res, upstream);
      output = JSON.parse(upstream.body.toString('utf8')) as PutRecordsOutput;
    }
    this.counters.failedRecords += removed.length - kept.length;
    sendJson(res, 200, mergePutRecords(output, removed, fault.errorCode ?? 'ProvisionedThroughputExceededException'));
  }

  private forward(req: IncomingMessage, body: Buffer): Promise<Upstream> {
    const headers = { ...withoutHopByHop(req.headers), 'content-length': String(body.length) };
    return new Promise((resolve, reject) => {
      const upstream = http.request({ protocol: this.target.protocol, hostname: this.target.hostname,
        port: this.target.port, path: req.url, method: req.method, headers, agent: this.agent });
      upstream.once('error', reject);
      upstream.once('response', (response) => {
        readBody(response)
          .then((data) => resolve({ status: response.statusCode ?? 502, headers: response.headers, body: data }))
          .catch(reject);
      });
      upstream.end(body);
    });
  }
}

type PutRecordsInput = { Records: unknown[] } & Record<string, unknown>;
type PutRecordsOutput = { FailedRecordCount?: number; Records?: unknown[] } & Record<string, unknown>;

/** Puts a failed entry at every removed position, the upstream entries in order everywhere else. */
function mergePutRecords(upstream: PutRecordsOutput, removed: boolean[], code: PartialErrorCode): PutRecordsOutput {
  const failed = { ErrorCode: code, ErrorMessage: PARTIAL_MESSAGES[code] };
  const entries = upstream.Records ?? [];
  let next = 0;
  const Records = removed.map((isRemoved) => (isRemoved ? failed : entries[next++]));
  const FailedRecordCount = (upstream.FailedRecordCount ?? 0) + removed.filter(Boolean).length;
  return { ...upstream, FailedRecordCount, Records };
}

function parsePutRecords(req: IncomingMessage, body: Buffer): PutRecordsInput | undefined {
  if (!String(req.headers['content-type'] ?? '').startsWith('application/x-amz-json')) return undefined;
  try {
    const parsed = JSON.parse(body.toString('utf8')) as Partial<PutRecordsInput>;
    return Array.isArray(parsed.Records) ? (parsed as PutRecordsInput) : undefined;
  } catch {
    return undefined;
  }
}

function validateFault(fault: Fault): void {
  const bad = (why: string): never => {
    throw new RangeError(`Invalid fault ${JSON.stringify(fault)}: ${why}`);
  };
  if (fault.mode !== 'none' && fault.times !== undefined && !(Number.isInteger(fault.times) && fault.times >= 0)) {
    bad('times must be a non-negative integer');
  }
  if (fault.mode === 'delay' && !(fault.ms >= 0)) bad('ms must be >= 0');
  if (fault.mode === 'partial' && !(Number.isInteger(fault.failEvery) && fault.failEvery >= 1)) {
    bad('failEvery must be an integer >= 1');
  }
}

async function readBody(stream: IncomingMessage): Promise<Buffer> {
  return Buffer.concat((await stream.toArray()) as Buffer[]);
}

function withoutHopByHop(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  return Object.fromEntries(Object.entries(headers).filter(([name, v]) => v !== undefined && !HOP_BY_HOP.has(name))) as
    Record<string, string | string[]>;
}

function sendUpstream(res: ServerResponse, upstream: Upstream): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(upstream.status, { ...withoutHopByHop(upstream.headers), 'content-length': upstream.body.length });
  res.end(upstream.body);
}

function sendJson(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed || res.headersSent) return;
  const body = Buffer.from(JSON.stringify(payload));
  res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': body.length, 'x-amzn-requestid': randomUUID(),
    ...headers }).end(body);
}

function sendKinesisError(res: ServerResponse, status: number, type: string, message: string): void {
  sendJson(res, status, { __type: type, message }, { 'x-amzn-errortype': type });
}
