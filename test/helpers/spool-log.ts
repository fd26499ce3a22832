/** A pino logger whose lines a test can read back, and the spool events it saw. */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { SpoolEvent } from '../../src/contracts/descriptor.js';

/** Parsed log lines, events, and the logger and `onEvent` to hand to a spool. */
export interface SpoolWatch {
  readonly logger: Logger;
  readonly lines: Array<Record<string, unknown>>;
  readonly events: SpoolEvent[];
  readonly onEvent: (event: SpoolEvent) => void;
}

/** Capture what a spool logs (level `info` and up) and emits. */
export function watchSpool(): SpoolWatch {
  const lines: Array<Record<string, unknown>> = [];
  const events: SpoolEvent[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  // pino writes synchronously to a plain Writable, so lines are here when the call returns.
  return { logger: pino({ level: 'info' }, sink), lines, events, onEvent: (event) => events.push(event) };
}
