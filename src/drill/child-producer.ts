/**
 * A producer in a child process (`bus-child.ts`) that the drill can SIGKILL and restart on the same spool.
 * What it acknowledged is read back from the acks file it fdatasyncs; samples and drains arrive on its stdout.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { BusConfigInput } from '../config/schema.js';
import type { SentRecord } from './load.js';
import type { Observations } from './observe.js';
import type { Producer } from './producer.js';
import { killOnExit } from './child-processes.js';

/** Options for {@link createChildProducer}. */
export interface ChildProducerOptions {
  config: BusConfigInput;
  rate: number;
  /** A scratch directory (the scenario's) for the config and acks files. */
  workDir: string;
  observations: Observations;
}

/** The child script and the node arguments that run it (TypeScript through tsx when running from source). */
export function childCommand(): { script: string; execArgv: string[] } {
  const self = fileURLToPath(import.meta.url);
  const fromSource = self.endsWith('.ts');
  return { script: join(self, '..', fromSource ? 'bus-child.ts' : 'bus-child.js'), execArgv: fromSource ? ['--import', 'tsx'] : [] };
}


/** A live bus child process. */
export interface BusChild {
  readonly process: ChildProcess;
  /** Resolves when the child printed `drained`; rejects when it exits first. */
  readonly drained: Promise<void>;
  /** Resolves once the reconciler wrote its first window. */
  readonly firstDrain: Promise<void>;
  kill(): Promise<void>;
}

/** Starts `bus-child` in `mode` and resolves once its bus is open. */
export async function spawnBusChild(mode: 'produce' | 'drain', args: { configFile: string; ackFile: string; rate: number; firstSeq: number }, obs: Observations): Promise<BusChild> {
  const { script, execArgv } = childCommand();
  const proc = spawn(process.execPath, [...execArgv, script, mode, args.configFile, args.ackFile, String(args.rate), String(args.firstSeq)], { stdio: ['pipe', 'pipe', 'pipe'] });
  killOnExit(proc);
  let stderr = '';
  proc.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const exited = once(proc, 'exit');
  let ready!: () => void;
  let drained!: () => void;
  let firstDrain!: () => void;
  const readyP = new Promise<void>((r) => (ready = r));
  const drainedP = new Promise<void>((r) => (drained = r));
  const firstDrainP = new Promise<void>((r) => (firstDrain = r));
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    const space = line.indexOf(' ');
    const verb = space < 0 ? line : line.slice(0, space);
    const rest = space < 0 ? '' : line.slice(space + 1);
    if (verb === 'ready') ready();
    else if (verb === 'drained') drained();
    else if (verb === 'sample') obs.samples.push(JSON.parse(rest));
    else if (verb === 'drain') obs.drains.push(JSON.parse(rest));
    else if (verb === 'progress') firstDrain();
    else if (verb === 'mark') obs.mark(rest);
  });
  const early = exited.then(([code, signal]) => Promise.reject(new Error(`the drill's bus child exited (code ${code}, signal ${signal}): ${stderr}`)));
  early.catch(() => undefined);
  await Promise.race([readyP, early]);
  const drainedOrExit = Promise.race([drainedP, early]);
  const firstDrainOrExit = Promise.race([firstDrainP, early]);
  // A child killed on purpose rejects these; only a caller that awaits them should hear about it.
  drainedOrExit.catch(() => undefined);
  firstDrainOrExit.catch(() => undefined);
  return {
    process: proc,
    drained: drainedOrExit,
    firstDrain: firstDrainOrExit,
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** Reads the acks file: every record the child settled and recorded durably. */
export async function readAcks(ackFile: string): Promise<SentRecord[]> {
  const text = await readFile(ackFile, 'utf8').catch(() => '');
  // A torn last line (the child was killed mid-write, before its fdatasync returned) was never known as acknowledged.
  return text.split('\n').flatMap((line) => {
    try {
      return line ? [JSON.parse(line) as SentRecord] : [];
    } catch {
      return [];
    }
  });
}

/** Creates a producer running in a child process. */
export function createChildProducer(options: ChildProducerOptions): Producer {
  const configFile = join(options.workDir, 'bus-config.json');
  const ackFile = join(options.workDir, 'acks.jsonl');
  let child: BusChild | undefined;
  let phase = 'steady';
  let known: SentRecord[] = [];
  const launch = async (): Promise<void> => {
    known = await readAcks(ackFile);
    const firstSeq = known.reduce((max, r) => Math.max(max, r.seq + 1), 0) + 100_000 * (known.length > 0 ? 1 : 0);
    child = await spawnBusChild('produce', { configFile, ackFile, rate: options.rate, firstSeq }, options.observations);
    child.process.stdin?.write(`phase ${phase}\n`);
  };
  return {
    sent: () => known,
    setPhase(name) {
      phase = name;
      child?.process.stdin?.write(`phase ${name}\n`);
    },
    async start() {
      await writeFile(configFile, JSON.stringify(options.config));
      await launch();
    },
    async stopSending() {
      child?.process.stdin?.write('stop\n');
    },
    async awaitDrained(timeoutMs, signal) {
      if (!child) return;
      let timer: NodeJS.Timeout | undefined;
      let onAbort: (() => void) | undefined;
      const stop = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the producer child did not drain within ${timeoutMs} ms`)), timeoutMs);
        onAbort = () => reject(signal?.reason);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
      try {
        signal?.throwIfAborted();
        await Promise.race([child.drained, stop]);
      } finally {
        clearTimeout(timer);
        if (onAbort) signal?.removeEventListener('abort', onAbort);
      }
      known = await readAcks(ackFile);
    },
    async kill() {
      await child?.kill();
      known = await readAcks(ackFile);
    },
    restart: launch,
    async close() {
      await child?.kill();
    },
  };
}
