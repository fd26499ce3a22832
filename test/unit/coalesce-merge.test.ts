import { describe, expect, it } from 'vitest';
import type { DrainSource, SourceChunk } from '../../src/contracts/index.js';
import { createStamper, type Envelope } from '../../src/envelope/index.js';
import { chunkBatch, recordBytes } from '../../src/failover/chunk.js';
import { coalesceWindow } from '../../src/reconciler/coalesce.js';
import { MergedReader } from '../../src/reconciler/merge.js';

const stamp = createStamper();

function listSource(id: string, records: Envelope[], chunkSize: number, commits: string[]): DrainSource {
  let pos = 0;
  return {
    id,
    async next() {
      if (pos >= records.length) return undefined;
      const envelopes = records.slice(pos, pos + chunkSize);
      pos += envelopes.length;
      const chunk: SourceChunk = { envelopes, commit: async () => void commits.push(`${id}:${envelopes.length}`) };
      return chunk;
    },
  };
}

describe('coalesceWindow', () => {
  it('keeps every delta in order and only the latest snapshot per key', () => {
    const rs = [
      stamp({ partitionKey: 'a', data: 'd1' }),
      stamp({ partitionKey: 'a', data: 's1', kind: 'snapshot', coalesceKey: 'acct' }),
      stamp({ partitionKey: 'a', data: 'd2' }),
      stamp({ partitionKey: 'b', data: 's-other', kind: 'snapshot', coalesceKey: 'other' }),
      stamp({ partitionKey: 'a', data: 's2', kind: 'snapshot', coalesceKey: 'acct' }),
    ];
    const out = coalesceWindow([...rs, rs[0] as Envelope]);
    expect(out.records.map((r) => r.id)).toEqual([rs[0], rs[2], rs[3], rs[4]].map((r) => r?.id));
    expect(out.coalesced).toBe(1);
    expect(out.duplicates).toBe(1);
  });
});

describe('MergedReader', () => {
  it('merges sources in id order and reports each chunk complete once', async () => {
    const all = Array.from({ length: 100 }, (_, i) => stamp({ partitionKey: `k${i % 3}`, data: i }));
    const a = all.filter((_, i) => i % 3 !== 0);
    const b = all.filter((_, i) => i % 3 === 0);
    const commits: string[] = [];
    const reader = new MergedReader([listSource('a', a, 7, commits), listSource('b', b, 5, commits)], 10, new AbortController().signal);
    const out: Envelope[] = [];
    let completed = 0;
    for (let w = await reader.next(13); w; w = await reader.next(13)) {
      out.push(...w.envelopes);
      completed += w.completed.length;
      for (const c of w.completed) await c.commit();
    }
    expect(out.map((e) => e.id)).toEqual(all.map((e) => e.id));
    expect(completed).toBe(Math.ceil(a.length / 7) + Math.ceil(b.length / 5));
    expect(commits.reduce((n, c) => n + Number(c.split(':')[1]), 0)).toBe(100);
  });

  it('stops where a source that fails to read would be needed: nothing newer than what it may hold is given out', async () => {
    const all = Array.from({ length: 12 }, (_, i) => stamp({ partitionKey: 'k', data: i }));
    // The flaky source holds the records 0-3 and 8-11 and fails on its second read; the good one holds 4-7.
    let reads = 0;
    const flaky: DrainSource = {
      id: 'flaky',
      async next() {
        reads++;
        if (reads === 1) return { envelopes: all.slice(0, 4), commit: async () => {} };
        throw new Error('redis down');
      },
    };
    const abandoned: number[] = [];
    const good: DrainSource = { ...listSource('good', all.slice(4, 8), 10, []), abandon: async (c) => void abandoned.push(c.envelopes.length) };
    const reader = new MergedReader([flaky, good], 10, new AbortController().signal);
    const out: Envelope[] = [];
    for (let w = await reader.next(100); w; w = await reader.next(100)) out.push(...w.envelopes);
    // Records 0-3 were older than anything the failed source holds; 4-7 might not be (its 8-11 could have been older).
    expect(out.map((e) => e.id)).toEqual(all.slice(0, 4).map((e) => e.id));
    expect(reader.unavailable).toEqual(['flaky']);
    expect(reader.blockedBy?.source).toBe('flaky');
    // The good source's chunk in hand goes back, to be reread next run.
    expect(await reader.abandon([])).toEqual([]);
    expect(abandoned).toEqual([4]);
  });

  it('drains the rest without a failed source when told to pass over it', async () => {
    const good = [stamp({ partitionKey: 'k', data: 1 }), stamp({ partitionKey: 'k', data: 2 })];
    const broken: DrainSource = { id: 'broken', next: async () => Promise.reject(new Error('region down')) };
    const asked: string[] = [];
    const reader = new MergedReader([broken, listSource('good', good, 10, [])], 10, new AbortController().signal, (source) => {
      asked.push(source.id);
      return true;
    });
    const w = await reader.next(10);
    expect(w?.envelopes).toHaveLength(2);
    expect(await reader.next(10)).toBeUndefined();
    expect(reader.unavailable).toEqual(['broken']);
    expect(reader.blockedBy).toBeUndefined();
    expect(asked).toEqual(['broken']);
  });
});

describe('chunkBatch', () => {
  it('respects both the record and the byte limit, in order', () => {
    const rs = Array.from({ length: 23 }, (_, i) => stamp({ partitionKey: 'k', data: new Uint8Array(1000 + i) }));
    const maxBytes = 5 * recordBytes(rs[22] as Envelope);
    const chunks = chunkBatch(rs, 10, maxBytes);
    expect(chunks.flat().map((r) => r.id)).toEqual(rs.map((r) => r.id));
    for (const c of chunks) {
      expect(c.length).toBeLessThanOrEqual(10);
      expect(c.reduce((n, r) => n + recordBytes(r), 0)).toBeLessThanOrEqual(maxBytes);
    }
    expect(chunks.length).toBe(5);
  });
});
