/**
 * The sink function end to end, as a user runs it: a bundle with the FileStreamSink, records produced to
 * the real broker, the scheduled handler (group-less reads, offsets in Connect's consumer group
 * `connect-<name>` or in DynamoDB Local) and the triggered handler (Kafka events built from records read
 * back from the broker).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { InvocationFailedError } from '../../src/app/function-common.ts';
import { createSinkFunction, type SinkFunction } from '../../src/app/sink-function.ts';
import { createKafkaClients, type KafkaClients } from '../../src/kafka/index.ts';
import { localContext } from '../../src/lambda/lambda-context.ts';
import type { FetchedRecord, KafkaRecord } from '../../src/runtime/ports.ts';
import { localAws, stackEnv } from '../stack/env.ts';
import { writeBundle } from '../support/bundle-fixture.ts';
import { whileCoordinatorMoves } from '../support/coordinator-retry.ts';
import { kafkaEventFrom } from '../support/kafka-events.ts';
import { kafkaWorker } from '../unit/kafka/worker-values.ts';
import { freshTopic, inSeconds, rawAdmin, readAll, record } from './kafka/support.ts';

const opened: SinkFunction[] = [];
afterEach(async () => {
  for (const fn of opened.splice(0)) await fn.close();
});

let admin: Admin;
let clients: KafkaClients;
beforeAll(async () => {
  admin = await rawAdmin();
  clients = createKafkaClients(kafkaWorker(stackEnv().kafkaBrokers));
});
afterAll(async () => {
  await admin?.disconnect();
});

const unique = () => Math.random().toString(36).slice(2, 8);

function env() {
  const s = stackEnv();
  return {
    ...process.env,
    KAFKA_BROKERS: s.kafkaBrokers,
    DYNAMODB_ENDPOINT: s.dynamodbEndpoint,
    LOG_LEVEL: 'error',
  };
}

function open(bundleDir: string, connector: string): SinkFunction {
  const fn = createSinkFunction({
    bundleDir,
    connector,
    env: env(),
    logSink: () => {},
    createOffsetsTable: true,
  });
  opened.push(fn);
  return fn;
}

const invoke = (fn: SinkFunction, task = 0, timeoutMs = 30_000) =>
  fn.handler({ task }, localContext('test', timeoutMs));

/** Sends `records` with the project's idempotent writer; resolves once all are acknowledged. */
async function produce(records: readonly KafkaRecord[]): Promise<void> {
  const writer = clients.recordWriter();
  try {
    await writer.send(records);
  } finally {
    await writer.close();
  }
}

/** `count` records per partition, values `<label><partition>-<i>` (i from `from`), partitions in turn. */
function values(partitions: number, count: number, label = 'p', from = 0): string[][] {
  return Array.from({ length: partitions }, (_, p) =>
    Array.from({ length: count }, (_, i) => `${label}${p}-${from + i}`),
  );
}

/** The records of `byPartition` (partition → values), interleaved across partitions. */
function recordsOf(topic: string, byPartition: readonly (readonly string[])[]): KafkaRecord[] {
  const out: KafkaRecord[] = [];
  const longest = Math.max(...byPartition.map((v) => v.length));
  for (let i = 0; i < longest; i++) {
    byPartition.forEach((vs, p) => {
      const value = vs[i];
      if (value !== undefined) out.push(record(topic, value, p));
    });
  }
  return out;
}

/** The lines of the sink's output file (none when it does not exist). */
function lines(file: string): string[] {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  return text === '' ? [] : text.replace(/\n$/, '').split('\n');
}

/** The lines that start with `prefix`, in file order. */
const linesOf = (all: readonly string[], prefix: string) => all.filter((l) => l.startsWith(prefix));

/** The committed offsets of group `connect-<connector>` for `topic`, by partition (-1: none), as kafkajs reads them. */
async function groupOffsets(connector: string, topic: string): Promise<number[]> {
  const [fetched] = await whileCoordinatorMoves(() =>
    admin.fetchOffsets({ groupId: `connect-${connector}`, topics: [topic] }),
  );
  return (fetched?.partitions ?? []).sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset));
}

