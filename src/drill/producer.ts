/**
 * Who sends during a scenario. The in-process producer runs the bus here; the child producer
 * (`child-producer.ts`) runs it in a process the drill can SIGKILL. Both report through {@link Observations}.
 */
import type { Logger } from 'pino';
import type { Bus } from '../bus/bus.js';
import { createBus } from '../bus/create-bus.js';
import type { BusConfigInput } from '../config/schema.js';
import { DEFAULT_LOAD, type LoadOptions, type SentRecord, SteadyLoad } from './load.js';
import { awaitDrained, type Observations, watchBus } from './observe.js';

/** The sending side of a scenario. */
export interface Producer {
  /** Every send so far (acknowledged ones carry an id). For a child: what it recorded durably. */
  sent(): readonly SentRecord[];
  /** Label records sent from now on. */
  setPhase(name: string): void;
  /** Open the bus and start sending. */
  start(): Promise<void>;
  /** Stop sending; resolves once every send settled. */
  stopSending(): Promise<void>;
  /** Wait until the backlog is back in the primary; an aborted `signal` stops the wait. */
  awaitDrained(timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /** SIGKILL the producer (child producers only). */
  kill?(): Promise<void>;
  /** Start a new producer on the same spool, sending again (child producers only). */
  restart?(): Promise<void>;
  /** Release everything. */
  close(): Promise<void>;
}

/** Options for {@link createInProcessProducer}. */
export interface InProcessProducerOptions {
  config: BusConfigInput;
  rate: number;
  logger: Logger;
  observations: Observations;
  /** Load shape beyond the rate (key prefix, first sequence number); the defaults otherwise. */
  load?: Partial<Omit<LoadOptions, 'rate'>>;
}

/** A producer whose bus runs in this process; `bus` is exposed for scenarios that need it. */
export interface InProcessProducer extends Producer {
  readonly bus: Bus | undefined;
}

/** Creates a producer that runs the bus in this process. */
export function createInProcessProducer(options: InProcessProducerOptions): InProcessProducer {
  let bus: Bus | undefined;
  let load: SteadyLoad | undefined;
  let stopWatching: (() => void) | undefined;
  const obs = options.observations;
  return {
    get bus() {
      return bus;
    },
    sent: () => load?.sent ?? [],
    setPhase(name) {
      if (load) load.phase = name;
    },
    async start() {
      bus = await createBus(options.config, { logger: options.logger });
      stopWatching = watchBus(bus, { sample: (s) => obs.samples.push(s), drain: (d) => obs.drains.push(d), mark: (w) => obs.mark(w) });
      const b = bus;
      load = new SteadyLoad((input) => b.send(input), { rate: options.rate, ...DEFAULT_LOAD, ...options.load });
      load.start();
    },
    async stopSending() {
      await load?.stop();
    },
    async awaitDrained(timeoutMs, signal) {
      if (bus) await awaitDrained(bus, timeoutMs, signal);
    },
    async close() {
      await load?.stop();
      stopWatching?.();
      const open = bus;
      bus = undefined;
      await open?.close();
    },
  };
}
