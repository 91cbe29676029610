import { appendFileSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateTableCommand,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createSourceFunction,
  InvocationFailedError,
  type SourceFunction,
} from '../../src/app/source-function.ts';
import { createKafkaClients } from '../../src/kafka/index.ts';
import { localContext } from '../../src/lambda/lambda-context.ts';
import { localAws, stackEnv } from '../stack/env.ts';
import { writeBundle } from '../support/bundle-fixture.ts';

const opened: SourceFunction[] = [];
afterEach(async () => {
  for (const fn of opened.splice(0)) await fn.close();
});

const unique = () => Math.random().toString(36).slice(2, 8);
const decoder = new TextDecoder();

function env() {
  const s = stackEnv();
  return {
    ...process.env,
    KAFKA_BROKERS: s.kafkaBrokers,
    DYNAMODB_ENDPOINT: s.dynamodbEndpoint,
    LOG_LEVEL: 'error',
  };
}

function open(bundleDir: string, connector: string): SourceFunction {
  const fn = createSourceFunction({
    bundleDir,
    connector,
    env: env(),
    logSink: () => {},
    createOffsetsTable: true,
  });
  opened.push(fn);
  return fn;
}

const invoke = (fn: SourceFunction, task = 0, timeoutMs = 30_000) =>
  fn.handler({ task }, localContext('test', timeoutMs));

/** Every record of `topic` (all partitions), read_committed, as raw key/value strings. */
async function readTopic(
  topic: string,
): Promise<{ key: string | null; value: string | null; partition: number }[]> {
  const clients = createKafkaClients({
    values: { 'bootstrap.servers': [stackEnv().kafkaBrokers] } as never,
    clients: {},
  });
  const admin = clients.topicAdmin();
  const reader = clients.partitionReader();
  try {
    const partitions = [...Array(await admin.partitionCount(topic)).keys()];
    const ends = await reader.endOffsets(topic, partitions);
    const out: { key: string | null; value: string | null; partition: number }[] = [];
    for (const partition of partitions) {
      const read = {
        topic,
        partition,
        fromOffset: 0,
        untilOffset: ends.get(partition) ?? 0,
        deadlineMs: Date.now() + 30_000,
      };
      for await (const batch of reader.read(read)) {
        for (const r of batch) {
          out.push({
            partition,
            key: r.key && decoder.decode(r.key),
            value: r.value && decoder.decode(r.value),
          });
        }
      }
    }
    return out;
  } finally {
    await Promise.allSettled([admin.close(), reader.close()]);
  }
}

const dynamoDb = () => new DynamoDBClient({ ...localAws, endpoint: stackEnv().dynamodbEndpoint });

function worker(lines: string): string {
  return `bootstrap.servers=\${env:KAFKA_BROKERS}\nkey.converter=string\nvalue.converter=json\nvalue.converter.schemas.enable=false\n${lines}`;
}