/** Waits until the group shows `expected`: a transactional commit is visible once its marker is written. */
async function expectGroupOffsets(connector: string, topic: string, expected: number[]): Promise<void> {
  await vi.waitFor(async () => expect(await groupOffsets(connector, topic)).toEqual(expected), {
    timeout: 10_000,
    interval: 20,
  });
}

/** The high watermark of each partition of `topic`, by partition. */
async function endOffsets(topic: string): Promise<number[]> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.sort((a, b) => a.partition - b.partition).map((p) => Number(p.high));
}

/** Every record of `topic`'s partitions, read back with the group-less reader. */
async function readBack(topic: string, partitions: readonly number[]): Promise<FetchedRecord[]> {
  const reader = clients.partitionReader();
  try {
    const out: FetchedRecord[] = [];
    for (const partition of partitions) {
      const request = { topic, partition, fromOffset: 0, deadlineMs: inSeconds(10) };
      out.push(...(await readAll(reader, request)).flat());
    }
    return out;
  } finally {
    await reader.close();
  }
}

const KAFKA_WORKER = 'bootstrap.servers=${env:KAFKA_BROKERS}\noffset.storage=kafka\n';
const STRING_WORKER = `${KAFKA_WORKER}key.converter=org.apache.kafka.connect.storage.StringConverter\nvalue.converter=org.apache.kafka.connect.storage.StringConverter\n`;
const JSON_WORKER = `${KAFKA_WORKER}key.converter=org.apache.kafka.connect.storage.StringConverter\nvalue.converter=org.apache.kafka.connect.json.JsonConverter\nvalue.converter.schemas.enable=false\n`;

/** A bundle with one FileStreamSink `name` of `topics` writing `out.txt`; returns the bundle and the file. */
function sinkBundle(name: string, topics: string, worker = STRING_WORKER, extra = '') {
  const dir = writeBundle({
    'worker.properties': worker,
    'connectors/sink.properties': `name=${name}\nconnector.class=org.apache.kafka.connect.file.FileStreamSinkConnector\nfile=out.txt\ntopics=${topics}\n${extra}`,
  });
  return { dir, file: join(dir, 'out.txt') };
}

