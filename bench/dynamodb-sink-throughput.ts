/**
 * Kafka → DynamoDB throughput of the scheduled `dynamodb-sink` (at-least-once), against a bare SDK loop of
 * BatchWriteItem(25) writing the same items to the same DynamoDB Local (issue 5: ratio ≥ 0.85); and the
 * same sink with `delivery.guarantee=exactly-once`, as a ratio to the at-least-once one (no target).
 *
 * The topic: {@link PARTITIONS} partitions holding {@link RECORDS} datagen orders of ~1 KB (JSON values,
 * string keys, seed 42), produced once beforehand, record i to partition i mod 2.
 *
 * Ours: the real scheduled handler (`createSinkFunction` → `handler`) with the production DynamoDB sink:
 * JsonConverter values (schemas.enable=false: one attribute per field), the default keys
 * (`aws.dynamodb.pk.hash=partition`, `aws.dynamodb.pk.sort=offset`), `offset.storage=kafka` (Connect's
 * group `connect-<name>`, each batch's offsets committed in a transaction), `max.poll.records` 500: per
 * batch, read → convert → put (20 BatchWriteItem requests of 25, {@link WRITE_CONCURRENCY} in flight) →
 * commit, pipelined one deep (the next batch is read and converted while one is put; it is put once the
 * commit has completed, so DynamoDB is idle during each commit, ~5-15 ms here). Each run builds the
 * function for a fresh connector name (a fresh group, read from the earliest offset) and a fresh table
 * (created before, deleted after, neither timed), primes it with one invocation with no time left
 * (offsets session, partition assignment, reader connected; nothing read), then times one invocation
 * that reads the whole topic (it ends `idle`): the `handler` call to its return.
 *
 * Ours, exactly-once: the same, with `delivery.guarantee=exactly-once` and a fresh
 * `exactly.once.offsets.table` per run (`offsetsTableDefinition`, as the quickstart makes it; created and
 * deleted untimed): each batch as TransactWriteItems of up to 99 items + the partition's offset item, in
 * sequence. Checked as ours, and each partition's offset item must hold the partition's end.
 *
 * Baseline: the same items — made beforehand from the same records by the connector's own mapping
 * (JsonConverter → `toItemWrite`), marshalled, in chunks of 25 — written to a fresh table on the same
 * server by a bare `DynamoDBClient` with the sink's client settings (`dynamodbSinkClientConfig`: the same
 * `maxAttempts`, credentials and quiet SDK logger): one BatchWriteItem per chunk, **{@link
 * WRITE_CONCURRENCY} in flight** (a pool of workers over all the chunks: the concurrency the sink's batch
 * writer uses, without its per-put barrier and the commits between puts). No Kafka, no conversion, no
 * offsets. A second baseline sends the chunks one at a time (sequential), for context.
 *
 * Rounds run the four sides in turn (the order rotating every round) after {@link WARM_UP_ROUNDS}
 * uncounted round; figures are medians. After every run the table is checked: {@link RECORDS} items,
 * and (ours, both guarantees) a sample of items equal to the baseline's. DynamoDB Local shares the
 * machine's cores with this process, so ours' own CPU (Kafka, conversion, mapping) slows the server's
 * answers too: compare ratios from the same run, and repeat.
 *
 * Run: `npx tsx bench/dynamodb-sink-throughput.ts [--runs 3] [--profile DIR]`, or
 * `npm run bench -- --only dynamodb-sink-throughput`. `--profile` adds one uncounted round of ours (both
 * guarantees) and the baseline under the CPU profiler.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import {
  CreateTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Kafka } from 'kafkajs';
import { InvocationFailedError } from '../src/app/function-common.ts';
import { createSinkFunction, type SinkFunction } from '../src/app/sink-function.ts';
import { WRITE_CONCURRENCY } from '../src/connectors/dynamodb/batch-writer.ts';
import { itemMapping, toItemWrite } from '../src/connectors/dynamodb/item-mapping.ts';
import { EOS_OFFSET_ATTRIBUTE, eosOffsetKey } from '../src/connectors/dynamodb/transaction-writer.ts';
import { createConverter } from '../src/data/converters/index.ts';
import { localContext } from '../src/lambda/lambda-context.ts';
import { offsetsTableDefinition } from '../src/offsets/index.ts';
import {
  type CpuProfile,
  compareProfiles,
  profiled,
  selfTimeByFunction,
  writeProfile,
} from './lib/cpu-profile.ts';
import { datagenRecords, writeDatagenBundle } from './lib/datagen-bundle.ts';
import {
  batchWriteAll,
  benchDynamoClient,
  chunked,
  countItems,
  createTable,
  deleteTable,
} from './lib/dynamodb.ts';
import { type Benchmark, compared, type ResultRow, runIfMain } from './lib/result.ts';
import { benchKafka, SINK_ENV, SINK_OFFSETS_TOPIC, SINK_TIMEOUT_MS } from './lib/sink-bundle.ts';
import type { BenchStack } from './lib/stack.ts';
import { median } from './lib/stats.ts';
import { formatTable } from './lib/table.ts';
import { BenchTopics } from './lib/topics.ts';

const NAME = 'dynamodb-sink-throughput';
const RECORDS = 10_000;
const RECORD_BYTES = 1024;
const PARTITIONS = 2;
const WARM_UP_ROUNDS = 1;
const TARGET = '>= 0.85';
const PRODUCE_BATCH = 500;
/** Items compared between ours and the baseline after each run of ours. */
const SAMPLE_ITEMS = 5;