describe('source function against the real broker', () => {
  it('FileStreamSource: lines into Kafka, offsets in connect-offsets exactly as Kafka Connect writes them', async () => {
    const id = unique();
    const offsetsTopic = `offsets-${id}`;
    const dir = writeBundle({
      'worker.properties': `bootstrap.servers=\${env:KAFKA_BROKERS}\nvalue.converter=string\noffset.storage.topic=${offsetsTopic}\noffset.storage.replication.factor=1\noffset.storage.partitions=5\n`,
      'connectors/src.properties': `name=file-${id}\nconnector.class=org.apache.kafka.connect.file.FileStreamSourceConnector\nfile=in.txt\ntopic=lines-${id}\n`,
    });
    const input = join(dir, 'in.txt');
    writeFileSync(input, 'alpha\nbeta\n');
    const fn = open(dir, `file-${id}`);
    expect(await invoke(fn)).toMatchObject({
      records: 2,
      stopReason: 'idle',
      committed: [{ partition: { filename: 'in.txt' }, offset: { position: 11 } }],
    });
    appendFileSync(input, 'gamma\npartial');
    expect(await invoke(fn)).toMatchObject({ records: 1, committed: [{ offset: { position: 17 } }] });
    expect((await readTopic(`lines-${id}`)).map((r) => r.value)).toEqual(['alpha', 'beta', 'gamma']);
    const offsets = await readTopic(offsetsTopic);
    // Connect's {"position": N} first (all Connect's FileStreamSourceTask reads), then the file's identity.
    const identity = `"inode":"${statSync(input).ino}","head_bytes":`;
    expect(offsets.map((r) => [r.key, r.value])).toEqual([
      [
        `["file-${id}",{"filename":"in.txt"}]`,
        expect.stringMatching(`^\\{"position":11,${identity}11,"head_sha256":"[0-9a-f]{64}"\\}$`),
      ],
      [
        `["file-${id}",{"filename":"in.txt"}]`,
        expect.stringMatching(`^\\{"position":17,${identity}24,"head_sha256":"[0-9a-f]{64}"\\}$`),
      ],
    ]);
  });

  it('FileStreamSource: a file rotated to a longer one is read from its first line, every line once (issue 10)', async () => {
    const id = unique();
    const dir = writeBundle({
      'worker.properties': `bootstrap.servers=\${env:KAFKA_BROKERS}\nvalue.converter=string\noffset.storage.topic=offsets-${id}\noffset.storage.replication.factor=1\n`,
      'connectors/src.properties': `name=file-${id}\nconnector.class=FileStreamSource\nfile=in.txt\ntopic=lines-${id}\n`,
    });
    const input = join(dir, 'in.txt');
    writeFileSync(input, 'a1\nb1\nc1\n');
    const logs: string[] = [];
    const fn = createSourceFunction({
      bundleDir: dir,
      connector: `file-${id}`,
      env: { ...env(), LOG_LEVEL: 'warn' },
      logSink: (line) => logs.push(line),
    });
    opened.push(fn);
    expect(await invoke(fn)).toMatchObject({ records: 3, committed: [{ offset: { position: 9 } }] });
    appendFileSync(input, 'd1\n'); // written after that invocation, just before the rotation
    renameSync(input, `${input}.1`);
    writeFileSync(input, 'NEW1\nNEW2\nNEW3\n');
    const rotated = await invoke(fn);
    // Before: a1 b1 c1 "" NEW3 (the old position 9 fell inside the new file's second line; d1 was lost).
    expect((await readTopic(`lines-${id}`)).map((r) => r.value)).toEqual([
      'a1',
      'b1',
      'c1',
      'd1',
      'NEW1',
      'NEW2',
      'NEW3',
    ]);
    expect(rotated).toMatchObject({ records: 4, committed: [{ offset: { position: 15 } }] });
    const warnings = logs
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((l) => l.level === 'warn');
    expect(warnings).toEqual([
      expect.objectContaining({
        file: 'in.txt',
        reason: 'inode-changed',
        committedPosition: 9,
        sizeBytes: 15,
        rotatedFile: `${input}.1`,
      }),
    ]);
  });

  it('datagen exactly-once: each invocation resumes from the committed offset, in one transaction per batch', async () => {
    const id = unique();
    const dir = writeBundle({
      'worker.properties': worker(
        `offset.storage.topic=offsets-${id}\noffset.storage.replication.factor=1\nexactly.once.source.support=enabled\n`,
      ),
      'connectors/gen.properties': `name=gen-${id}\nconnector.class=datagen\nkafka.topic=orders-${id}\ntasks.max=2\niterations=700\nbatch.size=100\ninvocation.max.records=250\n`,
    });
    const fn = open(dir, `gen-${id}`);
    const summaries = [];
    for (const task of [0, 0, 1, 0, 1, 1]) summaries.push(await invoke(fn, task));
    expect(summaries.map((s) => [s.task, s.records, s.stopReason])).toEqual([
      [0, 250, 'max-records'],
      [0, 100, 'idle'],
      [1, 250, 'max-records'],
      [0, 0, 'idle'],
      [1, 100, 'idle'],
      [1, 0, 'idle'],
    ]);
    const values = (await readTopic(`orders-${id}`)).map(
      (r) => JSON.parse(r.value ?? 'null') as { task: number; sequence: number },
    );
    for (const task of [0, 1]) {
      expect(
        values
          .filter((v) => v.task === task)
          .map((v) => v.sequence)
          .sort((a, b) => a - b),
      ).toEqual([...Array(350).keys()]);
    }
  });

  it('datagen at-least-once with offsets in DynamoDB: the table holds Connect-shaped offsets under the task lease', async () => {
    const id = unique();
    const table = `offsets-${id}`;
    const dir = writeBundle({
      'worker.properties': worker(
        `offset.storage=dynamodb\noffset.storage.table=${table}\ndynamodb.endpoint=\${env:DYNAMODB_ENDPOINT}\n`,
      ),
      'connectors/gen.properties': `name=gen-${id}\nconnector.class=datagen\nkafka.topic=users-${id}\nquickstart=users\niterations=300\ninvocation.max.records=200\n`,
    });
    const fn = open(dir, `gen-${id}`);
    expect((await invoke(fn)).records).toBe(200);
    expect((await invoke(fn)).records).toBe(100);
    const client = dynamoDb();
    const items = (await client.send(new ScanCommand({ TableName: table }))).Items ?? [];
    client.destroy();
    const offset = items.find((i) => i.sk?.S === '{"task":0}');
    expect(offset).toMatchObject({ pk: { S: `gen-${id}` }, offset: { S: '{"sequence":300}' } });
    expect(items.some((i) => i.sk?.S === '#lease#0')).toBe(true);
    expect(await readTopic(`users-${id}`)).toHaveLength(300);
  });

  it("dynamodb-streams exactly-once: a table's changes into Kafka once each, in order per item, resuming from connect-offsets", async () => {
    const id = unique();
    const table = `cdc-${id}`;
    const db = dynamoDb();
    try {
      await db.send(
        new CreateTableCommand({
          TableName: table,
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
          StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
        }),
      );
      /** Each item: INSERT qty 1, MODIFY qty 2, and for even items REMOVE; returns `pk:event:qty` lines. */
      const change = async (from: number, to: number): Promise<string[]> => {
        const lines: string[] = [];
        for (let i = from; i < to; i++) {
          const pk = `item-${i}`;
          await db.send(new PutItemCommand({ TableName: table, Item: { pk: { S: pk }, qty: { N: '1' } } }));
          await db.send(
            new UpdateItemCommand({
              TableName: table,
              Key: { pk: { S: pk } },
              UpdateExpression: 'SET qty = :q',
              ExpressionAttributeValues: { ':q': { N: '2' } },
            }),
          );
          lines.push(`${pk}:INSERT:1`, `${pk}:MODIFY:2`);
          if (i % 2 === 0) {
            await db.send(new DeleteItemCommand({ TableName: table, Key: { pk: { S: pk } } }));
            lines.push(`${pk}:REMOVE:-`);
          }
        }
        return lines;
      };
      const first = await change(0, 10);
      const dir = writeBundle({
        'worker.properties': worker(
          `offset.storage.topic=offsets-${id}\noffset.storage.replication.factor=1\nexactly.once.source.support=enabled\n`,
        ),
        'connectors/cdc.properties': `name=cdc-${id}\nconnector.class=dynamodb-streams\ndynamodb.table=${table}\ndynamodb.service.endpoint=\${env:DYNAMODB_ENDPOINT}\ntopic.format=changes.\${table}\nkey.converter=json\nkey.converter.schemas.enable=false\nbatch.size=4\ninvocation.max.records=10\n`,
      });
      const fn = open(dir, `cdc-${id}`);
      const summaries = [await invoke(fn), await invoke(fn), await invoke(fn)];
      expect(summaries.map((s) => [s.records, s.stopReason])).toEqual([
        [10, 'max-records'],
        [10, 'max-records'],
        [first.length - 20, 'idle'],
      ]);
      const second = await change(10, 12);
      expect(await invoke(fn)).toMatchObject({ records: second.length, stopReason: 'idle' });
      expect(await invoke(fn)).toMatchObject({ records: 0, stopReason: 'idle' });

      const records = await readTopic(`changes.${table}`);
      const values = records.map(
        (r) =>
          JSON.parse(r.value ?? 'null') as {
            eventName: string;
            keys: { pk: string };
            newImage: { qty: number } | null;
            sequenceNumber: string;
          },
      );
      // One shard on DynamoDB Local: the stream's order is the topic's order, every change once.
      expect(values.map((v) => `${v.keys.pk}:${v.eventName}:${v.newImage?.qty ?? '-'}`)).toEqual([
        ...first,
        ...second,
      ]);
      expect(records.map((r) => r.key)).toEqual(values.map((v) => JSON.stringify(v.keys)));
      const offsets = await readTopic(`offsets-${id}`);
      // One offset record per batch, all for the one shard, moving forward, the last at the last change.
      expect(new Set(offsets.map((r) => r.key)).size).toBe(1);
      expect(JSON.parse(offsets[0]!.key!)).toEqual([
        `cdc-${id}`,
        { table, shard: expect.stringMatching(/^shardId-/) },
      ]);
      const sequences = offsets.map((r) => BigInt((JSON.parse(r.value!) as { sequence: string }).sequence));
      expect(sequences).toEqual([...sequences].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      expect(new Set(sequences).size).toBe(sequences.length);
      expect(JSON.parse(offsets.at(-1)!.value!)).toEqual({ sequence: values.at(-1)!.sequenceNumber });
    } finally {
      db.destroy();
    }
  });

  it('keeps offsets in a local file with offset.storage=file', async () => {
    const id = unique();
    const dir = writeBundle({
      'worker.properties': worker('offset.storage=file\noffset.storage.file.filename=state/offsets.json\n'),
      'connectors/gen.properties': `name=gen-${id}\nconnector.class=datagen\nkafka.topic=pv-${id}\nquickstart=pageviews\niterations=50\n`,
    });
    await invoke(open(dir, `gen-${id}`));
    expect(JSON.parse(readFileSync(join(dir, 'state', 'offsets.json'), 'utf8'))).toEqual({
      [`["gen-${id}",{"task":0}]`]: { sequence: 50 },
    });
  });

  it('fails an invocation whose broker is unreachable with a clear error and commits nothing', async () => {
    const id = unique();
    const dir = writeBundle({
      'worker.properties': `bootstrap.servers=127.0.0.1:1\noffset.storage=file\noffset.storage.file.filename=offsets.json\n`,
      'connectors/gen.properties': `name=gen-${id}\nconnector.class=datagen\nkafka.topic=t-${id}\niterations=10\n`,
    });
    const fn = createSourceFunction({
      bundleDir: dir,
      connector: `gen-${id}`,
      env: env(),
      logSink: () => {},
    });
    opened.push(fn);
    const err = await invoke(fn, 0, 8_000).catch((e: unknown) => e);
    // Returned before its timeout: an overrunning handler fails with CONNECT_FN_INVOCATION_TIMED_OUT instead.
    expect(err).toBeInstanceOf(InvocationFailedError);
    const summary = (err as InvocationFailedError).summary;
    expect(summary).toMatchObject({
      stopReason: 'error',
      committed: [],
      error: { code: 'CONNECT_FN_DEADLINE_EXCEEDED', retriable: true },
    });
    expect((err as InvocationFailedError).retriable).toBe(true);
    expect(summary.error?.message).toBe(
      "delivering a batch (to broker 127.0.0.1:1 over PLAINTEXT) did not finish before the invocation's deadline",
    );
    // Nothing was committed, so no offsets file was ever written.
    expect(existsSync(join(dir, 'offsets.json'))).toBe(false);
  });

  it('fails fast at cold start on an invalid bundle, naming the file and key', () => {
    const dir = writeBundle({
      'connectors/gen.properties': 'name=g\nconnector.class=datagen\nkafka.topic=t\ntasks.max=0\n',
    });
    expect(() => createSourceFunction({ bundleDir: dir, connector: 'g', env: env() })).toThrow(
      /connectors\/gen\.properties:4: tasks\.max: an integer from 1 to 1000 \(got 0\)/,
    );
  });
});