describe('scheduled sink function, offsets in Kafka Connect’s consumer group', () => {
  it('delivers every record once, commits the end offsets to connect-<name> without joining it, then resumes', async () => {
    // Prepare: 1,000 records over 2 partitions
    const topic = await freshTopic(admin, 'sink-orders', 2);
    const name = `sink-${unique()}`;
    const produced = values(2, 500);
    await produce(recordsOf(topic, produced));
    const { dir, file } = sinkBundle(name, topic);
    const fn = open(dir, name);
    // Act
    const first = await invoke(fn);
    // Assess: every value exactly once, each partition in order
    expect(first).toMatchObject({
      connector: name,
      task: 0,
      kind: 'sink',
      records: 1000,
      stopReason: 'idle',
    });
    const written = lines(file);
    expect(written).toHaveLength(1000);
    expect(linesOf(written, 'p0-')).toEqual(produced[0]);
    expect(linesOf(written, 'p1-')).toEqual(produced[1]);
    expect(first.committed).toHaveLength(2);
    expect(first.committed).toEqual(
      expect.arrayContaining(
        [0, 1].map((p) => ({
          partition: { kafka_topic: topic, kafka_partition: p },
          offset: { kafka_offset: 500 },
        })),
      ),
    );
    expect(await endOffsets(topic)).toEqual([500, 500]);
    await expectGroupOffsets(name, topic, [500, 500]);
    const { groups } = await admin.describeGroups([`connect-${name}`]);
    expect(groups[0]).toMatchObject({ members: [], state: 'Empty', protocolType: '' }); // never joined

    // Act: nothing new, then 20 records more
    const second = await invoke(fn);
    const more = values(2, 10, 'p', 500);
    await produce(recordsOf(topic, more));
    const third = await invoke(fn);
    // Assess
    expect(second).toMatchObject({ records: 0, stopReason: 'idle', committed: [] });
    expect(third).toMatchObject({ records: 20, stopReason: 'idle' });
    const after = lines(file);
    expect(after.slice(0, 1000)).toEqual(written);
    expect(linesOf(after.slice(1000), 'p0-')).toEqual(more[0]);
    expect(linesOf(after.slice(1000), 'p1-')).toEqual(more[1]);
    expect(after).toHaveLength(1020);
    await expectGroupOffsets(name, topic, [510, 510]);
  });

  it('a sink moved from Kafka Connect starts at the offsets Connect committed, and Connect resumes after ours', async () => {
    // Prepare: Connect's group `connect-<name>` has committed offsets 20 and 35 (then the connector was stopped)
    const topic = await freshTopic(admin, 'sink-migrate', 2);
    const name = `migrate-${unique()}`;
    const produced = values(2, 50);
    await produce(recordsOf(topic, produced));
    // (kafkajs' setOffsets joins the empty group for a moment to seek: the slow part of this test, ~8 s)
    await admin.setOffsets({
      groupId: `connect-${name}`,
      topic,
      partitions: [
        { partition: 0, offset: '20' },
        { partition: 1, offset: '35' },
      ],
    });
    const { dir, file } = sinkBundle(name, topic);
    const fn = open(dir, name);
    // Act
    const summary = await invoke(fn);
    // Assess: exactly from Connect's offsets
    expect(summary).toMatchObject({ records: 30 + 15, stopReason: 'idle' });
    expect(linesOf(lines(file), 'p0-')).toEqual(produced[0]?.slice(20));
    expect(linesOf(lines(file), 'p1-')).toEqual(produced[1]?.slice(35));
    await expectGroupOffsets(name, topic, [50, 50]);

    // Act: the connector goes back to Connect — a consumer of the group — while new records arrive
    await produce(recordsOf(topic, values(2, 5, 'p', 50)));
    const kafka = new Kafka({
      clientId: 'connect-worker',
      brokers: stackEnv().kafkaBrokers.split(','),
      logLevel: logLevel.NOTHING,
    });
    // A short fetch wait: disconnect waits for the fetch in flight (5 s by default)
    const consumer = kafka.consumer({ groupId: `connect-${name}`, maxWaitTimeInMs: 100 });
    const seen: [number, number][] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          seen.push([partition, Number(message.offset)]);
        },
      });
      await vi.waitFor(() => expect(seen).toHaveLength(10), { timeout: 30_000, interval: 50 });
    } finally {
      await consumer.disconnect();
    }
    // Assess: it starts right after what the function delivered (fromBeginning would start at 0)
    const offsetsOf = (p: number) => seen.filter(([partition]) => partition === p).map(([, o]) => o);
    expect(offsetsOf(0)).toEqual([50, 51, 52, 53, 54]);
    expect(offsetsOf(1)).toEqual([50, 51, 52, 53, 54]);

    // And back again: the function continues from what Connect's consumer committed
    await expectGroupOffsets(name, topic, [55, 55]);
    await produce([record(topic, 'p0-55', 0)]);
    expect(await invoke(fn)).toMatchObject({ records: 1, stopReason: 'idle' });
    expect(lines(file).slice(-1)).toEqual(['p0-55']);
  });

  it('consumer.auto.offset.reset=latest: a first invocation skips what was there, the next delivers what came after', async () => {
    // Prepare
    const topic = await freshTopic(admin, 'sink-latest', 2);
    const name = `latest-${unique()}`;
    await produce(recordsOf(topic, values(2, 10, 'old')));
    const { dir, file } = sinkBundle(name, topic, `${STRING_WORKER}consumer.auto.offset.reset=latest\n`);
    const fn = open(dir, name);
    // Act
    const first = await invoke(fn);
    await expectGroupOffsets(name, topic, [10, 10]); // the start at latest is kept for the next invocation
    const fresh = values(2, 3, 'new');
    await produce(recordsOf(topic, fresh));
    const second = await invoke(fn);
    // Assess
    expect(first).toMatchObject({ records: 0, stopReason: 'idle' });
    expect(second).toMatchObject({ records: 6, stopReason: 'idle' });
    const written = lines(file);
    expect(linesOf(written, 'new0-')).toEqual(fresh[0]);
    expect(linesOf(written, 'new1-')).toEqual(fresh[1]);
    expect(written).toHaveLength(6);
    await expectGroupOffsets(name, topic, [13, 13]);
  });

  it('invocation.max.records=300: stops at the budget with offsets covering exactly what is in the file, and continues', async () => {
    // Prepare
    const topic = await freshTopic(admin, 'sink-budget', 2);
    const name = `budget-${unique()}`;
    const produced = values(2, 500);
    await produce(recordsOf(topic, produced));
    const { dir, file } = sinkBundle(name, topic, STRING_WORKER, 'invocation.max.records=300\n');
    const fn = open(dir, name);
    /** Each partition's lines in the file are exactly its records below its committed offset. */
    const expectFileMatchesOffsets = async (expectedTotal: number) => {
      const committed = (await groupOffsets(name, topic)).map((o) => Math.max(o, 0));
      const written = lines(file);
      expect(linesOf(written, 'p0-')).toEqual(produced[0]?.slice(0, committed[0]));
      expect(linesOf(written, 'p1-')).toEqual(produced[1]?.slice(0, committed[1]));
      expect(written).toHaveLength(expectedTotal);
    };
    // Act / Assess: 300 + 300 + 300 + 100 records, then idle
    const summaries = [];
    for (const total of [300, 600, 900]) {
      const summary = await invoke(fn);
      summaries.push(summary);
      expect(summary).toMatchObject({ records: 300, stopReason: 'max-records' });
      await vi.waitFor(() => expectFileMatchesOffsets(total), { timeout: 10_000, interval: 20 });
    }
    expect(await invoke(fn)).toMatchObject({ records: 100, stopReason: 'idle' });
    expect(await invoke(fn)).toMatchObject({ records: 0, stopReason: 'idle' });
    await expectGroupOffsets(name, topic, [500, 500]);
    await expectFileMatchesOffsets(1000);
  });
});