type Side = 'ours' | 'baseline' | 'baseline, sequential' | 'ours, exactly-once';
const SIDES: readonly Side[] = ['ours', 'baseline', 'baseline, sequential', 'ours, exactly-once'];
type Guarantee = 'at-least-once' | 'exactly-once';
const SIDE_OF: Readonly<Record<Guarantee, Side>> = {
  'at-least-once': 'ours',
  'exactly-once': 'ours, exactly-once',
};

interface Setup {
  readonly stack: BenchStack;
  readonly dir: string;
  readonly topic: string;
  readonly client: DynamoDBClient;
  /** The items of the records, as the sink writes them, in chunks of 25. */
  readonly chunks: readonly WriteRequest[][];
  /** Key and value bytes of the records. */
  readonly bytes: number;
  readonly id: () => string;
  readonly log: (line: string) => void;
}

interface Run {
  readonly ms: number;
  readonly cpuMs: number;
  /** Batches put (ours) or BatchWriteItem requests (baselines). */
  readonly batches: number;
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

const KEYS = [
  ['partition', 'N'],
  ['offset', 'N'],
] as const;

interface RunTables {
  readonly table: string;
  /** Exactly-once: `exactly.once.offsets.table`. */
  readonly offsetsTable?: string;
}

/** Writes the Kafka → DynamoDB bundle of one run; returns its dir. */
function writeBundle(s: Setup, dir: string, connector: string, tables: RunTables): string {
  mkdirSync(join(dir, 'connectors'), { recursive: true });
  const worker = [
    `bootstrap.servers=${s.stack.kafkaBrokers}`,
    'group.id=connect-fn-bench',
    'key.converter=org.apache.kafka.connect.storage.StringConverter',
    'value.converter=org.apache.kafka.connect.json.JsonConverter',
    'value.converter.schemas.enable=false',
    'offset.storage=kafka',
    `offset.storage.topic=${SINK_OFFSETS_TOPIC}`,
    'offset.storage.replication.factor=1',
  ];
  const props = [
    `name=${connector}`,
    'connector.class=dynamodb-sink',
    'tasks.max=1',
    `topics=${s.topic}`,
    `aws.dynamodb.endpoint=${s.stack.dynamodbEndpoint}`,
    `table.name.format=${tables.table}`,
    'aws.dynamodb.pk.hash=partition',
    'aws.dynamodb.pk.sort=offset',
    ...(tables.offsetsTable === undefined
      ? ['delivery.guarantee=at-least-once']
      : ['delivery.guarantee=exactly-once', `exactly.once.offsets.table=${tables.offsetsTable}`]),
    'invocation.max.records=1000000',
    'invocation.max.bytes=1073741824',
    `invocation.timeout.ms=${SINK_TIMEOUT_MS}`,
  ];
  writeFileSync(join(dir, 'worker.properties'), `${worker.join('\n')}\n`);
  writeFileSync(join(dir, 'connectors', `${connector}.properties`), `${props.join('\n')}\n`);
  return dir;
}

/** Every record's item is in `table`. */
async function checkTable(side: Side, s: Setup, table: string): Promise<void> {
  const count = await countItems(s.client, table);
  if (count !== RECORDS) throw new Error(`${side}: the table holds ${count} items, expected ${RECORDS}`);
}

/** A sample of ours' items equal to the items the baseline writes. */
async function checkSample(side: Side, s: Setup, table: string): Promise<void> {
  const all = s.chunks.flat();
  for (let i = 0; i < SAMPLE_ITEMS; i++) {
    const expected = all[Math.floor((i * all.length) / SAMPLE_ITEMS)]!.PutRequest!.Item!;
    const { Item } = await s.client.send(
      new GetItemCommand({
        TableName: table,
        Key: { partition: expected.partition!, offset: expected.offset! },
        ConsistentRead: true,
      }),
    );
    if (Item === undefined || !isDeepStrictEqual(unmarshall(Item), unmarshall(expected))) {
      throw new Error(
        `${side}: item ${JSON.stringify(unmarshall(expected).offset)} differs from the baseline's`,
      );
    }
  }
}

/** Exactly-once: each partition's offset item holds the offset after its last record. */
async function checkOffsetItems(s: Setup, connector: string, offsetsTable: string): Promise<void> {
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const { Item } = await s.client.send(
      new GetItemCommand({
        TableName: offsetsTable,
        Key: eosOffsetKey(connector, { topic: s.topic, partition }),
        ConsistentRead: true,
      }),
    );
    const offset = Item?.[EOS_OFFSET_ATTRIBUTE]?.N;
    if (offset !== String(RECORDS / PARTITIONS)) {
      throw new Error(`exactly-once: partition ${partition}'s offset item holds ${offset ?? 'nothing'}`);
    }
  }
}

