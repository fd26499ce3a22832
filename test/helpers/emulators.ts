/**
 * Shared vitest helpers for integration tests against a real Kinesis emulator child process.
 *
 * `useKinesisEmulator` starts one emulator per test file (or per `describe` block it is called in)
 * and stops it afterwards; every test asks it for a unique stream name.
 */
import { randomUUID } from 'node:crypto';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll } from 'vitest';
import { startKinesisEmulator, type KinesisEmulator, type KinesisEngine } from '../../src/drill/emulators.js';
import { createKinesisClientFor, ensureStream } from '../../src/drill/kinesis-admin.js';

/** The handle `useKinesisEmulator` returns; its getters throw before `beforeAll` has run. */
export interface KinesisEmulatorFixture {
  /** The running emulator. */
  readonly emulator: KinesisEmulator;
  /** Its plain-HTTP endpoint. */
  readonly endpoint: string;
  /** A client straight to the emulator (no proxy), shared by the file and destroyed in `afterAll`. */
  readonly client: KinesisClient;
  /** Creates a uniquely named ACTIVE stream and returns its name. */
  createStream(shardCount?: number): Promise<string>;
}

/** A unique name such as `test-3f1c…`, for streams, queues and keys. */
export function uniqueName(prefix = 'test'): string {
  return `${prefix}-${randomUUID()}`;
}

/**
 * Registers `beforeAll`/`afterAll` hooks that start one emulator of `engine` and stop it.
 * Call it at the top of a test file or inside a `describe` block.
 */
export function useKinesisEmulator(engine: KinesisEngine = 'kinesalite'): KinesisEmulatorFixture {
  let emulator: KinesisEmulator | undefined;
  let client: KinesisClient | undefined;
  beforeAll(async () => {
    emulator = await startKinesisEmulator({ engine, logDir: process.env['SPILLWAY_EMULATOR_LOG_DIR'] });
    client = createKinesisClientFor(emulator.endpoint);
  });
  afterAll(async () => {
    client?.destroy();
    await emulator?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error(`The ${engine} emulator is not running (used outside a test?).`);
    return value;
  };
  return {
    get emulator() {
      return started(emulator);
    },
    get endpoint() {
      return started(emulator).endpoint;
    },
    get client() {
      return started(client);
    },
    async createStream(shardCount = 1) {
      const name = uniqueName();
      await ensureStream(started(client), name, shardCount);
      return name;
    },
  };
}

/** Options for {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this long; 5 000 ms by default. */
  timeoutMs?: number;
  /** Time between polls; 25 ms by default. */
  intervalMs?: number;
  /** Says what was awaited, for the timeout error. */
  message?: string;
}

/**
 * Polls `predicate` until it returns a truthy value (which is returned) or the deadline passes.
 * Errors thrown by the predicate count as "not yet"; the last one becomes the timeout's cause.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const { timeoutMs = 5000, intervalMs = 25, message = 'condition' } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${message}.`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
