/**
 * Where a drill runs: two regions, each a Kinesis endpoint behind a fault proxy the scenario drives, plus the
 * capabilities the backend offers (and why any are missing).
 *
 * Backends: `embedded` starts emulator child processes here; `endpoint` uses a LocalStack (or any
 * Kinesis-compatible endpoint) that is already running: one for both regions (LocalStack keeps regions
 * apart), or one per region; `localstack` starts two
 * LocalStack containers (`localstack.ts`).
 */
import { execFileSync } from 'node:child_process';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { Capability } from './scenario.js';
import { type KinesisEngine, startKinesisEmulator } from './emulators.js';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';
import { createKinesisClientFor } from './kinesis-admin.js';
import { startLocalStackPair } from './localstack.js';

/** One region of the drill. */
export interface DrillRegion {
  /** AWS region name the clients sign for. */
  name: string;
  /** The real endpoint (emulator or LocalStack). */
  upstream: string;
  /** The fault proxy in front of it: the bus talks to `proxy.url`. */
  proxy: FaultProxy;
  /** A client straight to `upstream`, for creating and reading streams. */
  admin: KinesisClient;
}

/** A running drill backend. */
export interface DrillEnvironment {
  /** `embedded (kinesalite)`, `localstack`, `endpoint http://…`. */
  readonly label: string;
  readonly primary: DrillRegion;
  readonly secondary: DrillRegion;
  /** Capabilities offered; a missing one maps to the reason, printed when a scenario is skipped. */
  readonly missing: ReadonlyMap<Capability, string>;
  close(): Promise<void>;
}

/** Which backend to start. */
export type BackendOptions =
  | { backend: 'embedded'; engine: KinesisEngine }
  | { backend: 'localstack' }
  | { backend: 'endpoint'; urls: readonly [string] | readonly [string, string] };

/** The region names the drill signs for unless a configuration names others. */
export const DRILL_REGIONS = ['us-east-1', 'us-west-2'] as const;

/** Starts the backend and a fault proxy per region; everything started is stopped again if a later step fails. */
export async function startEnvironment(options: BackendOptions, regions: readonly [string, string] = DRILL_REGIONS): Promise<DrillEnvironment> {
  const cleanup: Array<() => Promise<unknown>> = [];
  const close = async (): Promise<void> => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
  };
  try {
    const upstreams = await startUpstreams(options, cleanup);
    const made: DrillRegion[] = [];
    for (const [i, name] of regions.entries()) {
      const upstream = upstreams[i] as string;
      const proxy = await startFaultProxy({ target: upstream });
      cleanup.push(() => proxy.close());
      const admin = createKinesisClientFor(upstream, name);
      cleanup.push(async () => admin.destroy());
      made.push({ name, upstream, proxy, admin });
    }
    const label = options.backend === 'embedded' ? `embedded (${options.engine})` : options.backend === 'endpoint' ? `endpoint ${options.urls.join(' + ')}` : 'localstack';
    return { label, primary: made[0] as DrillRegion, secondary: made[1] as DrillRegion, missing: await missingCapabilities(), close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function startUpstreams(options: BackendOptions, cleanup: Array<() => Promise<unknown>>): Promise<[string, string]> {
  // One LocalStack keeps each region apart; two endpoints (docker/compose.yaml) are one per region.
  if (options.backend === 'endpoint') return [options.urls[0], options.urls[1] ?? options.urls[0]];
  if (options.backend === 'localstack') {
    const pair = await startLocalStackPair();
    cleanup.push(() => pair.stop());
    return pair.endpoints;
  }
  const emulators = await Promise.all([0, 1].map(() => startKinesisEmulator({ engine: options.engine })));
  for (const e of emulators) cleanup.push(() => e.stop());
  return [emulators[0]?.endpoint as string, emulators[1]?.endpoint as string];
}

/**
 * What this machine cannot offer, and why. The SQS and EventBridge scenarios run fauxqs (a development
 * dependency) in this process whatever the Kinesis backend; the EventBridge fake is part of the drill.
 */
async function missingCapabilities(): Promise<Map<Capability, string>> {
  const missing = new Map<Capability, string>();
  if (!onPath('redis-server')) missing.set('redis', 'no redis-server on the PATH (install Redis to run the Redis spool scenarios)');
  const fauxqs = await import('fauxqs').then(() => true, () => false);
  if (!fauxqs) {
    const reason = 'the SQS emulator fauxqs is not installed (npm install --no-save fauxqs@1)';
    missing.set('sqs', reason);
    missing.set('eventbridge', `${reason}; the EventBridge fake delivers to a fauxqs drain queue`);
  }
  return missing;
}

function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
