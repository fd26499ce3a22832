/**
 * The shard reader's recovery from an expired iterator. kinesalite expires
 * iterators only after five minutes, so this one case uses a scripted stand-in
 * for the KinesisClient (the only mock in the consumer's tests); everything
 * else is tested against kinesalite.
 */
import { ExpiredIteratorException, GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { createShardReader } from '../../adapters/kinesis/stream-reader.js';

describe('shard reader', () => {
  it('reopens an expired iterator after the last record it handed out', async () => {
    const opened: Array<Record<string, unknown>> = [];
    let reads = 0;
    const client = {
      async send(command: unknown) {
        if (command instanceof GetShardIteratorCommand) {
          opened.push({ ...command.input });
          return { ShardIterator: `it-${opened.length}` };
        }
        if (command instanceof GetRecordsCommand) {
          reads++;
          if (reads === 2) throw new ExpiredIteratorException({ message: 'Iterator expired', $metadata: {} });
          const base = reads === 1 ? 1 : 3;
          return { Records: [base, base + 1].map((n) => ({ Data: new Uint8Array([n]), PartitionKey: 'k', SequenceNumber: String(n) })), NextShardIterator: 'next', MillisBehindLatest: 5 };
        }
        throw new Error('unexpected command');
      },
    } as unknown as KinesisClient;
    const reader = createShardReader({ client, region: 'us-east-1', stream: 's', shardId: 'shardId-0' });
    const signal = new AbortController().signal;
    expect((await reader.next(signal)).records.map((r) => r.sequenceNumber)).toEqual(['1', '2']);
    expect(await reader.next(signal)).toMatchObject({ records: [], ended: false }); // expired: nothing lost, reopen next time
    expect((await reader.next(signal)).records.map((r) => r.sequenceNumber)).toEqual(['3', '4']);
    expect(opened).toEqual([
      { StreamName: 's', ShardId: 'shardId-0', ShardIteratorType: 'TRIM_HORIZON' },
      { StreamName: 's', ShardId: 'shardId-0', ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: '2' },
    ]);
  });
});
