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

  it('treats a source that fails to read as unavailable and drains the rest', async () => {
    const good = [stamp({ partitionKey: 'k', data: 1 }), stamp({ partitionKey: 'k', data: 2 })];
    const broken: DrainSource = { id: 'broken', next: async () => Promise.reject(new Error('region down')) };
    const reader = new MergedReader([broken, listSource('good', good, 10, [])], 10, new AbortController().signal);
    const w = await reader.next(10);
    expect(w?.envelopes).toHaveLength(2);
    expect(await reader.next(10)).toBeUndefined();
    expect(reader.unavailable).toEqual(['broken']);
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
