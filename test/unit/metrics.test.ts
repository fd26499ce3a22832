/** prom-client metrics of a memory bus: outcomes per tier, breaker state, spool and drain counters, the scrape endpoint. */
import { Registry, register as globalRegistry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryDedupeStore } from '../../adapters/memory/index.js';
import { TransientError, ValidationError } from '../../src/errors/index.js';
import { startMetricsServer, parseMetricsPort } from '../../src/observability/metrics-server.js';
import { instrumentBus } from '../../src/observability/metrics.js';
import { memoryBus } from '../helpers/bus-parts.js';

/** The value of one sample line, e.g. `spillway_spool_records 3`. */
async function sample(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const base = name.replace(/_(count|sum)$/, '');
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name || m.name === base);
  const value = metric?.values.find(
    (v) => ((v as { metricName?: string }).metricName ?? name) === name && Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l),
  );
  return value?.value;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function instrumented(overrides: Parameters<typeof memoryBus>[0] = {}) {
  const parts = memoryBus({ failback: { mode: 'immediate' }, breaker: { volumeThreshold: 2, resetTimeoutMs: 60_000, slowFailureMs: 0 }, ...overrides });
  const registry = new Registry();
  const bus = instrumentBus(parts.bus, registry);
  cleanups.push(() => bus.close());
  return { ...parts, bus, registry };
}

const batch = (n: number) => Array.from({ length: n }, (_, i) => ({ partitionKey: `k${i % 3}`, data: { i } }));

