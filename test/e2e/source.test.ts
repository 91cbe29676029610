/**
 * A source connector's package under the Lambda runtime emulator, invoked with its EventBridge Scheduler
 * input `{"task": N}`: the summary is the function's return value, the records are in the topic, the
 * offsets are committed (Kafka's connect-offsets format, or the DynamoDB offsets table), and the next
 * invocation resumes from them. Also prints the cold-start figures the bench reports.
 */
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { createKafkaClients } from '../../src/kafka/index.ts';
import { ensureOffsetsTable } from '../../src/offsets/index.ts';
import { localAws, stackEnv } from '../stack/env.ts';
import { writeBundle } from '../support/bundle-fixture.ts';
import { kafkaWorker } from '../unit/kafka/worker-values.ts';
import { reportColdStart, runPackaged, unique } from './support/e2e-fixture.ts';
import type { Invocation } from './support/lambda-emulator.ts';

const WORKER =
  'bootstrap.servers=${env:KAFKA_BROKERS}\nkey.converter=string\nvalue.converter=json\nvalue.converter.schemas.enable=false\n';

/** Every record of `topic` (all partitions, read_committed): key and value as text. */
async function readTopic(topic: string): Promise<{ key: string | null; value: string | null }[]> {
  const clients = createKafkaClients(kafkaWorker(stackEnv().kafkaBrokers));
  const admin = clients.topicAdmin();
  const reader = clients.partitionReader();
  const text = (bytes: Uint8Array | null) => (bytes === null ? null : Buffer.from(bytes).toString('utf8'));
  try {
    const partitions = [...Array(await admin.partitionCount(topic)).keys()];
    const ends = await reader.endOffsets(topic, partitions);
    const out: { key: string | null; value: string | null }[] = [];
    for (const partition of partitions) {
      const untilOffset = ends.get(partition) ?? 0;
      const read = { topic, partition, fromOffset: 0, untilOffset, deadlineMs: Date.now() + 30_000 };
      for await (const batch of reader.read(read)) {
        for (const r of batch) out.push({ key: text(r.key), value: text(r.value) });
      }
    }
    return out;
  } finally {
    await Promise.allSettled([admin.close(), reader.close()]);
  }
}

/** The datagen sequence numbers in `topic`, sorted. */
async function sequences(topic: string): Promise<number[]> {
  const values = (await readTopic(topic)).map((r) => JSON.parse(r.value ?? 'null') as { sequence: number });
  return values.map((v) => v.sequence).sort((a, b) => a - b);
}

/** What a successful invocation returned (and fails the test with the body when it did not succeed). */
function summaryOf(invocation: Invocation): Record<string, unknown> {
  const body = JSON.stringify(invocation.body);
  expect(invocation, body).toMatchObject({ status: 200 });
  expect(invocation.body, body).not.toHaveProperty('errorType');
  return invocation.body as Record<string, unknown>;
}

describe('scheduled source, packaged, under the Lambda runtime emulator', () => {
  it('datagen exactly-once: returns its summary, delivers to the topic, resumes from the committed offset', async () => {
    // Prepare
    const id = unique();
    const name = `gen-${id}`;
    const topic = `orders-${id}`;
    const dir = writeBundle({
      'worker.properties': `${WORKER}offset.storage.topic=offsets-${id}\noffset.storage.replication.factor=1\nexactly.once.source.support=enabled\n`,
      'connectors/gen.properties': `name=${name}\nconnector.class=datagen\nkafka.topic=${topic}\niterations=300\nbatch.size=100\ninvocation.max.records=200\n`,
    });
    const fn = await runPackaged(dir, name);
    // Act: the cold invocation, the one that finishes the work, and one with nothing left (warm)
    const first = await fn.invoke({ task: 0 });
    const second = await fn.invoke({ task: 0 });
    const third = await fn.invoke({ task: 0 });
    // Assess: the summaries are what the function returned, and the topic holds each record once
    const committed = (sequence: number) => [{ partition: { task: 0 }, offset: { sequence } }];
    expect(summaryOf(first)).toMatchObject({
      connector: name,
      task: 0,
      kind: 'source',
      records: 200,
      stopReason: 'max-records',
      committed: committed(200),
    });
    expect(summaryOf(second)).toMatchObject({ records: 100, stopReason: 'idle', committed: committed(300) });
    expect(summaryOf(third)).toMatchObject({ records: 0, stopReason: 'idle' });
    expect(await sequences(topic)).toEqual([...Array(300).keys()]);
    const offsets = await readTopic(`offsets-${id}`);
    expect(offsets.at(-1)).toEqual({ key: `["${name}",{"task":0}]`, value: '{"sequence":300}' });
    // The function's own JSON log lines carry the invocation's id
    const requestIds = fn.jsonLogs().map((l) => l.invocationId);
    expect(requestIds).toContain(first.report?.requestId);
    reportColdStart('datagen exactly-once', first, third, fn.runtimeInitMs());
  });

  it('datagen at-least-once with offsets in DynamoDB Local: Connect-shaped offsets in the table', async () => {
    // Prepare: the table exists, as the infrastructure creates it (a deployed function never does)
    const id = unique();
    const name = `gen-${id}`;
    const table = `offsets-${id}`;
    const client = new DynamoDBClient({ ...localAws, endpoint: stackEnv().dynamodbEndpoint });
    await ensureOffsetsTable(client, table);
    const dir = writeBundle({
      'worker.properties': `${WORKER}offset.storage=dynamodb\noffset.storage.table=${table}\ndynamodb.endpoint=\${env:DYNAMODB_ENDPOINT}\n`,
      'connectors/gen.properties': `name=${name}\nconnector.class=datagen\nkafka.topic=users-${id}\nquickstart=users\niterations=300\ninvocation.max.records=200\n`,
    });
    const fn = await runPackaged(dir, name);
    // Act
    const first = await fn.invoke({ task: 0 });
    const second = await fn.invoke({ task: 0 });
    // Assess
    expect(summaryOf(first)).toMatchObject({ records: 200, stopReason: 'max-records' });
    expect(summaryOf(second)).toMatchObject({ records: 100, stopReason: 'idle' });
    const items = (await client.send(new ScanCommand({ TableName: table }))).Items ?? [];
    client.destroy();
    expect(items.find((i) => i.sk?.S === '{"task":0}')).toMatchObject({
      pk: { S: name },
      offset: { S: '{"sequence":300}' },
    });
    expect(await readTopic(`users-${id}`)).toHaveLength(300);
  });

  it('stops at the function timeout the emulator gives it (getRemainingTimeInMillis), returning its summary', async () => {
    // Prepare: an endless source; only the deadline (timeout 6 s less the 3 s margin) can stop it
    const id = unique();
    const name = `endless-${id}`;
    const dir = writeBundle({
      'worker.properties': `${WORKER}offset.storage.topic=offsets-${id}\noffset.storage.replication.factor=1\n`,
      'connectors/gen.properties': `name=${name}\nconnector.class=datagen\nkafka.topic=endless-${id}\ninvocation.timeout.ms=6000\ninvocation.safety.margin.ms=3000\ninvocation.max.records=1000000000\ninvocation.max.bytes=100000000000\n`,
    });
    const fn = await runPackaged(dir, name);
    // Act
    const invocation = await fn.invoke({ task: 0 });
    // Assess: a summary (not "Task timed out"), ended by the deadline, its records committed
    const summary = summaryOf(invocation);
    expect(summary).toMatchObject({ stopReason: 'deadline' });
    expect(summary.records).toBeGreaterThan(0);
    expect(await readTopic(`endless-${id}`)).toHaveLength(summary.records as number);
  });
});
