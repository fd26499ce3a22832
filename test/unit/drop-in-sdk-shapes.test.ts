/**
 * The drop-in client's translation of SDK commands, without a network: which
 * commands fail over (across SDK copies), the per-call PutRecords limits, and
 * `Data` given as a string. The same behaviours against a Kinesis emulator:
 * test/integration/drop-in-client-sdk-parity.test.ts.
 */
import { ListShardsCommand, PutRecordCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { asPutCommand } from '../../src/client/command-kind.js';
import { abortable, asStreamNotFound } from '../../src/client/sdk-errors.js';
import { inputOfPutRecord, inputsOfPutRecords } from '../../src/client/sdk-shapes.js';
import { ConfigError, hasCode, isSpillwayError, TransientError, ValidationError } from '../../src/errors/index.js';

/** A command class from another copy of the SDK: same name, same shape, a different class. */
function lookAlike(name: string, schema?: unknown[]) {
  const Ctor = { [name]: class {
    readonly middlewareStack = {};
    readonly input: object;
    readonly schema = schema;
    constructor(input: object) { this.input = input; }
    resolveMiddleware() { throw new Error('not sent'); }
  } }[name] as new (input: object) => object;
  return Ctor;
}

describe('asPutCommand', () => {
  it("recognises spillway's own copy of the commands and passes every other command through", () => {
    expect(asPutCommand(new PutRecordsCommand({ StreamName: 's', Records: [] }))?.kind).toBe('PutRecords');
    expect(asPutCommand(new PutRecordCommand({ StreamName: 's', Data: new Uint8Array(1), PartitionKey: 'k' }))?.kind).toBe('PutRecord');
    expect(asPutCommand(new ListShardsCommand({ StreamName: 's' }))).toBeUndefined();
    expect(asPutCommand(undefined)).toBeUndefined();
    expect(asPutCommand({ input: { StreamName: 's' } })).toBeUndefined();
  });

  it('recognises a command from another copy of the SDK by the operation schema it carries', () => {
    const own = new PutRecordsCommand({ StreamName: 's', Records: [] }) as unknown as { schema: unknown[] };
    const Copy = lookAlike('SomeMinifiedName', own.schema);
    const input = { StreamName: 's', Records: [{ Data: new Uint8Array(1), PartitionKey: 'k' }] };
    const put = asPutCommand(new Copy(input));
    expect(put).toEqual({ kind: 'PutRecords', input });
    // Another service's PutRecord (Firehose) carries its own namespace: not ours.
    const Firehose = lookAlike('PutRecordCommand', [9, 'com.amazonaws.firehose', 'PutRecord', 0]);
    expect(asPutCommand(new Firehose({ DeliveryStreamName: 'd', Record: { Data: new Uint8Array(1) } }))).toBeUndefined();
    // smithy's object form of an operation schema.
    const ObjectSchema = lookAlike('X', { symbol: Symbol.for('@smithy/ope'), namespace: 'com.amazonaws.kinesis', name: 'PutRecord' } as unknown as unknown[]);
    expect(asPutCommand(new ObjectSchema({ StreamName: 's', Data: new Uint8Array(1), PartitionKey: 'k' }))?.kind).toBe('PutRecord');
    const Describe = lookAlike('PutRecordsCommand', [9, 'com.amazonaws.kinesis', 'DescribeStream', 0]);
    expect(asPutCommand(new Describe({ StreamName: 's' }))).toBeUndefined();
  });

  it('recognises a command from an older SDK copy without schemas by its class name and input shape', () => {
    const OldPutRecords = lookAlike('PutRecordsCommand');
    const OldPutRecord = lookAlike('PutRecordCommand');
    expect(asPutCommand(new OldPutRecords({ StreamName: 's', Records: [] }))?.kind).toBe('PutRecords');
    expect(asPutCommand(new OldPutRecords({ StreamARN: 'arn:aws:kinesis:us-east-1:1:stream/s', Records: [] }))?.kind).toBe('PutRecords');
    expect(asPutCommand(new OldPutRecord({ StreamName: 's', Data: new Uint8Array(1), PartitionKey: 'k' }))?.kind).toBe('PutRecord');
    expect(asPutCommand(new OldPutRecord({ DeliveryStreamName: 'd', Record: {} }))).toBeUndefined();
    expect(asPutCommand(new OldPutRecords({ StreamName: 's', Records: 'no' }))).toBeUndefined();
    expect(asPutCommand(new (lookAlike('ListShardsCommand'))({ StreamName: 's' }))).toBeUndefined();
  });
});

describe('inputsOfPutRecords: per-call limits', () => {
  const records = (n: number, size: number) => Array.from({ length: n }, (_, i) => ({ Data: new Uint8Array(size), PartitionKey: `k${i}` }));

  it('takes 500 records and refuses 501, saying what to fix', () => {
    expect(inputsOfPutRecords({ StreamName: 's', Records: records(500, 1) })).toHaveLength(500);
    const error = (() => {
      try {
        inputsOfPutRecords({ StreamName: 's', Records: records(501, 1) });
      } catch (e) {
        return e;
      }
    })();
    expect(hasCode(error, ValidationError.code)).toBe(true);
    expect((error as Error).message).toMatch(/at most 500 records per call, got 501; split Records/);
  });

  it('counts data plus partition keys against 10 MiB per call, the documented limit of a PutRecords request', () => {
    // Eight records of 1,310,000 bytes, 8 two-byte keys: 10,480,016 bytes, under 10,485,760.
    const under = records(8, 1_310_000);
    expect(inputsOfPutRecords({ StreamName: 's', Records: under })).toHaveLength(8);
    // The same data with valid 256-character keys crosses the line: keys count, in UTF-8 bytes (8 x 768 > 5,760 left).
    const over = under.map((r) => ({ ...r, PartitionKey: '€'.repeat(256) }));
    expect(() => inputsOfPutRecords({ StreamName: 's', Records: over })).toThrow(/at most 10485760 bytes per call \(data plus partition keys\), got \d+; split Records/);
    expect(() => inputsOfPutRecords({ StreamName: 's', Records: records(11, 1_000_000) })).toThrow(ValidationError);
    // Between 5 and 10 MiB: taken (and sent as calls of at most 5 MiB).
    expect(inputsOfPutRecords({ StreamName: 's', Records: records(6, 1_000_000) })).toHaveLength(6);
  });

  it('takes Data as a string, as its UTF-8 bytes, the way the SDK serializes it', () => {
    const [first] = inputsOfPutRecords({ StreamName: 's', Records: [{ Data: 'héllo' as unknown as Uint8Array, PartitionKey: 'k' }] });
    expect(Buffer.from(first?.data as Uint8Array).toString('utf8')).toBe('héllo');
    expect((first?.data as Uint8Array).byteLength).toBe(6);
    expect(Buffer.from(inputOfPutRecord({ Data: 'x' as unknown as Uint8Array, PartitionKey: 'k' }).data as Uint8Array).toString()).toBe('x');
    expect(() => inputOfPutRecord({ Data: 42 as unknown as Uint8Array, PartitionKey: 'k' })).toThrow(/PutRecord\.Data must be bytes/);
  });
});

describe('SDK-shaped errors', () => {
  it('turns a missing primary stream into a ConfigError named ResourceNotFoundException, and leaves other errors alone', () => {
    const notFound = Object.assign(new Error('Stream s under account 000000000000 not found.'), { name: 'ResourceNotFoundException' });
    const missing = new ConfigError('primary.stream: stream "s" does not exist', { field: 'primary.stream', cause: new TransientError('classified', { cause: notFound }) });
    const error = asStreamNotFound(missing, 's', 'us-east-1') as ConfigError & { $fault: string };
    expect(error).toBeInstanceOf(ConfigError);
    expect(isSpillwayError(error) && error.code).toBe('spillway:config');
    expect(error.name).toBe('ResourceNotFoundException');
    expect(error.$fault).toBe('client');
    expect(error.cause).toBe(missing);
    const secondary = new ConfigError('secondaries.0.stream: ...', { field: 'secondaries.0.stream' });
    expect(asStreamNotFound(secondary, 's', 'us-east-1')).toBe(secondary);
    // A name the schema refuses is not a missing stream.
    const badName = new ConfigError('primary.stream: must match ...', { field: 'primary.stream' });
    expect(asStreamNotFound(badName, 'bad name!', 'us-east-1')).toBe(badName);
  });

  it('rejects with an AbortError before starting the work when the signal is already aborted', async () => {
    let started = 0;
    const controller = new AbortController();
    controller.abort();
    const error = await abortable(controller.signal, async () => ++started).catch((e: Error) => e);
    expect((error as Error).name).toBe('AbortError');
    expect(started).toBe(0);
  });

  it("rejects on an abort while waiting, also with the SDK's own onabort-only signal", async () => {
    const sdkSignal: { aborted: boolean; onabort: (() => void) | null } = { aborted: false, onabort: null };
    const pending = abortable(sdkSignal, () => new Promise(() => undefined));
    sdkSignal.aborted = true;
    sdkSignal.onabort?.();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError', message: 'Request aborted' });
  });
});
