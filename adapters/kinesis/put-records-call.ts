/**
 * PutRecords calls with a body from put-records-wire.ts. The call still goes
 * through the client's whole middleware stack (endpoint, credentials,
 * signing, the caller's own middleware); two small middlewares take over the
 * bodies:
 *
 * - the serializer's request body is replaced by the one built here;
 * - a 200 answer is read here, and the SDK's deserializer is handed a body
 *   with no entries. Any other status is left to the SDK untouched, so errors
 *   are parsed and classified exactly as for any other call.
 *
 * The command's own input carries the stream and an empty `Records` list, so
 * the SDK's endpoint rules, logging filters and context see the same stream.
 *
 * Two kinds of client:
 * - any client (one the user built, say): the middlewares go on each command,
 *   and the client resolves its middleware stack for every call, as it does
 *   for any command;
 * - a client from {@link createPutRecordsClient}: the middlewares sit on the
 *   client's own stack and the client caches its resolved stack (the SDK's
 *   `cacheMiddleware`), which saves about a quarter of a call's CPU. Send
 *   options would turn that cache off, so a call's abort signal travels
 *   beside its body instead, and the client's request handler applies it.
 */
import { KinesisClient, type KinesisClientConfig, PutRecordsCommand, type PutRecordsCommandInput } from '@aws-sdk/client-kinesis';
import type { NodeHttpHandler } from '@smithy/node-http-handler';
import type { DeserializeMiddleware, HttpRequest, HttpResponse, MiddlewareStack, SerializeMiddleware } from '@smithy/types';
import { asBuffer, parsePutRecordsAnswer, type WireResult } from './put-records-wire.js';

/** Anything with the KinesisClient's `send`. */
interface Sender {
  send(command: PutRecordsCommand, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

const BODY_MIDDLEWARE = 'spillwayPutRecordsBody';
const RESULT_MIDDLEWARE = 'spillwayPutRecordsResult';
const NO_ENTRIES = '{"Records":[]}';

/** One call: its body, and its answer once read. */
interface Call {
  readonly body: Buffer;
  answered?: WireResult;
}

/** Where a call rides on the command's input of a prepared client (a symbol: the SDK's serializer and log filters never see it). */
const CALL = Symbol('spillway.putRecordsCall');
type CallInput = PutRecordsCommandInput & { [CALL]?: Call };

/** Clients made by {@link createPutRecordsClient}. */
const prepared = new WeakSet<Sender>();

/** The abort signal of each prepared call in flight, by its body: the one object a request keeps through signing, which copies the request. */
const signals = new WeakMap<Uint8Array, AbortSignal>();

async function collect(body: unknown): Promise<Buffer> {
  if (body instanceof Uint8Array) return asBuffer(body);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : asBuffer(chunk));
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
}

/** The middleware that puts the body of the call `callOf` finds (none: the request passes as it is). */
function bodyMiddleware<I extends object, O extends object>(callOf: (input: object) => Call | undefined): SerializeMiddleware<I, O> {
  return (next) => (args) => {
    const call = callOf(args.input);
    if (call) {
      const request = args.request as HttpRequest;
      request.body = call.body;
      for (const name of Object.keys(request.headers)) if (name.toLowerCase() === 'content-length') delete request.headers[name];
      request.headers['content-length'] = String(call.body.length);
    }
    return next(args);
  };
}

/** The middleware that reads a 200 answer of the call `callOf` finds into it. */
function answerMiddleware<I extends object, O extends object>(callOf: (input: object) => Call | undefined): DeserializeMiddleware<I, O> {
  return (next) => async (args) => {
    const out = await next(args);
    const call = callOf(args.input);
    const response = out.response as HttpResponse;
    if (call && response.statusCode === 200 && response.body !== undefined) {
      call.answered = parsePutRecordsAnswer((await collect(response.body)).toString('utf8'));
      response.body = Buffer.from(NO_ENTRIES, 'utf8');
    }
    return out;
  };
}

/** Put both middlewares on `stack` (a command's or a client's). */
function addMiddlewares<I extends object, O extends object>(stack: MiddlewareStack<I, O>, callOf: (input: object) => Call | undefined): void {
  stack.addRelativeTo(bodyMiddleware<I, O>(callOf), { relation: 'after', toMiddleware: 'serializerMiddleware', name: BODY_MIDDLEWARE, override: true });
  stack.addRelativeTo(answerMiddleware<I, O>(callOf), { relation: 'after', toMiddleware: 'deserializerMiddleware', name: RESULT_MIDDLEWARE, override: true });
}

/** The request handler a prepared client wraps: Node's, or anything with its methods (an in-process one in the benchmarks). */
export type PutRecordsRequestHandler = Pick<NodeHttpHandler, 'handle' | 'updateHttpClientConfig' | 'httpHandlerConfigs' | 'destroy'> & { readonly metadata?: NodeHttpHandler['metadata'] };

/**
 * A request handler giving each prepared call its own abort signal (a
 * client's cached stack passes none). Every other request passes as it is.
 */
class CallSignalHandler {
  readonly #inner: PutRecordsRequestHandler;

