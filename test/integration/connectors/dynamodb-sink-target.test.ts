/**
 * A misconfigured target under `errors.tolerance=all` (issue 10, defect 5): a DynamoDB table whose key is
 * not the one the connector writes, or no table at all, is a failure of the target — never a run of
 * record errors to skip. Scheduled and triggered, against the real broker and DynamoDB Local: the
 * invocation fails with a clear, non-retriable error; nothing is written and nothing is committed.
 */
import { randomUUID } from 'node:crypto';
import { type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvocationFailedError } from '../../../src/app/function-common.ts';
import type { SinkFunction } from '../../../src/app/sink-function.ts';
import { createKafkaClients, type KafkaClients } from '../../../src/kafka/index.ts';
import { localContext } from '../../../src/lambda/lambda-context.ts';
import type { FetchedRecord } from '../../../src/runtime/ports.ts';
import { stackEnv } from '../../stack/env.ts';
import { whileCoordinatorMoves } from '../../support/coordinator-retry.ts';
import { kafkaEventFrom } from '../../support/kafka-events.ts';
import { kafkaWorker } from '../../unit/kafka/worker-values.ts';
import { freshTopic, rawAdmin, utf8 } from '../kafka/support.ts';
import { createTable, localDynamoDb, readPartitions, sinkFunction } from './dynamodb-support.ts';

let client: DynamoDBClient;
let admin: Admin;
let kafka: KafkaClients;
beforeAll(async () => {
  client = localDynamoDb();
  admin = await rawAdmin();
  kafka = createKafkaClients(kafkaWorker(stackEnv().kafkaBrokers));
});
afterAll(async () => {
  client?.destroy();
  await admin?.disconnect();
});

async function itemCount(table: string): Promise<number> {
  const { Count } = await client.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
  return Count ?? 0;
}

/** A fresh 2-partition topic with 20 JSON orders keyed `o-<i>`, and the records as an event would carry them. */
async function orders(): Promise<{ topic: string; read: FetchedRecord[] }> {
  const topic = await freshTopic(admin, 'ddb-target', 2);
  const writer = kafka.recordWriter();
  const reader = kafka.partitionReader();
  try {
    await writer.send(
      Array.from({ length: 20 }, (_, i) => ({
        topic,
        partition: i % 2,
        key: utf8(`o-${i}`),
        value: utf8(JSON.stringify({ amount: i })),
        headers: [],
      })),
    );
    return { topic, read: await readPartitions(reader, topic, [0, 1]) };
  } finally {
    await writer.close();
    await reader.close();
  }
}

/** The connector: writes `orderId` (the record key) to `table`, tolerating every record error. */
function connector(name: string, topic: string, table: string, trigger: string): SinkFunction {
  return sinkFunction(name, [
    'connector.class=dynamodb-sink',
    `topics=${topic}`,
    `trigger=${trigger}`,
    'aws.dynamodb.endpoint=${env:DYNAMODB_ENDPOINT}',
    `table.name.format=${table}`,
    'aws.dynamodb.pk.hash=key:orderId',
    'aws.dynamodb.pk.sort=',
    'errors.tolerance=all',
  ]);
}

/** The group's committed offsets of `topic`, by partition (-1: none). */
async function groupOffsets(name: string, topic: string): Promise<number[]> {
  const [fetched] = await whileCoordinatorMoves(() =>
    admin.fetchOffsets({ groupId: `connect-${name}`, topics: [topic] }),
  );
  return (fetched?.partitions ?? []).sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset));
}

const failureOf = (run: Promise<unknown>) =>
  run.then(
    () => {
      throw new Error('the invocation succeeded');
    },
    (err: unknown) => {
      expect(err).toBeInstanceOf(InvocationFailedError);
      return err as InvocationFailedError;
    },
  );

/** A table keyed `id` (the connector writes `orderId`), and a table that does not exist. */
const targets = [
  {
    what: 'a table with another key schema',
    table: () => createTable(client, 'sink-wrong-key', [['id', 'S']]),
    message: (table: string) =>
      `table "${table}" has the key id (a string) and no sort key, but the connector writes orderId (aws.dynamodb.pk.hash=key:orderId)`,
  },
  {
    what: 'a missing table',
    table: async () => `sink-missing-${randomUUID()}`,
    message: (table: string) => `table "${table}" does not exist`,
  },
] as const;

describe('errors.tolerance=all never drains a topic into a misconfigured table', () => {
  for (const target of targets) {
    it(`scheduled, ${target.what}: the invocation fails, nothing is written, no offset committed`, async () => {
      // Prepare
      const { topic } = await orders();
      const table = await target.table();
      const name = `ddb-target-${randomUUID().slice(0, 8)}`;
      const fn = connector(name, topic, table, 'schedule');
      try {
        for (let n = 0; n < 2; n++) {
          // Act: twice — the second invocation must not find the topic drained
          const failure = await failureOf(fn.handler({ task: 0 }, localContext('test', 30_000)));
          // Assess
          expect(failure.retriable).toBe(false);
          expect(failure.summary).toMatchObject({
            records: 0,
            committed: [],
            stopReason: 'error',
            error: { code: 'CONNECT_FN_SINK_TARGET', retriable: false },
          });
          expect(failure.summary.skipped).toBeUndefined();
          expect(failure.summary.error?.message).toContain(target.message(table));
          expect(await groupOffsets(name, topic)).toEqual([-1, -1]);
        }
        if (target.what !== 'a missing table') expect(await itemCount(table)).toBe(0);
      } finally {
        await fn.close();
      }
    });

    it(`triggered, ${target.what}: the invocation fails, the whole batch is retried, nothing is written`, async () => {
      // Prepare
      const { topic, read } = await orders();
      const table = await target.table();
      const name = `ddb-target-tr-${randomUUID().slice(0, 8)}`;
      const fn = connector(name, topic, table, 'kafka');
      const event = () => JSON.parse(JSON.stringify(kafkaEventFrom(read, 'aws:kafka')));
      try {
        // Act
        const failure = await failureOf(fn.triggerHandler(event(), localContext('test', 30_000)));
        const local = await fn.triggerInvocation(event(), localContext('test', 30_000));
        // Assess: a failed invocation (the mapping commits nothing); `run --event` sees the whole batch failed
        expect(failure.retriable).toBe(false);
        expect(failure.summary).toMatchObject({
          records: 0,
          committed: [],
          error: { code: 'CONNECT_FN_SINK_TARGET', retriable: false },
        });
        expect(failure.summary.error?.message).toContain(target.message(table));
        expect(local.failed).toBe(true);
        expect(local.response.batchItemFailures).toEqual([
          { itemIdentifier: { partition: `${topic}-0`, offset: 0 } },
          { itemIdentifier: { partition: `${topic}-1`, offset: 0 } },
        ]);
        if (target.what !== 'a missing table') expect(await itemCount(table)).toBe(0);
      } finally {
        await fn.close();
      }
    });
  }
});