describe('scheduled sink function, offsets in DynamoDB', () => {
  it('tasks.max=2: each task delivers only its partitions (round robin over sorted topic-partitions)', async () => {
    // Prepare: topics "…-a-…" (3 partitions) and "…-b-…" (2), listed b first; sorted they are
    // a-0 a-1 a-2 b-0 b-1, so task 0 has a-0, a-2, b-1 and task 1 has a-1, b-0
    const id = unique();
    const topicA = await freshTopic(admin, `sink-${id}-a`, 3);
    const topicB = await freshTopic(admin, `sink-${id}-b`, 2);
    const name = `tasks-${id}`;
    const table = `sink-offsets-${id}`;
    const a = values(3, 4, 'a');
    const b = values(2, 6, 'b');
    await produce([...recordsOf(topicA, a), ...recordsOf(topicB, b)]);
    const worker = `${STRING_WORKER.replace('offset.storage=kafka', 'offset.storage=dynamodb')}offset.storage.table=${table}\ndynamodb.endpoint=\${env:DYNAMODB_ENDPOINT}\naws.region=us-east-1\n`;
    const { dir, file } = sinkBundle(name, `${topicB},${topicA}`, worker, 'tasks.max=2\n');
    const fn = open(dir, name);
    // Act
    const task0 = await invoke(fn, 0);
    const afterTask0 = lines(file);
    const task1 = await invoke(fn, 1);
    const afterTask1 = lines(file).slice(afterTask0.length);
    // Assess
    expect(task0).toMatchObject({ task: 0, records: 4 + 4 + 6, stopReason: 'idle' });
    expect(task1).toMatchObject({ task: 1, records: 4 + 6, stopReason: 'idle' });
    expect([...afterTask0].sort()).toEqual([...(a[0] ?? []), ...(a[2] ?? []), ...(b[1] ?? [])].sort());
    expect(linesOf(afterTask0, 'a0-')).toEqual(a[0]);
    expect(linesOf(afterTask0, 'a2-')).toEqual(a[2]);
    expect(linesOf(afterTask0, 'b1-')).toEqual(b[1]);
    expect([...afterTask1].sort()).toEqual([...(a[1] ?? []), ...(b[0] ?? [])].sort());
    expect(linesOf(afterTask1, 'a1-')).toEqual(a[1]);
    expect(linesOf(afterTask1, 'b0-')).toEqual(b[0]);
    const client = new DynamoDBClient({ ...localAws, endpoint: stackEnv().dynamodbEndpoint });
    try {
      const { Items = [] } = await client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: name } },
          ConsistentRead: true,
        }),
      );
      const offsets = Items.filter((item) => !item.sk?.S?.startsWith('#lease#'))
        .map((item) => [item.sk?.S, item.offset?.S])
        .sort();
      const item = (topic: string, partition: number, offset: number) => [
        `{"kafka_topic":"${topic}","kafka_partition":${partition}}`,
        `{"kafka_offset":${offset}}`,
      ];
      expect(offsets).toEqual(
        [
          item(topicA, 0, 4),
          item(topicA, 1, 4),
          item(topicA, 2, 4),
          item(topicB, 0, 6),
          item(topicB, 1, 6),
        ].sort(),
      );
      expect(
        Items.filter((i) => i.sk?.S?.startsWith('#lease#'))
          .map((i) => i.sk?.S)
          .sort(),
      ).toEqual(['#lease#0', '#lease#1']);
    } finally {
      client.destroy();
    }
    // The next invocations resume from the stored offsets: nothing new
    expect(await invoke(fn, 0)).toMatchObject({ records: 0, stopReason: 'idle' });
    expect(await invoke(fn, 1)).toMatchObject({ records: 0, stopReason: 'idle' });
  });
});