async function withTable<T>(s: Setup, side: Side, run: (table: string) => Promise<T>): Promise<T> {
  const table = await createTable(s.client, { name: `bench-ddb-sink-${s.id()}`, keys: KEYS });
  try {
    const result = await run(table);
    await checkTable(side, s, table);
    if (side !== 'baseline' && side !== 'baseline, sequential') await checkSample(side, s, table);
    return result;
  } finally {
    await deleteTable(s.client, table, s.log);
  }
}

/** Exactly-once: a fresh `exactly.once.offsets.table` (pk/sk, as the quickstart makes it), deleted after. */
async function withOffsetsTable<T>(
  s: Setup,
  guarantee: Guarantee,
  run: (offsetsTable: string | undefined) => Promise<T>,
): Promise<T> {
  if (guarantee === 'at-least-once') return run(undefined);
  const name = `bench-ddb-sink-eos-${s.id()}`;
  await s.client.send(new CreateTableCommand(offsetsTableDefinition(name)));
  try {
    return await run(name);
  } finally {
    await deleteTable(s.client, name, s.log);
  }
}

function runOurs(s: Setup, guarantee: Guarantee, timer = plain): Promise<Run> {
  return withTable(s, SIDE_OF[guarantee], (table) =>
    withOffsetsTable(s, guarantee, (offsetsTable) =>
      runFunction(s, offsetsTable === undefined ? { table } : { table, offsetsTable }, timer),
    ),
  );
}

const PRIMING_ATTEMPTS = 3;

/**
 * One invocation with no time left: it opens the offsets session, assigns partitions and connects the
 * reader, and reads nothing. On this loaded machine it sometimes fails (the session not open by the hard
 * deadline, half the margin away); it is tried again, warmer.
 */
async function prime(s: Setup, fn: SinkFunction, functionName: string): Promise<void> {
  const margin = fn.connector.common['invocation.safety.margin.ms'];
  for (let attempt = 1; ; attempt++) {
    try {
      const primed = await fn.handler({ task: 0 }, localContext(functionName, margin));
      if (primed.records !== 0) throw new Error(`the priming invocation read ${primed.records} records`);
      return;
    } catch (err) {
      if (!(err instanceof InvocationFailedError) || attempt >= PRIMING_ATTEMPTS) throw err;
      s.log(`priming invocation failed (${err.message}); priming again`);
    }
  }
}

/** Builds a fresh function, primes it, then times one invocation that reads the whole topic. */
async function runFunction(s: Setup, tables: RunTables, timer: Timed): Promise<Run> {
  const id = s.id();
  const connector = `bench-ddb-sink-${id}`;
  const functionName = `connect-fn-${connector}`;
  const bundleDir = writeBundle(s, join(s.dir, id), connector, tables);
  const fn = createSinkFunction({ bundleDir, connector, env: SINK_ENV });
  try {
    await prime(s, fn, functionName);
    const run = await timed(timer, () =>
      fn.handler({ task: 0 }, localContext(functionName, SINK_TIMEOUT_MS)),
    );
    const summary = run.result;
    if (summary.records !== RECORDS || summary.bytes !== s.bytes || summary.stopReason !== 'idle') {
      throw new Error(`expected ${RECORDS} records (${s.bytes} B, idle), got ${JSON.stringify(summary)}`);
    }
    if (tables.offsetsTable !== undefined) await checkOffsetItems(s, connector, tables.offsetsTable);
    return { ms: run.ms, cpuMs: run.cpuMs, batches: summary.batches };
  } finally {
    await fn.close();
    rmSync(bundleDir, { recursive: true, force: true });
  }
}

