/** The registry: the config schema is the union of registered kinds, and createBus builds tiers only through descriptors. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { createMemorySpool } from '../../adapters/memory/index.js';
import { defaultRegistry, type TierRegistry } from '../../adapters/registry.js';
import { createBus } from '../../src/bus/create-bus.js';
import { parseBusConfig } from '../../src/config/parse.js';
import { configWarnings } from '../../src/config/warnings.js';
import type { SpoolDescriptor, TargetDescriptor } from '../../src/contracts/index.js';
import { ConfigError, TransientError } from '../../src/errors/index.js';
import { silentLogger } from '../helpers/bus-parts.js';
import { MemoryTarget } from '../helpers/memory-target.js';

/** A tier kind that lives in memory, registered only in this test's registry. */
const memSchema = z.object({ kind: z.literal('mem'), name: z.string(), limit: z.number().int().positive().optional() }).strict();
type MemConfig = z.output<typeof memSchema>;
const built = new Map<string, MemoryTarget>();
const memDescriptor: TargetDescriptor<MemConfig> = {
  kind: 'mem',
  schema: memSchema,
  maxRecordBytes: 256 * 1024,
  describe: (c) => `mem ${c.name}`,
  create(c) {
    const target = new MemoryTarget(`mem:${c.name}`);
    built.set(c.name, target);
    return { target, drainSources: async () => [], check: async () => ({ reachable: true, writable: true, detail: 'in memory' }) };
  },
};
const memSpoolSchema = z.object({ kind: z.literal('memspool'), id: z.string() }).strict();
const memSpoolDescriptor: SpoolDescriptor<z.output<typeof memSpoolSchema>> = {
  kind: 'memspool',
  schema: memSpoolSchema,
  remote: true,
  describe: (c) => `memspool ${c.id}`,
  open: async (c, context) => {
    context.emit?.({ type: 'durability-warning', spool: `memspool:${c.id}`, message: 'memspool keeps nothing across restarts' });
    return createMemorySpool({ id: `memspool:${c.id}` });
  },
};
const registry: TierRegistry = { targets: [...defaultRegistry.targets, memDescriptor], spools: [...defaultRegistry.spools, memSpoolDescriptor] };

describe('tier registry', () => {
  it('registers every shipped kind by default', () => {
    expect(defaultRegistry.targets.map((d) => d.kind)).toEqual(['kinesis', 'sqs', 'eventbridge']);
    expect(defaultRegistry.spools.map((d) => d.kind)).toEqual(['redis', 'disk']);
  });

  it('accepts a kind only when it is registered, and checks it with its own schema', () => {
    const input = { primary: { kind: 'mem', name: 'p' }, spool: { kind: 'memspool', id: 'a' }, stateDir: '/tmp/x' };
    expect(parseBusConfig(input, registry).primary).toEqual({ kind: 'mem', name: 'p' });
    const unknown = (() => {
      try {
        parseBusConfig(input);
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(unknown?.message).toMatch(/primary\.kind: "mem" is not a tier kind; \(tier kinds: kinesis, sqs, eventbridge\)/);
    expect(() => parseBusConfig({ ...input, primary: { kind: 'mem', name: 1 } }, registry)).toThrow(/primary\.name/);
  });

  it('takes aggregate on a Kinesis tier, checks its size, and refuses it with envelope none before anything is opened', async () => {
    const kinesis = { kind: 'kinesis' as const, region: 'us-east-1', stream: 's', endpoint: 'http://127.0.0.1:9' };
    const base = { spool: { kind: 'memspool', id: 'a' }, stateDir: '/tmp/x', verifyStreams: false };
    expect(parseBusConfig({ ...base, primary: { ...kinesis, aggregate: { maxAggregateBytes: 8_000 } } }, registry).primary).toMatchObject({ aggregate: { maxAggregateBytes: 8_000 } });
    expect(() => parseBusConfig({ ...base, primary: { ...kinesis, aggregate: { maxAggregateBytes: 2_000_000 } } }, registry)).toThrow(/aggregate\.maxAggregateBytes must be 1024 to 1000000/);
    const both = await createBus({ ...base, spool: base.spool as never, envelope: 'none', primary: { ...kinesis, aggregate: true } }, { logger: silentLogger, kinds: registry }).catch((e: unknown) => e);
    expect(both).toBeInstanceOf(ConfigError);
    expect((both as ConfigError).message).toMatch(/primary\.aggregate cannot be used with envelope: 'none'/);
  });

  it('requires stateDir when no spool has a dir', () => {
    expect(() => parseBusConfig({ primary: { kind: 'mem', name: 'p' }, spool: { kind: 'memspool', id: 'a' } }, registry)).toThrow(/stateDir is required when no spool has a dir/);
  });

  it('warns about a tier whose size limit is below the bus limit and a chain ending in a remote spool', () => {
    const config = parseBusConfig({ primary: { kind: 'kinesis', region: 'us-east-1', stream: 's' }, secondaries: [{ kind: 'mem', name: 'small' }], spool: [{ kind: 'disk', dir: '/d' }, { kind: 'memspool', id: 'r' }] }, registry);
    const warnings = configWarnings(config, registry);
    expect(warnings.map((w) => w.field)).toEqual(['secondaries.0', 'spool.1']);
    expect(warnings[0]?.message).toMatch(/secondaries\.0 \(mem small\) takes records up to 256 KiB, below the 1024 KiB the bus accepts: larger records skip this tier/);
    expect(warnings[1]?.message).toMatch(/ends in memspool r, which can fail .* Add a disk spool after it/);
  });

  it('builds a bus from descriptors alone: landedOn names the spool of the chain that took a record', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'spillway-registry-'));
    const warnings: string[] = [];
    const bus = await createBus(
      { primary: { kind: 'mem', name: 'p1' } as never, secondaries: [{ kind: 'mem', name: 's1' } as never], spool: [{ kind: 'memspool', id: 'one' } as never], stateDir, reconciler: { enabled: false } },
      { logger: silentLogger, kinds: registry },
    );
    bus.events.on('config.warning', (w) => warnings.push(w.field));
    const durability: string[] = [];
    bus.events.on('spool.durability', (e) => durability.push(`${e.spool}: ${e.message}`));
    try {
      built.get('p1')?.down(new TransientError('down'));
      built.get('s1')?.down(new TransientError('down'));
      const r = await bus.send({ partitionKey: 'k', data: 'x' });
      expect(r.landedOn).toMatchObject({ tier: 'spool', target: 'memspool:one' });
      expect(warnings).toEqual(['primary', 'secondaries.0', 'spool']); // mem takes 256 KiB; the chain ends in a remote spool
      expect(durability).toEqual(['memspool:one: memspool keeps nothing across restarts']); // said while opening, heard once the bus exists
    } finally {
      await bus.close();
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
