/**
 * A fast fake Kinesis for benchmarks: a `node:http` server that answers the
 * AWS JSON 1.1 calls a producer makes (`PutRecords`, `PutRecord`,
 * `DescribeStreamSummary`, `ListShards`) with success, as cheaply as it can,
 * so that a benchmark measures the client and not the emulator (kinesalite
 * tops out near 15k records/s on this machine).
 *
 * It stores nothing. It counts the records and bytes it accepted, per
 * partition-key prefix when asked (`countPrefixes`), so a run can check that
 * what the clients were told was written did arrive. It runs in a child
 * process by default, so its CPU is not the benchmark's.
 *
 * With `shardLimits` it models what a provisioned stream enforces instead:
 * `shards` shards splitting the hash range evenly (ListShards says so), each
 * taking at most `recordsPerSecond` Kinesis records and `bytesPerSecond` bytes
 * (data plus partition key) per wall-clock second; an entry over its shard's
 * budget fails with `ProvisionedThroughputExceededException`, the rest of the
 * call goes on, as Kinesis does. A KPL aggregate counts as one record of its
 * size. That is the limit record aggregation exists for.
 *
 *   npx tsx bench/fake-kinesis.ts serve [port]      run one in the foreground
 *   npx tsx bench/fake-kinesis.ts serve 0 4 1000 1048576   4 shards, 1,000 records/s and 1 MiB/s each
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { deaggregate, isAggregated } from '../adapters/kinesis/aggregation.js';
import { isMain } from './lib.js';

/** What the fake accepted so far. */
export interface FakeKinesisStats {
  calls: number;
  records: number;
  /** Request body bytes of PutRecords/PutRecord calls (JSON, base64 data). */
  bytes: number;
  /** Records by partition-key prefix (text before the first '-'), when `countPrefixes` is on. */
  byPrefix: Record<string, number>;
  /** Put calls by the partition-key prefix of their first record, when `countPrefixes` is on. */
  callsByPrefix: Record<string, number>;
  /** CPU the fake's process has used so far (user plus system, all threads), in microseconds. */
  cpuMicros?: number;
}

/** Per-shard limits of a provisioned stream (see the module comment). */
export interface ShardLimits {
  shards: number;
  recordsPerSecond: number;
  bytesPerSecond: number;
}

/** A running fake. */
export interface FakeKinesis {
  readonly endpoint: string;
  stats(): Promise<FakeKinesisStats>;
  stop(): Promise<void>;
}

const SEQ = '49590338271490256608559692538361571095921575989136588898';
const ENTRY = `{"SequenceNumber":"${SEQ}","ShardId":"shardId-000000000000"}`;
const PUT_RECORD = Buffer.from(ENTRY);
const MAX_HASH = '340282366920938463463374607431768211455';
const KEY_FIELD = Buffer.from('"PartitionKey":"');
/** Base64 of the KPL magic F3 89 9A C2: a body holding it carries aggregated records. */
const AGGREGATE_MARK = Buffer.from('"84maw');

const prefixOf = (key: string): string => {
  const dash = key.indexOf('-');
  return dash === -1 ? key : key.slice(0, dash);
};

/** Count the user records of a body with KPL aggregates (parsed: aggregated calls carry few entries). */
function countAggregated(body: Buffer, stats: FakeKinesisStats): number {
  const request = JSON.parse(body.toString('utf8')) as { Records?: Array<{ Data: string; PartitionKey: string }>; Data?: string; PartitionKey?: string };
  const entries = request.Records ?? [{ Data: request.Data ?? '', PartitionKey: request.PartitionKey ?? '' }];
  let first = true;
  for (const entry of entries) {
    for (const user of deaggregate(Buffer.from(entry.Data, 'base64'), entry.PartitionKey)) {
      const prefix = prefixOf(user.partitionKey);
      stats.byPrefix[prefix] = (stats.byPrefix[prefix] ?? 0) + 1;
      if (first) stats.callsByPrefix[prefix] = (stats.callsByPrefix[prefix] ?? 0) + 1;
      first = false;
    }
  }
  return entries.length;
}

const putRecordsBodies = new Map<number, Buffer>();
function putRecordsBody(n: number): Buffer {
  let body = putRecordsBodies.get(n);
  if (!body) {
    body = Buffer.from(`{"FailedRecordCount":0,"Records":[${new Array(n).fill(ENTRY).join(',')}]}`);
    putRecordsBodies.set(n, body);
  }
  return body;
}