  constructor(inner: PutRecordsRequestHandler) {
    this.#inner = inner;
  }

  get metadata(): NodeHttpHandler['metadata'] {
    return this.#inner.metadata ?? { handlerProtocol: 'http/1.1' };
  }

  handle(request: Parameters<NodeHttpHandler['handle']>[0], options: Parameters<NodeHttpHandler['handle']>[1] = {}): ReturnType<NodeHttpHandler['handle']> {
    const signal = request.body instanceof Uint8Array ? signals.get(request.body) : undefined;
    return this.#inner.handle(request, signal ? { ...options, abortSignal: signal } : options);
  }

  updateHttpClientConfig(...args: Parameters<NodeHttpHandler['updateHttpClientConfig']>): void {
    this.#inner.updateHttpClientConfig(...args);
  }

  httpHandlerConfigs(): ReturnType<NodeHttpHandler['httpHandlerConfigs']> {
    return this.#inner.httpHandlerConfigs();
  }

  destroy(): void {
    this.#inner.destroy();
  }
}

/**
 * A Kinesis client prepared for {@link sendPutRecords}: its stack resolved
 * once, the body middlewares on it, `config.requestHandler` wrapped to apply
 * each call's abort signal. Every other command it sends works as on any
 * client (one sent with options resolves its stack afresh, as the SDK does).
 */
export function createPutRecordsClient(config: KinesisClientConfig & { requestHandler: PutRecordsRequestHandler }): KinesisClient {
  const client = new KinesisClient({ ...config, requestHandler: new CallSignalHandler(config.requestHandler), cacheMiddleware: true });
  addMiddlewares(client.middlewareStack, (input) => (input as CallInput)[CALL]);
  prepared.add(client);
  return client;
}

/**
 * Send one PutRecords call with `body` (from `putRecordsBody` or
 * `putRecordsBodyOf`) to `stream` through `client`; resolves with the
 * answer's per-entry results. Rejects with whatever the SDK throws
 * (unclassified: the caller classifies). `signal` aborts the call.
 */
export async function sendPutRecords(client: Sender, stream: string, body: Buffer, signal?: AbortSignal): Promise<WireResult> {
  const call: Call = { body };
  let output: WireResult | undefined;
  if (prepared.has(client)) {
    const input: CallInput = { StreamName: stream, Records: [], [CALL]: call };
    if (signal) signals.set(body, signal);
    try {
      output = (await client.send(new PutRecordsCommand(input))) as WireResult | undefined;
    } finally {
      if (signal) signals.delete(body);
      // The client's cached stack keeps the first command it served (in its context): not its body.
      input[CALL] = undefined;
    }
  } else {
    const command = new PutRecordsCommand({ StreamName: stream, Records: [] });
    addMiddlewares(command.middlewareStack, () => call);
    output = (await client.send(command, signal ? { abortSignal: signal } : {})) as WireResult | undefined;
  }
  // Without a 200 body read here (a send replaced by a test double, say), the SDK's own output is the answer.
  return call.answered ?? output ?? {};
}
