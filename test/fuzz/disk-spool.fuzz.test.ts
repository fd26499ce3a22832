/**
 * Fuzz: flip, zero and truncate bytes of segment files, then open the spool
 * and read everything. Opening and reading never throw; no record comes back
 * that was not written byte for byte (never one whose checksum fails); and
 * every record whose frame was left untouched comes back: nothing valid
 * before the damage, nor after it, is lost. SPILLWAY_SOAK=1 runs 20x more.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDiskSpool } from '../../adapters/disk/index.js';
import { checkFrame } from '../../adapters/disk/framing.js';
import { decodeEnvelope } from '../../src/envelope/codec.js';
import { makeEnvelopes, makeTempDir, plain } from '../helpers/spool-fixtures.js';

const RUNS = process.env.SPILLWAY_SOAK === '1' ? 2_000 : 100;
const silent = pino({ level: 'silent' });
const records = makeEnvelopes(0, 60, 'fz', 50);
const byId = new Map(records.map((e) => [e.id, JSON.stringify(plain(e))]));

interface Frame {
  readonly id: string;
  readonly start: number;
  readonly end: number;
}
let template: { dir: string; cleanup: () => Promise<void> };
let segments: Array<{ name: string; size: number; frames: Frame[] }> = [];

beforeAll(async () => {
  template = await makeTempDir('fuzz-template');
  const spool = await createDiskSpool({ dir: template.dir, maxSegmentBytes: 2_048, logger: silent });
  for (let i = 0; i < records.length; i += 4) await spool.append(records.slice(i, i + 4));
  await spool.close();
  for (const name of (await readdir(template.dir)).filter((f) => f.endsWith('.seg')).sort()) {
    const buf = await readFile(join(template.dir, name));
    const frames: Frame[] = [];
    for (let at = 0; at < buf.length; ) {
      const check = checkFrame(buf, at);
      if (!check.ok) throw new Error('the template spool is damaged');
      frames.push({ id: decodeEnvelope(check.payload).id, start: at, end: check.end });
      at = check.end;
    }
    segments.push({ name, size: buf.length, frames });
  }
});
afterAll(() => template.cleanup());

type Mutation = { segment: number; at: number } & ({ kind: 'flip'; xor: number } | { kind: 'zero'; length: number } | { kind: 'truncate' });

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), segment: fc.nat(), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('zero' as const), segment: fc.nat(), at: fc.nat(), length: fc.integer({ min: 1, max: 300 }) }),
  fc.record({ kind: fc.constant('truncate' as const), segment: fc.nat(), at: fc.nat() }),
);

/** Apply the mutations to a copy of the template; the byte ranges they touched, per segment. */
async function damagedCopy(dir: string, mutations: readonly Mutation[]): Promise<Map<number, Array<[number, number]>>> {
  await mkdir(dir, { recursive: true });
  const touched = new Map<number, Array<[number, number]>>();
  const bufs = await Promise.all(segments.map((s) => readFile(join(template.dir, s.name))));
  const sizes = segments.map((s) => s.size);
  for (const m of mutations) {
    const i = m.segment % segments.length;
    const size = sizes[i]!;
    if (size === 0) continue;
    const at = m.at % size;
    const list = touched.get(i) ?? [];
    touched.set(i, list);
    if (m.kind === 'flip') {
      bufs[i]![at]! ^= m.xor;
      list.push([at, at + 1]);
    } else if (m.kind === 'zero') {
      const end = Math.min(size, at + m.length);
      bufs[i]!.fill(0, at, end);
      list.push([at, end]);
    } else {
      sizes[i] = at;
      list.push([at, Number.MAX_SAFE_INTEGER]);
    }
  }
  for (const [i, s] of segments.entries()) await writeFile(join(dir, s.name), bufs[i]!.subarray(0, sizes[i]));
  return touched;
}

describe('disk spool fuzz: damaged segment files', () => {
  it(`opens, reads only what was written, and keeps every untouched record (${RUNS} runs)`, async () => {
    // Damage is what is tested here, not the disk: on a RAM-backed tmpfs when there is one, so fsync is cheap.
    const base = existsSync('/dev/shm') ? '/dev/shm' : undefined;
    const root = base === undefined ? await makeTempDir('fuzz') : { dir: await mkdtemp(join(base, 'spillway-fuzz-')), cleanup: async () => undefined };
    if (base !== undefined) root.cleanup = () => rm(root.dir, { recursive: true, force: true });
    let run = 0;
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(mutationArb, { minLength: 1, maxLength: 6 }), async (mutations) => {
          const dir = join(root.dir, String(run++));
          const touched = await damagedCopy(dir, mutations);
          const spool = await createDiskSpool({ dir, logger: silent });
          const back: string[] = [];
          try {
            for (let lease = await spool.lease(16); lease.envelopes.length > 0; lease = await spool.lease(16)) {
              for (const e of lease.envelopes) {
                expect(JSON.stringify(plain(e)), `record ${e.id} came back altered`).toBe(byId.get(e.id));
                back.push(e.id);
              }
              await spool.ack(lease);
            }
          } finally {
            await spool.close();
          }
          expect(new Set(back).size).toBe(back.length);
          for (const [i, s] of segments.entries()) {
            const hits = touched.get(i) ?? [];
            for (const f of s.frames) {
              const intact = hits.every(([from, to]) => to <= f.start || from >= f.end);
              if (intact) expect(back, `untouched ${f.id} (${s.name} ${f.start}-${f.end}) was lost`).toContain(f.id);
            }
          }
          expect(back).toEqual(records.map((e) => e.id).filter((id) => back.includes(id)));
        }),
        { numRuns: RUNS },
      );
    } finally {
      await root.cleanup();
    }
  }, 300_000);
});