function summaryBody(stream: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      StreamDescriptionSummary: {
        StreamName: stream,
        StreamARN: `arn:aws:kinesis:us-east-1:000000000000:stream/${stream}`,
        StreamStatus: 'ACTIVE',
        StreamModeDetails: { StreamMode: 'PROVISIONED' },
        RetentionPeriodHours: 24,
        StreamCreationTimestamp: 1_700_000_000,
        EnhancedMonitoring: [],
        EncryptionType: 'NONE',
        OpenShardCount: 1,
      },
    }),
  );
}

const LIST_SHARDS = Buffer.from(
  JSON.stringify({ Shards: [{ ShardId: 'shardId-000000000000', HashKeyRange: { StartingHashKey: '0', EndingHashKey: MAX_HASH }, SequenceNumberRange: { StartingSequenceNumber: SEQ } }] }),
);

/** Count records (occurrences of `"PartitionKey":"`) and, optionally, their key prefixes, without parsing the JSON. */
function countRecords(body: Buffer, stats: FakeKinesisStats, prefixes: boolean): number {
  let n = 0;
  let first = true;
  for (let at = body.indexOf(KEY_FIELD); at !== -1; at = body.indexOf(KEY_FIELD, at + KEY_FIELD.length)) {
    n++;
    if (prefixes) {
      const start = at + KEY_FIELD.length;
      const dash = body.indexOf(0x2d, start);
      const quote = body.indexOf(0x22, start);
      const prefix = body.toString('latin1', start, dash !== -1 && dash < quote ? dash : quote);
      stats.byPrefix[prefix] = (stats.byPrefix[prefix] ?? 0) + 1;
      if (first) stats.callsByPrefix[prefix] = (stats.callsByPrefix[prefix] ?? 0) + 1;
      first = false;
    }
  }
  return n;
}

function answer(res: ServerResponse, status: number, body: Buffer): void {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'content-length': body.length, 'x-amzn-requestid': 'fake' });
  res.end(body);
}

function handle(req: IncomingMessage, body: Buffer, res: ServerResponse, stats: FakeKinesisStats, prefixes: boolean): void {
  const op = String(req.headers['x-amz-target'] ?? '').split('.')[1];
  if (req.url === '/__stats') {
    const cpu = process.cpuUsage();
    return answer(res, 200, Buffer.from(JSON.stringify({ ...stats, cpuMicros: cpu.user + cpu.system })));
  }
  stats.calls++;
  if (op === 'PutRecords' || op === 'PutRecord') {
    const n = prefixes && body.includes(AGGREGATE_MARK) ? countAggregated(body, stats) : countRecords(body, stats, prefixes);
    stats.records += n;
    stats.bytes += body.length;
    return answer(res, 200, op === 'PutRecord' ? PUT_RECORD : putRecordsBody(n));
  }
  if (op === 'DescribeStreamSummary') {
    const match = /"StreamName"\s*:\s*"([^"]*)"/.exec(body.toString('utf8'));
    return answer(res, 200, summaryBody(match?.[1] ?? 'stream'));
  }
  if (op === 'ListShards') return answer(res, 200, LIST_SHARDS);
  answer(res, 400, Buffer.from(JSON.stringify({ __type: 'UnknownOperationException', message: `the fake answers PutRecords, PutRecord, DescribeStreamSummary and ListShards, not ${op}` })));
}

const HASH_SPACE = 1n << 128n;

/** The fake's shards under `limits`: even hash ranges, and this second's use of each. */
function shardTable(limits: ShardLimits): { listShards: Buffer; shardOf(key: string, explicitHashKey?: string): number; use: Array<{ second: number; records: number; bytes: number }> } {
  const width = HASH_SPACE / BigInt(limits.shards);
  const shards = Array.from({ length: limits.shards }, (_, i) => ({
    ShardId: `shardId-${String(i).padStart(12, '0')}`,
    HashKeyRange: { StartingHashKey: (width * BigInt(i)).toString(), EndingHashKey: (i === limits.shards - 1 ? HASH_SPACE - 1n : width * BigInt(i + 1) - 1n).toString() },
    SequenceNumberRange: { StartingSequenceNumber: SEQ },
  }));
  return {
    listShards: Buffer.from(JSON.stringify({ Shards: shards })),
    shardOf(key, explicitHashKey) {
      const hash = explicitHashKey !== undefined ? BigInt(explicitHashKey) : BigInt(`0x${createHash('md5').update(key, 'utf8').digest('hex')}`);
      return Math.min(limits.shards - 1, Number(hash / width));
    },
    use: shards.map(() => ({ second: 0, records: 0, bytes: 0 })),
  };
}