describe('triggered sink function (Kafka event source mapping)', () => {
  it('delivers an MSK event and a self-managed event in order and reports no failures', async () => {
    // Prepare
    const topic = await freshTopic(admin, 'sink-trigger', 2);
    const name = `trigger-${unique()}`;
    const produced = values(2, 30);
    await produce(recordsOf(topic, produced));
    const read = await readBack(topic, [0, 1]);
    expect(read).toHaveLength(60);
    const { dir, file } = sinkBundle(name, topic, STRING_WORKER, 'trigger=kafka\n');
    const fn = open(dir, name);
    const inOrder = [...(produced[0] ?? []), ...(produced[1] ?? [])];
    for (const [n, source] of (['aws:kafka', 'SelfManagedKafka'] as const).entries()) {
      const event = JSON.parse(
        JSON.stringify(kafkaEventFrom(read, source, { bootstrapServers: stackEnv().kafkaBrokers })),
      );
      // Act
      const response = await fn.triggerHandler(event, localContext('test', 30_000));
      // Assess: partitions in turn, each in offset order
      expect(response).toEqual({ batchItemFailures: [] });
      expect(lines(file)).toEqual(Array.from({ length: n + 1 }, () => inOrder).flat());
    }
  });

  it('names exactly the record that is not JSON; the records before it and other partitions are delivered', async () => {
    // Prepare: partition 0 offset 4 is not JSON
    const topic = await freshTopic(admin, 'sink-trigger-bad', 2);
    const name = `trigger-bad-${unique()}`;
    const json = (p: number, i: number) => JSON.stringify({ p, i });
    const p0 = [0, 1, 2, 3].map((i) => json(0, i));
    const p1 = [0, 1, 2, 3, 4, 5, 6].map((i) => json(1, i));
    await produce(recordsOf(topic, [[...p0, '{"p":0,"i":4', json(0, 5), json(0, 6)], p1]));
    const read = await readBack(topic, [0, 1]);
    const { dir, file } = sinkBundle(name, topic, JSON_WORKER, 'trigger=kafka\n');
    const fn = open(dir, name);
    const event = JSON.parse(JSON.stringify(kafkaEventFrom(read, 'aws:kafka')));
    // Act
    const response = await fn.triggerHandler(event, localContext('test', 30_000));
    // Assess
    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: { partition: `${topic}-0`, offset: 4 } }],
    });
    expect(lines(file)).toEqual([...p0, ...p1]);
  });

  it('refuses an event that holds a topic outside topics: the invocation fails naming it, nothing is written', async () => {
    // Prepare: the mapping delivers the connector's topic and a foreign one (a misconfigured mapping)
    const topic = await freshTopic(admin, 'sink-trigger-own', 1);
    const foreign = await freshTopic(admin, 'sink-trigger-foreign', 1);
    const name = `trigger-foreign-${unique()}`;
    await produce([...recordsOf(topic, [['own-0', 'own-1']]), ...recordsOf(foreign, [['alien-0']])]);
    const read = [...(await readBack(topic, [0])), ...(await readBack(foreign, [0]))];
    const { dir, file } = sinkBundle(name, topic, STRING_WORKER, 'trigger=kafka\n');
    const fn = open(dir, name);
    for (const source of ['aws:kafka', 'SelfManagedKafka'] as const) {
      const event = JSON.parse(JSON.stringify(kafkaEventFrom(read, source)));
      // Act
      const failure = await fn.triggerHandler(event, localContext('test', 30_000)).then(
        () => undefined,
        (err: unknown) => err,
      );
      // Assess: a failed invocation (the mapping retries the batch and commits nothing), naming the topic
      expect(failure).toBeInstanceOf(InvocationFailedError);
      const { summary } = failure as InvocationFailedError;
      expect(summary).toMatchObject({
        records: 0,
        committed: [],
        stopReason: 'error',
        error: { code: 'CONNECT_FN_TOPIC_NOT_SUBSCRIBED', retriable: false },
      });
      expect(summary.error?.message).toContain(`"${foreign}"`);
      expect(summary.error?.message).toContain(`(topics=${topic})`);
      expect((failure as InvocationFailedError).retriable).toBe(false);
      // Not even the connector's own records of the event were written
      expect(lines(file)).toEqual([]);
    }
  });

  it('fails the invocation when the file cannot be opened: a target failure, not the partitions’ records', async () => {
    // Prepare: the sink's file is in a directory that does not exist
    const topic = await freshTopic(admin, 'sink-trigger-nofile', 2);
    const name = `trigger-nofile-${unique()}`;
    await produce(recordsOf(topic, values(2, 3)));
    const read = await readBack(topic, [0, 1]);
    const dir = writeBundle({
      'worker.properties': STRING_WORKER,
      'connectors/sink.properties': `name=${name}\nconnector.class=FileStreamSink\nfile=no-such-dir/out.txt\ntopics=${topic}\ntrigger=kafka\n`,
    });
    const fn = open(dir, name);
    const event = JSON.parse(JSON.stringify(kafkaEventFrom(read, 'SelfManagedKafka')));
    // Act
    const failure = await fn.triggerHandler(event, localContext('test', 30_000)).then(
      () => undefined,
      (err: unknown) => err,
    );
    // Assess
    expect(failure).toBeInstanceOf(InvocationFailedError);
    expect((failure as InvocationFailedError).summary).toMatchObject({
      records: 0,
      committed: [],
      error: { code: 'CONNECT_FN_SINK_TARGET', retriable: false, stage: 'TASK_START' },
    });
    expect((failure as InvocationFailedError).summary.error?.message).toContain('no-such-dir');
  });

  it('answers at the hard deadline when the sink never gets its file open: every partition retried from its first record', async () => {
    // Prepare: the sink's file is a FIFO nobody reads, so opening it for appending blocks (I/O that
    // ignores every deadline); the invocation has 8 s, its safety margin 2 s (hard deadline 1 s before).
    const topic = await freshTopic(admin, 'sink-trigger-hang', 2);
    const name = `trigger-hang-${unique()}`;
    await produce(recordsOf(topic, values(2, 3)));
    const read = await readBack(topic, [0, 1]);
    const { dir, file } = sinkBundle(
      name,
      topic,
      STRING_WORKER,
      'trigger=kafka\ninvocation.safety.margin.ms=2000\n',
    );
    execFileSync('mkfifo', [file]);
    const fn = open(dir, name);
    const event = JSON.parse(JSON.stringify(kafkaEventFrom(read, 'aws:kafka')));
    try {
      // Act
      const answer = await fn.triggerHandler(event, localContext('test', 8_000)).catch((err: unknown) => err);
      // Assess: an answer, not Lambda's timeout (CONNECT_FN_INVOCATION_TIMED_OUT), retrying everything
      expect(answer).toEqual({
        batchItemFailures: [
          { itemIdentifier: { partition: `${topic}-0`, offset: 0 } },
          { itemIdentifier: { partition: `${topic}-1`, offset: 0 } },
        ],
      });
    } finally {
      // A reader for the FIFO releases the abandoned open (and the thread it holds).
      closeSync(openSync(file, constants.O_RDONLY | constants.O_NONBLOCK));
    }
  });
});
