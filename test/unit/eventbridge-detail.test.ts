/** The EventBridge tier's Detail encoding, limits and configuration, without a bus. */
import { describe, expect, it } from 'vitest';
import { EVENTBRIDGE_MAX_RECORD_BYTES, envelopeToDetail, eventBridgeDescriptor, eventToEnvelope } from '../../adapters/eventbridge/index.js';
import { entryBytes } from '../../adapters/eventbridge/detail.js';
import { classifyEventBridgeEntry } from '../../adapters/eventbridge/eventbridge-target.js';
import { encodedSize } from '../../src/envelope/index.js';
import { makeEnvelope, plain } from '../helpers/spool-fixtures.js';

const config = {
  kind: 'eventbridge',
  region: 'us-west-2',
  eventBusName: 'spillway-failover',
  drainQueue: { queueUrl: 'https://sqs.us-west-2.amazonaws.com/123456789012/spillway-drain' },
};

describe('EventBridge Detail encoding', () => {
  it('puts the envelope in a JSON object, with readable id and key', () => {
    const e = makeEnvelope(3, 'detail', 64);
    const detail = JSON.parse(envelopeToDetail(e)) as Record<string, unknown>;
    expect(detail).toMatchObject({ spillway: 1, id: e.id, partitionKey: e.partitionKey });
    expect(typeof detail['envelope']).toBe('string');
  });

  it('reads the envelope back from the event as a rule delivers it', () => {
    const e = makeEnvelope(4, 'detail', 64);
    const event = { version: '0', id: 'x', 'detail-type': 'spillway.record', source: 'spillway', time: '2026-01-01T00:00:00Z', region: 'us-west-2', resources: [], detail: JSON.parse(envelopeToDetail(e)) };
    expect(plain(eventToEnvelope(JSON.stringify(event))!)).toEqual(plain(e));
  });

  it('treats events spillway did not put as foreign (undefined), never a throw', () => {
    expect(eventToEnvelope('not json')).toBeUndefined();
    expect(eventToEnvelope(JSON.stringify({ detail: { orderId: 1 } }))).toBeUndefined();
    expect(eventToEnvelope(JSON.stringify({ detail: { spillway: 2, envelope: 'AAAA' } }))).toBeUndefined();
    expect(eventToEnvelope('null')).toBeUndefined();
  });

  it('a record at the advertised limit fits an entry with the longest source, detail type and key', () => {
    const base = { ...makeEnvelope(5, 'detail'), partitionKey: '\u0001'.repeat(256) }; // escaped to 6 bytes a character in JSON
    const header = encodedSize({ ...base, data: Buffer.alloc(0) });
    const atLimit = { ...base, data: Buffer.alloc(EVENTBRIDGE_MAX_RECORD_BYTES - header, 1) };
    expect(encodedSize(atLimit)).toBe(EVENTBRIDGE_MAX_RECORD_BYTES);
    const size = entryBytes('s'.repeat(256), 'd'.repeat(128), envelopeToDetail(atLimit));
    expect(size).toBeLessThanOrEqual(262_144 - 1_024);
    expect(size).toBeGreaterThan(262_144 - 1_024 - 3_072);
  });

  it('validates its configuration and names the drain queue', () => {
    const parsed = eventBridgeDescriptor.schema.parse(config);
    expect(eventBridgeDescriptor.describe(parsed)).toBe('eventbridge us-west-2/spillway-failover (drained from spillway-drain)');
    const r = eventBridgeDescriptor.schema.safeParse({ ...config, drainQueue: undefined });
    expect(r.success).toBe(false);
    const bad = eventBridgeDescriptor.schema.safeParse({ ...config, source: 'has space' });
    expect(bad.success ? '' : bad.error.issues[0]?.message).toMatch(/^source must be/);
  });
});

describe('EventBridge entry failures', () => {
  const ctx = { target: 'eventbridge:us-west-2:spill' };
  it('entries EventBridge refuses every time move on at once; throttling backs off; internal failures retry', () => {
    expect(classifyEventBridgeEntry('MalformedDetail', 'Detail is malformed.', ctx).code).toBe('spillway:target-rejected');
    expect(classifyEventBridgeEntry('NotAuthorizedForSourceException', undefined, ctx).code).toBe('spillway:target-rejected');
    expect(classifyEventBridgeEntry('ThrottlingException', undefined, ctx).code).toBe('spillway:throttled');
    expect(classifyEventBridgeEntry('InternalFailure', undefined, ctx).code).toBe('spillway:transient');
  });
});
