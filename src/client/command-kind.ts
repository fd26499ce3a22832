/**
 * Telling the Kinesis PutRecord(s) commands apart from every other command,
 * across copies of the SDK. An application on another version of
 * `@aws-sdk/client-kinesis` than spillway's has two copies of each command
 * class, so `instanceof` alone would send its writes straight to the primary,
 * with no failover. The check is duck-typed, like smithy's own
 * `ServiceException.isInstance`:
 *
 * 1. `instanceof` spillway's own copy (the common case, and subclasses);
 * 2. the operation schema the SDK attaches to each command since the schema
 *    serde (`command.schema`: `[9, 'com.amazonaws.kinesis', 'PutRecords', ...]`,
 *    or smithy's `OperationSchema` object with the same namespace and name);
 * 3. for older SDK copies without one, the class name (`PutRecordsCommand`)
 *    plus the input's shape: it names a Kinesis stream (`StreamName` or
 *    `StreamARN`, not Firehose's `DeliveryStreamName`) and, for PutRecords,
 *    `Records` is a list.
 */
import { PutRecordCommand, type PutRecordInput, PutRecordsCommand, type PutRecordsInput } from '@aws-sdk/client-kinesis';

/** The namespace of the Kinesis service in the SDK's operation schemas. */
const KINESIS_NAMESPACE = 'com.amazonaws.kinesis';
/** The type code of an operation schema in smithy's schema arrays. */
const OPERATION_SCHEMA = 9;

/** A PutRecords or PutRecord command, from any copy of the SDK. */
export type PutCommand = { kind: 'PutRecords'; input: PutRecordsInput } | { kind: 'PutRecord'; input: PutRecordInput };

/** The command as a {@link PutCommand}, or `undefined` for every other command (which passes through). */
export function asPutCommand(command: unknown): PutCommand | undefined {
  if (command instanceof PutRecordsCommand) return { kind: 'PutRecords', input: command.input };
  if (command instanceof PutRecordCommand) return { kind: 'PutRecord', input: command.input };
  if (typeof command !== 'object' || command === null) return undefined;
  const c = command as { schema?: unknown; input?: unknown; resolveMiddleware?: unknown };
  if (typeof c.resolveMiddleware !== 'function' || typeof c.input !== 'object' || c.input === null) return undefined;
  const kind = isOperationSchema(c.schema) ? kindFromSchema(c.schema) : kindFromShape(command, c.input);
  if (kind === 'PutRecords') return { kind, input: c.input as PutRecordsInput };
  if (kind === 'PutRecord') return { kind, input: c.input as PutRecordInput };
  return undefined;
}

/** smithy's operation schema object (`op(...)`), as some SDK versions attach instead of the array. */
const OPERATION_SCHEMA_SYMBOL = Symbol.for('@smithy/ope');
type OperationSchemaLike = readonly unknown[] | { symbol: symbol; namespace?: unknown; name?: unknown };

function isOperationSchema(schema: unknown): schema is OperationSchemaLike {
  if (Array.isArray(schema)) return schema[0] === OPERATION_SCHEMA;
  return typeof schema === 'object' && schema !== null && (schema as { symbol?: unknown }).symbol === OPERATION_SCHEMA_SYMBOL;
}

/** The SDK's own metadata: `[9, namespace, operation, traits, input, output]`, or the same as an object. */
function kindFromSchema(schema: OperationSchemaLike): string | undefined {
  const [namespace, name] = Array.isArray(schema) ? [schema[1], schema[2]] : [(schema as { namespace?: unknown }).namespace, (schema as { name?: unknown }).name];
  return namespace === KINESIS_NAMESPACE && typeof name === 'string' ? name : undefined;
}

/** SDK copies that predate operation schemas: the class name and the input's shape. */
function kindFromShape(command: object, input: object): string | undefined {
  const name = (command.constructor as { name?: unknown } | undefined)?.name;
  const i = input as Record<string, unknown>;
  if (!('StreamName' in i || 'StreamARN' in i) || 'DeliveryStreamName' in i) return undefined;
  if (name === 'PutRecordsCommand') return i.Records === undefined || Array.isArray(i.Records) ? 'PutRecords' : undefined;
  if (name === 'PutRecordCommand') return 'Records' in i ? undefined : 'PutRecord';
  return undefined;
}
