/**
 * The dynamodb-streams source against the real DynamoDB Local stream: every change once, in order per
 * key, with the documented shape; resuming from a committed offset; and through the source cycle
 * (exactly-once into the fake Kafka, offsets in Connect's format).
 */
import {
  CreateTableCommand,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { afterAll, describe, expect, it } from 'vitest';
import { dynamoDbStreamsConnector } from '../../../src/connectors/dynamodb-streams/source-connector.ts';
import { sdkStreamsApi } from '../../../src/connectors/dynamodb-streams/stream-api.ts';
import { systemClock } from '../../../src/runtime/retry.ts';
import { runSourceCycle } from '../../../src/runtime/source-cycle.ts';
import type { SourceRecord } from '../../../src/spi/records.ts';
import type { TaskConfig } from '../../../src/spi/source.ts';
import { localAws, stackEnv } from '../../stack/env.ts';
import { converters } from '../../support/counting-task.ts';
import { FakeKafka, kafkaOffsets } from '../../support/fake-kafka.ts';
import { invoke, MemoryOffsets } from '../../unit/connectors/task-harness.ts';

const config = () => ({ ...localAws, endpoint: stackEnv().dynamodbEndpoint });
const clients: { dynamodb: DynamoDBClient; streams: DynamoDBStreamsClient }[] = [];
afterAll(() => {
  for (const c of clients.splice(0)) {
    c.dynamodb.destroy();
    c.streams.destroy();
  }
});

function open() {
  const c = { dynamodb: new DynamoDBClient(config()), streams: new DynamoDBStreamsClient(config()) };
  clients.push(c);
  return c;
}

const unique = () => Math.random().toString(36).slice(2, 8);

async function createTable(db: DynamoDBClient): Promise<string> {
  const table = `cdc-${unique()}`;
  await db.send(
    new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'N' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  return table;
}

/** Applies the changes and returns what each item's change history must look like: `pk:event:qty`. */
async function writeChanges(
  db: DynamoDBClient,
  table: string,
  items: number,
  round: number,
): Promise<string[]> {
  const expected: string[] = [];
  for (let i = 0; i < items; i++) {
    const pk = `item-${round}-${i}`;
    const Key = { pk: { S: pk }, sk: { N: String(i) } };
    await db.send(
      new PutItemCommand({
        TableName: table,
        Item: { ...Key, qty: { N: '1' }, blob: { B: new Uint8Array([i, 255]) }, tags: { SS: ['x'] } },
      }),
    );
    await db.send(
      new UpdateItemCommand({
        TableName: table,
        Key,
        UpdateExpression: 'SET qty = :q',
        ExpressionAttributeValues: { ':q': { N: '2' } },
      }),
    );
    expected.push(`${pk}:INSERT:1`, `${pk}:MODIFY:2`);
    if (i % 2 === 0) {
      await db.send(new DeleteItemCommand({ TableName: table, Key }));
      expected.push(`${pk}:REMOVE:-`);
    }
  }
  return expected;
}

interface ChangeValue {
  eventName: string;
  keys: { pk: string; sk: number };
  newImage: { qty: number; blob: string; tags: string[] } | null;
  oldImage: { qty: number } | null;
  sequenceNumber: string;
  approximateCreationTime: number;
}

const history = (records: readonly SourceRecord[]) =>
  records.map((r) => {
    const v = r.value as ChangeValue;
    return `${v.keys.pk}:${v.eventName}:${v.newImage?.qty ?? '-'}`;
  });

/** Changes grouped by item, each in arrival order. */
function perKey(lines: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of lines) {
    const pk = line.split(':')[0]!;
    out.set(pk, [...(out.get(pk) ?? []), line]);
  }
  return out;
}

function connectorFor(table: string, extra: Record<string, unknown> = {}) {
  const { dynamodb, streams } = open();
  const connector = dynamoDbStreamsConnector({ api: () => sdkStreamsApi({ dynamodb, streams }) });
  const base: TaskConfig = {
    'dynamodb.table': table,
    'topic.format': 'cdc.${table}',
    'dynamodb.stream.position': 'TRIM_HORIZON',
    'dynamodb.stream.trimmed.policy': 'fail',
    'batch.size': 7,
    ...extra,
  };
  return { connector, taskConfig: connector.taskConfigs(base, 1)[0]! };
}

describe('dynamodb-streams source against DynamoDB Local', () => {
  it('delivers every change once, in order per key, in the documented shape; resumes after the committed offset', async () => {
    // Prepare
    const { dynamodb } = open();
    const table = await createTable(dynamodb);
    const expected = await writeChanges(dynamodb, table, 6, 1);
    const { connector, taskConfig } = connectorFor(table);
    const offsets = new MemoryOffsets();
    // Act: two invocations, the first cut short by its budget
    const first = await invoke(connector, taskConfig, offsets, { maxRecords: 10 });
    const second = await invoke(connector, taskConfig, offsets, { maxRecords: 1000 });
    // Assess
    expect(first).toHaveLength(10);
    const all = [...first, ...second];
    expect(all).toHaveLength(expected.length);
    expect(perKey(history(all))).toEqual(perKey(expected));
    const seqs = all.map((r) => BigInt(String(r.sourceOffset.sequence)));
    expect(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!)).toBe(true); // one shard: stream order
    const [insert, modify, remove] = all;
    expect(insert).toMatchObject({
      sourcePartition: { table, shard: expect.stringMatching(/^shardId-/) },
      topic: `cdc.${table}`,
      key: { pk: 'item-1-0', sk: 0 },
      headers: [
        { key: 'dynamodb.event.name', value: 'INSERT' },
        { key: 'dynamodb.table', value: table },
      ],
    });
    expect(Object.keys(insert!.sourcePartition)).toEqual(['table', 'shard']);
    expect(insert!.value).toEqual({
      eventName: 'INSERT',
      keys: { pk: 'item-1-0', sk: 0 },
      newImage: { pk: 'item-1-0', sk: 0, qty: 1, blob: 'AP8=', tags: ['x'] },
      oldImage: null,
      sequenceNumber: insert!.sourceOffset.sequence,
      approximateCreationTime: expect.any(Number),
    });
    expect(insert!.timestamp).toBe((insert!.value as ChangeValue).approximateCreationTime);
    expect(modify!.value).toMatchObject({ newImage: { qty: 2 }, oldImage: { qty: 1 } });
    expect(remove!.value).toMatchObject({ eventName: 'REMOVE', newImage: null, oldImage: { qty: 2 } });
    // Nothing new: idle, nothing repeated
    expect(await invoke(connector, taskConfig, offsets, { maxRecords: 1000 })).toEqual([]);
    // Later changes only
    const later = await writeChanges(dynamodb, table, 2, 2);
    expect(history(await invoke(connector, taskConfig, offsets, { maxRecords: 1000 }))).toEqual(later);
  });

  it('resumes from a stored offset: only the changes after it arrive', async () => {
    const { dynamodb } = open();
    const table = await createTable(dynamodb);
    await writeChanges(dynamodb, table, 3, 1);
    const { connector, taskConfig } = connectorFor(table);
    const all = await invoke(connector, taskConfig, new MemoryOffsets(), { maxRecords: 1000, commit: false });
    const offsets = new MemoryOffsets();
    const cut = all[3]!;
    offsets.set(cut.sourcePartition, cut.sourceOffset);
    const resumed = await invoke(connector, taskConfig, offsets, { maxRecords: 1000 });
    expect(resumed.map((r) => r.sourceOffset)).toEqual(all.slice(4).map((r) => r.sourceOffset));
  });

  it('LATEST with nothing committed skips the changes already in the stream', async () => {
    const { dynamodb } = open();
    const table = await createTable(dynamodb);
    await writeChanges(dynamodb, table, 2, 1);
    const { connector, taskConfig } = connectorFor(table, { 'dynamodb.stream.position': 'LATEST' });
    expect(await invoke(connector, taskConfig, new MemoryOffsets(), { maxRecords: 1000 })).toEqual([]);
  });

  it('runs through the source cycle exactly-once: the fake Kafka holds every change once and the offsets', async () => {
    const { dynamodb } = open();
    const table = await createTable(dynamodb);
    const expected = await writeChanges(dynamodb, table, 5, 1);
    const { connector, taskConfig } = connectorFor(table);
    const kafka = new FakeKafka();
    const store = kafkaOffsets(kafka);
    const cycle = (maxRecords: number) =>
      runSourceCycle({
        connector: 'cdc',
        taskId: 0,
        task: connector.createTask(taskConfig),
        converters,
        offsets: store,
        delivery: {
          mode: 'exactly-once',
          writer: kafka.transactionalWriter('connect-fn-cdc-0'),
          encoder: store,
        },
        limits: { maxRecords, maxBytes: 10_000_000, deadlineMs: Date.now() + 60_000 },
        errors: { tolerance: 'none', retryTimeoutMs: 0, retryDelayMaxMs: 1000 },
        clock: systemClock,
      });
    const summaries = [await cycle(5), await cycle(1000), await cycle(1000)];
    expect(summaries.map((s) => [s.records, s.stopReason])).toEqual([
      [5, 'max-records'],
      [expected.length - 5, 'idle'],
      [0, 'idle'],
    ]);
    const decoder = new TextDecoder();
    const values = kafka
      .committed(`cdc.${table}`)
      .map((r) => JSON.parse(decoder.decode(r.value ?? new Uint8Array())) as ChangeValue);
    expect(values.map((v) => `${v.keys.pk}:${v.eventName}:${v.newImage?.qty ?? '-'}`)).toEqual(expected);
    const keys = kafka.committed(`cdc.${table}`).map((r) => decoder.decode(r.key ?? new Uint8Array()));
    expect(keys[0]).toBe('{"pk":"item-1-0","sk":0}');
    const last = values.at(-1)!.sequenceNumber;
    expect(summaries[1]!.committed).toEqual([
      { partition: { table, shard: expect.any(String) }, offset: { sequence: last } },
    ]);
  });
});