function runBaseline(s: Setup, concurrency: number, timer = plain): Promise<Run> {
  const side: Side = concurrency === 1 ? 'baseline, sequential' : 'baseline';
  return withTable(s, side, async (table) => {
    const run = await timed(timer, () => batchWriteAll(s.client, table, s.chunks, concurrency));
    return { ms: run.ms, cpuMs: run.cpuMs, batches: run.result };
  });
}

function runSide(s: Setup, side: Side, timer = plain): Promise<Run> {
  if (side === 'ours') return runOurs(s, 'at-least-once', timer);
  if (side === 'ours, exactly-once') return runOurs(s, 'exactly-once', timer);
  return runBaseline(s, side === 'baseline' ? WRITE_CONCURRENCY : 1, timer);
}

/** Produces the datagen orders; returns them as the sink writes them, and their key + value bytes. */
async function prepare(
  kafka: Kafka,
  dir: string,
  brokers: string,
  topic: string,
): Promise<{ chunks: WriteRequest[][]; bytes: number }> {
  const sample = writeDatagenBundle({
    dir: join(dir, 'datagen'),
    brokers,
    connector: 'bench-ddb-sink-sample',
    topic,
    exactlyOnce: false,
    offsetsTopic: SINK_OFFSETS_TOPIC,
    maxRecords: RECORDS,
    recordBytes: RECORD_BYTES,
  });
  const records = await datagenRecords(sample, 'bench-ddb-sink-sample', RECORDS);
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (let i = 0; i < records.length; i += PRODUCE_BATCH) {
      const messages = records.slice(i, i + PRODUCE_BATCH).map((r, j) => ({
        partition: (i + j) % PARTITIONS,
        key: r.key === null ? null : Buffer.from(r.key),
        value: r.value === null ? null : Buffer.from(r.value),
      }));
      await producer.send({ topic, acks: -1, messages });
    }
  } finally {
    await producer.disconnect();
  }
  // The items, by the connector's own mapping: record i is offset floor(i / PARTITIONS) of its partition.
  const json = createConverter('json', { 'schemas.enable': false }, false);
  const mapping = itemMapping({ tableFormat: 'items', hash: 'partition', sort: 'offset', onNull: 'ignore' });
  const decoder = new TextDecoder();
  let bytes = 0;
  const requests = records.map((r, i) => {
    bytes += (r.key?.byteLength ?? 0) + (r.value?.byteLength ?? 0);
    const write = toItemWrite(
      {
        topic,
        kafkaPartition: i % PARTITIONS,
        kafkaOffset: Math.floor(i / PARTITIONS),
        timestamp: 0,
        key: r.key === null ? null : decoder.decode(r.key),
        value: json.toConnectData(topic, r.value),
        headers: [],
      },
      mapping,
    );
    if (write === undefined) throw new Error(`record ${i} has no item`);
    return write.request;
  });
  return { chunks: chunked(requests), bytes };
}

/** One more round, not counted, ours and the baseline under the profiler. */
async function profileRound(s: Setup, dir: string, log: (line: string) => void): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const profiles = new Map<string, CpuProfile>();
  const capture =
    (name: string): Timed =>
    async (region) => {
      const { result, profile } = await profiled(region);
      profiles.set(name, profile);
      log(`wrote ${writeProfile(dir, `${NAME}-${name}`, profile)}`);
      return result;
    };
  const ours = await runOurs(s, 'at-least-once', capture('ours'));
  const baseline = await runBaseline(s, WRITE_CONCURRENCY, capture('baseline'));
  const eos = await runOurs(s, 'exactly-once', capture('exactly-once'));
  log(
    `profiled: ours ${ours.ms.toFixed(0)} ms, baseline ${baseline.ms.toFixed(0)} ms, ` +
      `exactly-once ${eos.ms.toFixed(0)} ms (profiler on)`,
  );
  for (const line of compareProfiles(profiles)) log(line);
  log('ours: top functions by self time');
  for (const { fn, ms } of selfTimeByFunction(profiles.get('ours')!, 20)) {
    log(`${ms.toFixed(0).padStart(6)} ms  ${fn}`);
  }
}

