/**
 * DynamoDB Streams → Kafka throughput of the `dynamodb-streams` source (at-least-once), against a bare
 * GetRecords loop over the same stream (issue 5: ratio ≥ 0.85).
 *
 * The stream: one table (hash key `pk`, stream NEW_AND_OLD_IMAGES) on DynamoDB Local, created once per
 * benchmark, into which {@link CHANGES} items of ~1 KB (datagen orders, seed 42, one attribute per field)
 * are written beforehand with BatchWriteItem: {@link CHANGES} INSERT changes. Reading a stream does not
 * consume it, so every run of every side reads the very same changes from TRIM_HORIZON.
 *
 * Ours: the real handler (`createSourceFunction` → `handler`), `connector.class=dynamodb-streams`,
 * `dynamodb.stream.position=TRIM_HORIZON`, `batch.size=1000` (GetRecords' `Limit`, its maximum),
 * JsonConverter keys and values (schemas.enable=false), **at-least-once** (`exactly.once.source.support`
 * disabled, offsets in Kafka: per batch one acks=all produce of the records, then one of the offset
 * record), batches pipelined one deep. Each run builds the function for a fresh connector name (no
 * committed offsets: the stream is read from TRIM_HORIZON) writing to a fresh topic (created beforehand),
 * primes it with one invocation with no time left (it opens the offsets store, the Kafka and SDK
 * clients; reads nothing — since the offsets read gives up at the budget deadline, it may end with the
 * store's retriable "did not finish in time", which {@link prime} accepts), then times one invocation
 * that reads the whole stream (it ends `idle`, caught up): the `handler` call to its return. Inside:
 * DescribeTable (the table's stream), DescribeStream, committed offsets, GetShardIterator, GetRecords
 * until caught up (each page read one ahead of the cycle: stream-reader.ts), every change made a record
 * (keys and images made plain JSON in one walk), converted and produced to Kafka.
 *
 * Baseline: a bare `DynamoDBStreamsClient` with the connector's client settings (its region, endpoint,
 * credentials and `quietSdkLogger`), the stream ARN known beforehand, timed: DescribeStream (every page)
 * → per shard, in listing order (parents first), GetShardIterator TRIM_HORIZON → GetRecords (Limit 1000)
 * until a page comes back empty on an open shard (caught up) or without a next iterator (a closed
 * shard), `unmarshall` of each change's Keys, NewImage and OldImage. No Kafka, no offsets, no JSON.
 *
 * The baseline (the target's) stays without Kafka: ours reads the next page while it converts and
 * produces the last one, so where GetRecords is the slow part its wall time is the GetRecords chain this
 * loop times. Where it is not — a fresh, idle DynamoDB Local answers a page in ~60 ms — our process is
 * CPU-bound (CPU/wall ~0.95), and what separates it from the loop is mostly producing 13 MB with kafkajs
 * (encoding, CRC32C, buffers and the garbage they leave), which no source that writes to Kafka avoids.
 * So the old bar is kept as it was, and a context side shows what that costs:
 *
 * Context (read+produce, no target): the baseline's loop, each page then made the same key, value and
 * headers with JSON.stringify and produced with a bare idempotent kafkajs producer (acks=all, connected
 * before the timer) while the next page is read. No converters, no offsets, no budget: the least a
 * source can do with these changes. Ours / read+produce is our own overhead; read+produce / baseline is
 * the price of producing at all.
 *
 * Both the baseline and the context side use the connector's `quietSdkLogger`: the SDK's default logger
 * had every answer copied through its sensitive-data filter only to drop it, on every side alike.
 *
 * Rounds run the three sides in turn (the order rotated every round) after {@link WARM_UP_ROUNDS}
 * uncounted round; figures are medians. Every run must read exactly {@link CHANGES} changes.
 *
 * Run: `npx tsx bench/dynamodb-streams-throughput.ts [--runs 3] [--profile DIR]`, or
 * `npm run bench -- --only dynamodb-streams-throughput`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand, type DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import {
  type _Record,
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { type Kafka, type Message, Partitioners } from 'kafkajs';
import { createSourceFunction, InvocationFailedError } from '../src/app/source-function.ts';
import { sdkClientConfig } from '../src/connectors/dynamodb-streams/source-connector.ts';
import { quietSdkLogger } from '../src/connectors/sdk-logger.ts';
import { localContext } from '../src/lambda/lambda-context.ts';
import {
  type CpuProfile,
  compareProfiles,
  profiled,
  selfTimeByFunction,
  writeProfile,
} from './lib/cpu-profile.ts';
import { datagenRecords, writeDatagenBundle } from './lib/datagen-bundle.ts';
import { batchWriteAll, benchDynamoClient, chunked, createTable, deleteTable } from './lib/dynamodb.ts';
import { type Benchmark, compared, type ResultRow, runIfMain } from './lib/result.ts';
import { benchKafka } from './lib/sink-bundle.ts';
import type { BenchStack } from './lib/stack.ts';
import { median } from './lib/stats.ts';
import { formatTable } from './lib/table.ts';
import { BenchTopics } from './lib/topics.ts';

const NAME = 'dynamodb-streams-throughput';
const CHANGES = 10_000;
const RECORD_BYTES = 1024;
const BATCH_SIZE = 1000;
const WARM_UP_ROUNDS = 1;
const TARGET = '>= 0.85';
const OFFSETS_TOPIC = 'connect-fn-bench-offsets';
const TIMEOUT_MS = 900_000;
/** The read+produce side's produce requests: under the broker's default message.max.bytes (1 MB). */
const MAX_REQUEST_BYTES = 1_000_000;
/** Headers and framing per record, counted against {@link MAX_REQUEST_BYTES}. */
const RECORD_OVERHEAD_BYTES = 100;
/** Empty pages followed on a closed shard before leaving it (the connector's bound too). */
const MAX_EMPTY_PAGES = 10;