/** PutRecords against per-shard budgets: each entry taken or failed as over its shard's budget for this second. */
function putLimited(body: Buffer, stats: FakeKinesisStats, limits: ShardLimits, table: ReturnType<typeof shardTable>): { status: number; body: Buffer } {
  const request = JSON.parse(body.toString('utf8')) as { Records?: Array<{ Data: string; PartitionKey: string; ExplicitHashKey?: string }> } & { Data?: string; PartitionKey?: string; ExplicitHashKey?: string };
  const entries = request.Records ?? [{ Data: request.Data ?? '', PartitionKey: request.PartitionKey ?? '', ...(request.ExplicitHashKey ? { ExplicitHashKey: request.ExplicitHashKey } : {}) }];
  const second = Math.floor(Date.now() / 1000);
  let failed = 0;
  let first = true;
  const results = entries.map((entry) => {
    const shard = table.shardOf(entry.PartitionKey, entry.ExplicitHashKey);
    const use = table.use[shard] as { second: number; records: number; bytes: number };
    if (use.second !== second) Object.assign(use, { second, records: 0, bytes: 0 });
    const data = Buffer.from(entry.Data, 'base64');
    const bytes = data.length + Buffer.byteLength(entry.PartitionKey);
    if (use.records + 1 > limits.recordsPerSecond || use.bytes + bytes > limits.bytesPerSecond) {
      failed++;
      return `{"ErrorCode":"ProvisionedThroughputExceededException","ErrorMessage":"Rate exceeded for shard shardId-${String(shard).padStart(12, '0')} in stream bench under account 000000000000."}`;
    }
    use.records++;
    use.bytes += bytes;
    stats.records++;
    for (const user of isAggregated(data) ? deaggregate(data, entry.PartitionKey) : [{ partitionKey: entry.PartitionKey }]) {
      const prefix = prefixOf(user.partitionKey);
      stats.byPrefix[prefix] = (stats.byPrefix[prefix] ?? 0) + 1;
      if (first) stats.callsByPrefix[prefix] = (stats.callsByPrefix[prefix] ?? 0) + 1;
      first = false;
    }
    return `{"SequenceNumber":"${SEQ}","ShardId":"shardId-${String(shard).padStart(12, '0')}"}`;
  });
  if (request.Records) return { status: 200, body: Buffer.from(`{"FailedRecordCount":${failed},"Records":[${results.join(',')}]}`) };
  // PutRecord: over budget is the whole call's error.
  return failed > 0
    ? { status: 400, body: Buffer.from('{"__type":"ProvisionedThroughputExceededException","message":"Rate exceeded for shard."}') }
    : { status: 200, body: Buffer.from(results[0] as string) };
}

/** Serve the fake in this process. */
export async function serveFakeKinesis(port = 0, countPrefixes = true, shardLimits?: ShardLimits): Promise<{ server: Server; endpoint: string; stats: FakeKinesisStats }> {
  const stats: FakeKinesisStats = { calls: 0, records: 0, bytes: 0, byPrefix: {}, callsByPrefix: {} };
  const table = shardLimits ? shardTable(shardLimits) : undefined;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      const op = String(req.headers['x-amz-target'] ?? '').split('.')[1];
      if (!shardLimits || !table || req.url === '/__stats') return handle(req, body, res, stats, countPrefixes);
      if (op === 'PutRecords' || op === 'PutRecord') {
        stats.calls++;
        stats.bytes += body.length;
        const out = putLimited(body, stats, shardLimits, table);
        return answer(res, out.status, out.body);
      }
      if (op === 'ListShards') return answer(res, 200, table.listShards);
      return handle(req, body, res, stats, countPrefixes);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, endpoint, stats };
}

/** Start the fake in a child process (its CPU apart from the benchmark's); stopped with SIGKILL. */
export async function startFakeKinesis(shardLimits?: ShardLimits): Promise<FakeKinesis & { pid: number }> {
  const limitArgs = shardLimits ? [String(shardLimits.shards), String(shardLimits.recordsPerSecond), String(shardLimits.bytesPerSecond)] : [];
  const child: ChildProcess = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), 'serve', '0', ...limitArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
  process.once('exit', () => child.kill('SIGKILL'));
  const endpoint = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`fake Kinesis exited with code ${code} before listening`)));
  });
  return {
    endpoint,
    pid: child.pid as number,
    async stats() {
      const res = await fetch(`${endpoint}/__stats`, { method: 'POST' });
      return (await res.json()) as FakeKinesisStats;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

if (isMain(import.meta.url) && process.argv[2] === 'serve') {
  const [shards, recordsPerSecond, bytesPerSecond] = process.argv.slice(4).map(Number);
  const limits = shards && recordsPerSecond && bytesPerSecond ? { shards, recordsPerSecond, bytesPerSecond } : undefined;
  serveFakeKinesis(Number(process.argv[3] ?? 0), true, limits).then(
    ({ endpoint }) => console.log(`fake Kinesis listening on ${endpoint}`),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