function detail(s: Setup, runs: ReadonlyMap<Side, Run[]>): string[] {
  const head = ['side', 'wall p50', 'wall min', 'wall max', 'CPU p50', 'CPU/wall', 'batches/requests'];
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
  const wall = (side: Side) => median(runs.get(side)!.map((x) => x.ms));
  const paired = (side: Side, over: Side) =>
    median(runs.get(side)!.map((o, i) => runs.get(over)![i]!.ms / o.ms)).toFixed(3);
  return [
    `${RECORDS} records over ${PARTITIONS} partitions, ${(s.bytes / 1e6).toFixed(1)} MB of keys and values, ` +
      `${s.chunks.length} chunks of 25 per run; ms per run`,
    ...formatTable(head, cells),
    `throughput ratio ${(wall('baseline') / wall('ours')).toFixed(3)} (paired by round ${paired('ours', 'baseline')}), ` +
      `vs the sequential baseline ${(wall('baseline, sequential') / wall('ours')).toFixed(3)}`,
    `exactly-once / at-least-once ${(wall('ours') / wall('ours, exactly-once')).toFixed(3)} ` +
      `(paired by round ${paired('ours, exactly-once', 'ours')})`,
  ];
}

function rows(runs: ReadonlyMap<Side, Run[]>): ResultRow[] {
  const perSecond = (side: Side) => median(runs.get(side)!.map((r) => RECORDS / (r.ms / 1000)));
  const n = runs.get('ours')!.length;
  const baselineName = `SDK BatchWriteItem(25) loop, ${WRITE_CONCURRENCY} in flight, pre-marshalled`;
  return [
    compared(
      `${NAME}: at-least-once, records/s`,
      perSecond('ours'),
      'records/s',
      { name: baselineName, value: perSecond('baseline') },
      `${RECORDS} × ~${RECORD_BYTES} B JSON from ${PARTITIONS} partitions, fresh table per run, ` +
        `warm invocation, 500-record batches, offsets in Kafka; baseline = same items, same server, ` +
        `same concurrency as the sink's batch writer; median of ${n} runs`,
      TARGET,
    ),
    compared(
      `${NAME}: at-least-once vs sequential SDK loop`,
      perSecond('ours'),
      'records/s',
      { name: 'SDK BatchWriteItem(25) loop, 1 in flight', value: perSecond('baseline, sequential') },
      'context only: the bare loop without concurrency',
    ),
    compared(
      `${NAME}: exactly-once / at-least-once`,
      perSecond('ours, exactly-once'),
      'records/s',
      { name: 'the at-least-once sink (ours above)', value: perSecond('ours') },
      `the same function with delivery.guarantee=exactly-once (TransactWriteItems of up to 99 items + the ` +
        `partition's offset item, one partition's transactions in sequence), fresh ` +
        `exactly.once.offsets.table per run; no target: the issue asks for the figure; median of ${n} runs`,
    ),
  ];
}

export const dynamodbSinkThroughput: Benchmark = {
  name: NAME,
  defaultRuns: 3,
  async run({ runs, log, stack, profileDir }) {
    const running = await stack();
    const dir = mkdtempSync(join(tmpdir(), 'connect-fn-ddb-sink-bench-'));
    const kafka = benchKafka(running.kafkaBrokers, 'connect-fn-bench-ddb-sink');
    const topics = new BenchTopics(kafka);
    const client = benchDynamoClient(running.dynamodbEndpoint);
    try {
      let n = 0;
      const stamp = Date.now().toString(36);
      const id = () => `${stamp}-${n++}`;
      const topic = await topics.create(`bench-ddb-sink-${stamp}`, PARTITIONS);
      const { chunks, bytes } = await prepare(kafka, dir, running.kafkaBrokers, topic);
      const s: Setup = { stack: running, dir, topic, client, chunks, bytes, id, log };
      const measured = new Map<Side, Run[]>(SIDES.map((side) => [side, []]));
      for (let round = 0; round < WARM_UP_ROUNDS + runs; round++) {
        const order = SIDES.map((_, i) => SIDES[(i + round) % SIDES.length]!);
        const line: string[] = [];
        for (const side of order) {
          const run = await runSide(s, side);
          line.push(`${side} ${run.ms.toFixed(0)} ms`);
          if (round >= WARM_UP_ROUNDS) measured.get(side)!.push(run);
        }
        log(
          `${round < WARM_UP_ROUNDS ? 'warm-up' : `run ${round - WARM_UP_ROUNDS + 1}`}: ${line.join(', ')}`,
        );
      }
      if (profileDir !== undefined) await profileRound(s, profileDir, log);
      for (const l of detail(s, measured)) log(l);
      return rows(measured);
    } finally {
      client.destroy();
      await topics.deleteAll(log);
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

await runIfMain(import.meta.filename, dynamodbSinkThroughput);