type Side = 'ours' | 'baseline' | 'read+produce';
const SIDES: readonly Side[] = ['ours', 'baseline', 'read+produce'];

interface Setup {
  readonly stack: BenchStack;
  readonly dir: string;
  readonly table: string;
  readonly streamArn: string;
  readonly streams: DynamoDBStreamsClient;
  readonly topics: BenchTopics;
  readonly kafka: Kafka;
  readonly id: () => string;
}

interface Run {
  readonly ms: number;
  readonly cpuMs: number;
  /** Batches delivered (ours) or GetRecords calls (baseline). */
  readonly batches: number;
  /** Key + value bytes produced (ours only). */
  readonly bytes?: number;
}

type Timed = <T>(region: () => Promise<T>) => Promise<T>;
const plain: Timed = (region) => region();

async function timed<T>(timer: Timed, region: () => Promise<T>) {
  const startCpu = process.cpuUsage();
  const startMs = performance.now();
  const result = await timer(region);
  const ms = performance.now() - startMs;
  const cpu = process.cpuUsage(startCpu);
  return { result, ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** Writes the stream → Kafka bundle of one run; returns its dir. */
function writeBundle(s: Setup, dir: string, connector: string, topic: string): string {
  mkdirSync(join(dir, 'connectors'), { recursive: true });
  const worker = [
    `bootstrap.servers=${s.stack.kafkaBrokers}`,
    'group.id=connect-fn-bench',
    'key.converter=org.apache.kafka.connect.json.JsonConverter',
    'key.converter.schemas.enable=false',
    'value.converter=org.apache.kafka.connect.json.JsonConverter',
    'value.converter.schemas.enable=false',
    'offset.storage=kafka',
    `offset.storage.topic=${OFFSETS_TOPIC}`,
    'offset.storage.replication.factor=1',
    'exactly.once.source.support=disabled',
  ];
  const props = [
    `name=${connector}`,
    'connector.class=dynamodb-streams',
    'tasks.max=1',
    `dynamodb.table=${s.table}`,
    `dynamodb.service.endpoint=${s.stack.dynamodbEndpoint}`,
    `topic.format=${topic}`,
    'dynamodb.stream.position=TRIM_HORIZON',
    `batch.size=${BATCH_SIZE}`,
    'invocation.max.records=1000000',
    'invocation.max.bytes=1073741824',
    `invocation.timeout.ms=${TIMEOUT_MS}`,
  ];
  writeFileSync(join(dir, 'worker.properties'), `${worker.join('\n')}\n`);
  writeFileSync(join(dir, 'connectors', `${connector}.properties`), `${props.join('\n')}\n`);
  return dir;
}

/**
 * One invocation with no time left: it opens the offsets store, the Kafka clients and the SDK clients,
 * and reads nothing. Since the offsets read gives up at the budget deadline (it no longer outlives it),
 * such an invocation may end with the offsets store's retriable "did not finish in time" instead of
 * `idle`: either way it has connected everything, and produced nothing.
 */
async function prime(fn: ReturnType<typeof createSourceFunction>, functionName: string): Promise<void> {
  const margin = fn.connector.common['invocation.safety.margin.ms'];
  try {
    const primed = await fn.handler({ task: 0 }, localContext(functionName, margin));
    if (primed.records !== 0) throw new Error(`the priming invocation produced ${primed.records} records`);
  } catch (err) {
    const summary = err instanceof InvocationFailedError ? err.summary : undefined;
    if (summary?.error?.code !== 'CONNECT_FN_OFFSET_STORAGE' || summary.records !== 0) throw err;
  }
}

async function runOurs(s: Setup, timer = plain): Promise<Run> {
  const id = s.id();
  const connector = `bench-ddb-streams-${id}`;
  const functionName = `connect-fn-${connector}`;
  const topic = await s.topics.create(`bench-ddb-streams-${id}`);
  const bundleDir = writeBundle(s, join(s.dir, id), connector, topic);
  const fn = createSourceFunction({ bundleDir, connector, env: { LOG_LEVEL: 'warn' } });
  try {
    await prime(fn, functionName);
    const run = await timed(timer, () => fn.handler({ task: 0 }, localContext(functionName, TIMEOUT_MS)));
    const summary = run.result;
    if (summary.records !== CHANGES || summary.stopReason !== 'idle') {
      throw new Error(`ours: expected ${CHANGES} records (idle), got ${JSON.stringify(summary)}`);
    }
    return { ms: run.ms, cpuMs: run.cpuMs, batches: summary.batches, bytes: summary.bytes };
  } finally {
    await fn.close();
    rmSync(bundleDir, { recursive: true, force: true });
  }
}

/** A change unmarshalled: what the baseline does with each; the read+produce side sends it on. */
interface Unmarshalled {
  readonly record: _Record;
  readonly keys: Record<string, unknown>;
  readonly newImage: Record<string, unknown> | null;
  readonly oldImage: Record<string, unknown> | null;
}

type Image = Parameters<typeof unmarshall>[0];
const unmarshallImage = (image: Image | undefined) => (image === undefined ? null : unmarshall(image));

/**
 * DescribeStream (every page) → per shard GetShardIterator TRIM_HORIZON → GetRecords until caught up.
 * `onPage`, when given, takes each page's changes and runs while the next page is read (one at a time).
 */
async function readStream(
  s: Setup,
  onPage?: (changes: readonly Unmarshalled[]) => Promise<void>,
): Promise<{ changes: number; calls: number }> {
  let pageInFlight: Promise<void> = Promise.resolve();
  const shards: Shard[] = [];
  let start: string | undefined;
  do {
    const { StreamDescription: d } = await s.streams.send(
      new DescribeStreamCommand({ StreamArn: s.streamArn, ExclusiveStartShardId: start }),
    );
    shards.push(...(d?.Shards ?? []));
    start = d?.LastEvaluatedShardId;
  } while (start !== undefined);
  let changes = 0;
  let calls = 0;
  for (const shard of shards) {
    const closed = shard.SequenceNumberRange?.EndingSequenceNumber !== undefined;
    const { ShardIterator } = await s.streams.send(
      new GetShardIteratorCommand({
        StreamArn: s.streamArn,
        ShardId: shard.ShardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    let iterator = ShardIterator ?? undefined;
    for (let empty = 0; iterator !== undefined && empty < MAX_EMPTY_PAGES; ) {
      calls++;
      const page = await s.streams.send(
        new GetRecordsCommand({ ShardIterator: iterator, Limit: BATCH_SIZE }),
      );
      const records = page.Records ?? [];
      if (onPage === undefined) {
        // The baseline's work on each change, its results dropped (no wrapper objects either).
        for (const r of records) {
          unmarshallImage(r.dynamodb?.Keys as Image | undefined);
          unmarshallImage(r.dynamodb?.NewImage as Image | undefined);
          unmarshallImage(r.dynamodb?.OldImage as Image | undefined);
        }
      } else if (records.length > 0) {
        const unmarshalled = records.map(
          (record): Unmarshalled => ({
            record,
            keys: unmarshallImage(record.dynamodb?.Keys as Image | undefined) ?? {},
            newImage: unmarshallImage(record.dynamodb?.NewImage as Image | undefined),
            oldImage: unmarshallImage(record.dynamodb?.OldImage as Image | undefined),
          }),
        );
        await pageInFlight;
        pageInFlight = onPage(unmarshalled);
        pageInFlight.catch(() => undefined); // awaited before the next page, or at the end
      }
      changes += records.length;
      iterator = page.NextShardIterator ?? undefined;
      if (records.length > 0) empty = 0;
      else if (!closed)
        break; // an open shard is caught up
      else empty++;
    }
  }
  await pageInFlight;
  return { changes, calls };
}

async function runBaseline(s: Setup, timer = plain): Promise<Run> {
  const run = await timed(timer, () => readStream(s));
  if (run.result.changes !== CHANGES) {
    throw new Error(`baseline: read ${run.result.changes} changes, expected ${CHANGES}`);
  }
  return { ms: run.ms, cpuMs: run.cpuMs, batches: run.result.calls };
}

/** The Kafka messages of a page: the same key, value and headers ours writes, by JSON.stringify. */
function messages(changes: readonly Unmarshalled[], table: string): Message[] {
  return changes.map(({ record, keys, newImage, oldImage }) => {
    const sequenceNumber = record.dynamodb?.SequenceNumber;
    const createdMs = record.dynamodb?.ApproximateCreationDateTime?.getTime() ?? null;
    const value = { eventName: record.eventName, keys, newImage, oldImage, sequenceNumber };
    return {
      key: JSON.stringify(keys),
      value: JSON.stringify({ ...value, approximateCreationTime: createdMs }),
      headers: { 'dynamodb.event.name': record.eventName ?? '', 'dynamodb.table': table },
      ...(createdMs === null ? {} : { timestamp: String(createdMs) }),
    };
  });
}

/**
 * The context side: the baseline's loop, each page then JSON.stringify'd and produced (idempotent
 * kafkajs producer, acks=all, connected before the timer) while the next page is read. No offsets, no
 * converters, no budget: the least a source can do with these changes.
 */
async function runReadProduce(s: Setup, timer = plain): Promise<Run> {
  const topic = await s.topics.create(`bench-ddb-streams-${s.id()}`);
  const producer = s.kafka.producer({
    idempotent: true,
    maxInFlightRequests: 5,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  let bytes = 0;
  try {
    const produce = async (changes: readonly Unmarshalled[]) => {
      // Requests under the broker's message.max.bytes, one after another, as ours sends a batch.
      let request: Message[] = [];
      let requestBytes = 0;
      for (const m of messages(changes, s.table)) {
        const size = Buffer.byteLength(m.key as string) + Buffer.byteLength(m.value as string);
        bytes += size;
        if (requestBytes > 0 && requestBytes + size + RECORD_OVERHEAD_BYTES > MAX_REQUEST_BYTES) {
          await producer.send({ topic, acks: -1, messages: request });
          request = [];
          requestBytes = 0;
        }
        request.push(m);
        requestBytes += size + RECORD_OVERHEAD_BYTES;
      }
      if (request.length > 0) await producer.send({ topic, acks: -1, messages: request });
    };
    const run = await timed(timer, () => readStream(s, produce));
    if (run.result.changes !== CHANGES) {
      throw new Error(`read+produce: read ${run.result.changes} changes, expected ${CHANGES}`);
    }
    return { ms: run.ms, cpuMs: run.cpuMs, batches: run.result.calls, bytes };
  } finally {
    await producer.disconnect();
  }
}

/** The table with its {@link CHANGES} INSERTs; returns its stream ARN. */
async function prepare(client: DynamoDBClient, dir: string, brokers: string, table: string): Promise<string> {
  const sample = writeDatagenBundle({
    dir: join(dir, 'datagen'),
    brokers,
    connector: 'bench-ddb-streams-sample',
    topic: 'unused',
    exactlyOnce: false,
    offsetsTopic: OFFSETS_TOPIC,
    maxRecords: CHANGES,
    recordBytes: RECORD_BYTES,
  });
  const records = await datagenRecords(sample, 'bench-ddb-streams-sample', CHANGES);
  const decoder = new TextDecoder();
  const requests: WriteRequest[] = records.map((r, i) => ({
    PutRequest: {
      Item: marshall(
        { ...(JSON.parse(decoder.decode(r.value!)) as Record<string, unknown>), pk: `order-${i}` },
        { removeUndefinedValues: true },
      ),
    },
  }));
  await createTable(client, { name: table, keys: [['pk', 'S']], stream: true });
  await batchWriteAll(client, table, chunked(requests), 4);
  const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
  if (Table?.LatestStreamArn === undefined) throw new Error(`table ${table} has no stream`);
  return Table.LatestStreamArn;
}

/** One more round, not counted, each side under the profiler. */
async function profileRound(s: Setup, dir: string, log: (line: string) => void): Promise<void> {
  const profiles = new Map<string, CpuProfile>();
  const capture =
    (name: string): Timed =>
    async (region) => {
      const { result, profile } = await profiled(region);
      profiles.set(name, profile);
      log(`wrote ${writeProfile(dir, `${NAME}-${name}`, profile)}`);
      return result;
    };
  const ours = await runOurs(s, capture('ours'));
  const baseline = await runBaseline(s, capture('baseline'));
  log(`profiled: ours ${ours.ms.toFixed(0)} ms, baseline ${baseline.ms.toFixed(0)} ms (profiler on)`);
  for (const line of compareProfiles(profiles)) log(line);
  log('ours: top functions by self time');
  for (const { fn, ms } of selfTimeByFunction(profiles.get('ours')!, 20)) {
    log(`${ms.toFixed(0).padStart(6)} ms  ${fn}`);
  }
}

function detail(runs: ReadonlyMap<Side, Run[]>): string[] {
  const head = ['side', 'wall p50', 'wall min', 'wall max', 'CPU p50', 'CPU/wall', 'batches/GetRecords'];
  const cells = SIDES.map((side) => {
    const r = runs.get(side)!;
    const wall = median(r.map((x) => x.ms));
    const cpu = median(r.map((x) => x.cpuMs));
    return [
      side,
      wall.toFixed(0),
      Math.min(...r.map((x) => x.ms)).toFixed(0),
      Math.max(...r.map((x) => x.ms)).toFixed(0),
      cpu.toFixed(0),
      (cpu / wall).toFixed(2),
      median(r.map((x) => x.batches)).toFixed(0),
    ];
  });
  const ours = runs.get('ours')!;
  const wall = (r: readonly Run[]) => median(r.map((x) => x.ms));
  const bytes = (side: Side) => median(runs.get(side)!.map((o) => o.bytes ?? 0)) / 1e6;
  const versus = (side: Side, what: string) => {
    const other = runs.get(side)!;
    const paired = median(ours.map((o, i) => other[i]!.ms / o.ms));
    return (
      `throughput ratio vs ${what} ${(wall(other) / wall(ours)).toFixed(3)} (paired by round ` +
      `${paired.toFixed(3)}); ours takes ${(wall(ours) - wall(other)).toFixed(0)} ms more wall`
    );
  };
  return [
    `${CHANGES} INSERT changes of ~${RECORD_BYTES} B items; keys and values produced per run: ours ` +
      `${bytes('ours').toFixed(1)} MB, read+produce ${bytes('read+produce').toFixed(1)} MB; ms per run`,
    ...formatTable(head, cells),
    versus('baseline', 'the baseline (target)'),
    versus('read+produce', 'read+produce (context)'),
  ];
}

function rows(runs: ReadonlyMap<Side, Run[]>): ResultRow[] {
  const perSecond = (side: Side) => median(runs.get(side)!.map((r) => CHANGES / (r.ms / 1000)));
  const n = runs.get('ours')!.length;
  return [
    compared(
      `${NAME}: at-least-once, records/s`,
      perSecond('ours'),
      'records/s',
      { name: 'SDK GetRecords(1000) loop + unmarshall, no Kafka', value: perSecond('baseline') },
      `${CHANGES} INSERTs of ~${RECORD_BYTES} B items from TRIM_HORIZON, same stream for both sides, ` +
        `batch.size ${BATCH_SIZE}, JSON into Kafka, offsets in Kafka, warm invocation; median of ${n} runs`,
      TARGET,
    ),
    compared(
      `${NAME}: at-least-once vs a bare read + produce, records/s (context)`,
      perSecond('ours'),
      'records/s',
      {
        name: 'the same loop + JSON.stringify + kafkajs produce (acks=all), one page ahead',
        value: perSecond('read+produce'),
      },
      `as above; the context side produces the same changes as JSON without converters or offsets; median of ${n} runs`,
    ),
  ];
}

export const dynamodbStreamsThroughput: Benchmark = {
  name: NAME,
  defaultRuns: 3,
  async run({ runs, log, stack, profileDir }) {
    const running = await stack();
    const dir = mkdtempSync(join(tmpdir(), 'connect-fn-ddb-streams-bench-'));
    const kafka = benchKafka(running.kafkaBrokers, 'connect-fn-bench-ddb-streams');
    const topics = new BenchTopics(kafka);
    const client = benchDynamoClient(running.dynamodbEndpoint);
    // The connector's client settings, its logger included (see quietSdkLogger).
    const streams = new DynamoDBStreamsClient({
      ...sdkClientConfig({ region: undefined, endpoint: running.dynamodbEndpoint }, {}),
      logger: quietSdkLogger,
    });
    const stamp = Date.now().toString(36);
    const table = `bench-ddb-streams-${stamp}`;
    try {
      let n = 0;
      const id = () => `${stamp}-${n++}`;
      const streamArn = await prepare(client, dir, running.kafkaBrokers, table);
      const s: Setup = { stack: running, dir, table, streamArn, streams, topics, kafka, id };
      const measured = new Map<Side, Run[]>(SIDES.map((side) => [side, []]));
      for (let round = 0; round < WARM_UP_ROUNDS + runs; round++) {
        const order = SIDES.map((_, i) => SIDES[(i + round) % SIDES.length]!);
        const line: string[] = [];
        for (const side of order) {
          const run =
            side === 'ours'
              ? await runOurs(s)
              : side === 'baseline'
                ? await runBaseline(s)
                : await runReadProduce(s);
          line.push(`${side} ${run.ms.toFixed(0)} ms`);
          if (round >= WARM_UP_ROUNDS) measured.get(side)!.push(run);
        }
        log(
          `${round < WARM_UP_ROUNDS ? 'warm-up' : `run ${round - WARM_UP_ROUNDS + 1}`}: ${line.join(', ')}`,
        );
      }
      if (profileDir !== undefined) await profileRound(s, profileDir, log);
      for (const l of detail(measured)) log(l);
      return rows(measured);
    } finally {
      await deleteTable(client, table, log);
      client.destroy();
      streams.destroy();
      await topics.deleteAll(log);
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

await runIfMain(import.meta.filename, dynamodbStreamsThroughput);