describe('metrics', () => {
  it('counts records per tier and outcome, times sends, and reports breaker state 0/2', async () => {
    const { bus, primary, registry } = instrumented();
    await bus.sendBatch(batch(5));
    expect(await sample(registry, 'spillway_records_total', { tier: 'primary', target: 'mem:primary', outcome: 'acknowledged' })).toBe(5);
    expect(await sample(registry, 'spillway_breaker_state', { target: 'mem:primary' })).toBe(0);
    primary.down(new TransientError('refused'));
    for (let i = 0; i < 3; i++) await bus.sendBatch(batch(4));
    expect(await sample(registry, 'spillway_records_total', { tier: 'secondary', target: 'mem:secondary', outcome: 'acknowledged' })).toBe(12);
    expect(await sample(registry, 'spillway_records_total', { tier: 'primary', target: 'mem:primary', outcome: 'failed_over' })).toBe(12);
    expect(await sample(registry, 'spillway_breaker_state', { target: 'mem:primary' })).toBe(2);
    expect(await sample(registry, 'spillway_breaker_transitions_total', { target: 'mem:primary', state: 'open' })).toBe(1);
    expect(await sample(registry, 'spillway_send_duration_seconds_count', { tier: 'secondary' })).toBe(12);
    expect(await sample(registry, 'spillway_send_duration_seconds_count', { tier: 'primary' })).toBe(5);
    expect(await sample(registry, 'spillway_backlog_records')).toBe(12);
    const text = await registry.metrics();
    expect(text).toContain('# TYPE spillway_send_duration_seconds histogram');
    expect((await globalRegistry.getMetricsAsJSON()).some((m) => m.name.startsWith('spillway_'))).toBe(false);
  });

  it('reports the spool depth, drained records, dedupe hits and rejected records', async () => {
    const dedupe = createMemoryDedupeStore();
    const { bus, primary, secondary, registry } = instrumented({ dedupe });
    primary.down(new TransientError('down'));
    secondary.down(new TransientError('down'));
    const sent = await bus.sendBatch(batch(6));
    // Two are marked as already in the primary (an earlier drain wrote them): dedupe must skip them.
    await dedupe.markSeen(sent.slice(0, 2).map((r) => (r as { id: string }).id), 60_000);
    expect(await sample(registry, 'spillway_records_total', { tier: 'spool', outcome: 'acknowledged' })).toBe(6);
    expect(await sample(registry, 'spillway_spool_records')).toBe(6);
    expect(await sample(registry, 'spillway_spool_bytes')).toBeGreaterThan(0);
    primary.up();
    secondary.up();
    const summary = await bus.reconcile();
    expect(summary).toMatchObject({ written: 4, skippedDuplicates: 2 });
    expect(await sample(registry, 'spillway_spool_records')).toBe(0);
    expect(await sample(registry, 'spillway_drain_records_total', { result: 'written' })).toBe(summary.written);
    expect(await sample(registry, 'spillway_dedupe_hits_total')).toBe(summary.skippedDuplicates);
    const bad = await bus.sendBatch([{ partitionKey: '', data: 'x' }]);
    expect(bad[0]?.ok).toBe(false);
    expect((bad[0] as { error: unknown }).error).toBeInstanceOf(ValidationError);
    expect(await sample(registry, 'spillway_records_total', { outcome: 'rejected' })).toBe(1);
  });

  it('sends a batch as one sendBatch of the bus beneath, keeping rejectInvalid, and counts each record once', async () => {
    const { bus, primary, registry } = instrumented();
    const results = await bus.sendBatch(batch(50));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(new Set(results.map((r) => (r as { id: string }).id)).size).toBe(50);
    expect(primary.stored.length).toBe(50);
    expect(await sample(registry, 'spillway_records_total', { tier: 'primary', target: 'mem:primary', outcome: 'acknowledged' })).toBe(50);
    expect(await sample(registry, 'spillway_send_duration_seconds_count', { tier: 'primary' })).toBe(50);
    // A bad record refuses the whole call before anything is sent, as the bus beneath does.
    const refused = await bus.sendBatch([{ partitionKey: 'k', data: 'ok' }, { partitionKey: '', data: 'bad' }], { rejectInvalid: true }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ValidationError);
    expect((refused as Error).message).toMatch(/^Records\[1\]: partitionKey is empty/);
    expect(primary.stored.length).toBe(50);
    expect(await sample(registry, 'spillway_records_total', { outcome: 'rejected' })).toBe(1);
    expect(await sample(registry, 'spillway_send_duration_seconds_count', { tier: 'none' })).toBe(1);
  });

  it('closing the bus removes its metrics, so a new bus can use the same registry', async () => {
    const { bus, registry } = instrumented();
    await bus.close();
    expect(await registry.getMetricsAsJSON()).toEqual([]);
    const again = instrumentBus(memoryBus().bus, registry);
    cleanups.push(() => again.close());
    expect((await registry.getMetricsAsJSON()).length).toBeGreaterThan(5);
  });

  it('serves the registry on GET /metrics and says what is wrong with a bad port', async () => {
    const { bus, registry } = instrumented();
    await bus.send({ partitionKey: 'k', data: 1 });
    const server = await startMetricsServer({ registry, port: 0 });
    cleanups.push(() => server.close());
    const res = await fetch(server.url);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/spillway_records_total\{tier="primary",target="mem:primary",outcome="acknowledged"\} 1/);
    expect((await fetch(server.url.replace('/metrics', '/'))).status).toBe(404);
    expect(() => parseMetricsPort('http')).toThrow(/--metrics-port must be a port number from 0 to 65535, got "http"/);
    const port = Number(new URL(server.url).port);
    await expect(startMetricsServer({ registry, port })).rejects.toThrow(new RegExp(`--metrics-port ${port}: cannot listen .*EADDRINUSE`));
  });
});


describe('--metrics-port helpers', () => {
  it('metricsPortOption parses and checks the port; serveMetricsIfAsked serves a fresh registry only when asked', async () => {
    const { Command } = await import('commander');
    const { metricsPortOption, serveMetricsIfAsked } = await import('../../src/observability/metrics-server.js');
    const cmd = new Command('x').addOption(metricsPortOption()).exitOverride().action(() => undefined);
    cmd.parse(['--metrics-port', '0'], { from: 'user' });
    expect(cmd.opts().metricsPort).toBe(0);
    expect(() => new Command('y').addOption(metricsPortOption()).exitOverride().parse(['--metrics-port', '70000'], { from: 'user' })).toThrow(/from 0 to 65535/);
    expect(await serveMetricsIfAsked(undefined)).toEqual({});
    const { registry, server } = await serveMetricsIfAsked(0);
    cleanups.push(async () => server?.close());
    expect(registry).toBeDefined();
    expect((await fetch(server?.url as string)).status).toBe(200);
  });
});
