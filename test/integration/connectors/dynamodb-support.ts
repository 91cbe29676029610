/**
 * What the DynamoDB connectors' integration tests share: a client of the stack's DynamoDB Local, fresh
 * tables, a sink function built from connector lines over a JSON worker, and reading partitions back as the
 * event source mapping would deliver them.
 */
import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient, type ScalarAttributeType } from '@aws-sdk/client-dynamodb';
import { createSinkFunction, type SinkFunction } from '../../../src/app/sink-function.ts';
import type { FetchedRecord, PartitionReader } from '../../../src/runtime/ports.ts';
import { localAws, stackEnv } from '../../stack/env.ts';
import { writeBundle } from '../../support/bundle-fixture.ts';
import { inSeconds, readAll } from '../kafka/support.ts';

export const localDynamoDb = () => new DynamoDBClient({ ...localAws, endpoint: stackEnv().dynamodbEndpoint });

/** A fresh PAY_PER_REQUEST table `<prefix>-<uuid>` keyed by `keys` (hash first), with a stream if asked. */
export async function createTable(
  client: DynamoDBClient,
  prefix: string,
  keys: readonly [string, ScalarAttributeType][],
  options: { readonly stream?: boolean } = {},
): Promise<string> {
  const table = `${prefix}-${randomUUID()}`;
  await client.send(
    new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: keys.map(([name, type]) => ({ AttributeName: name, AttributeType: type })),
      KeySchema: keys.map(([name], i) => ({ AttributeName: name, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
      BillingMode: 'PAY_PER_REQUEST',
      ...(options.stream
        ? { StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } }
        : {}),
    }),
  );
  return table;
}

/** Offsets in Connect's group, string keys, schemaless JSON values. */
const JSON_WORKER =
  'bootstrap.servers=${env:KAFKA_BROKERS}\noffset.storage=kafka\nkey.converter=org.apache.kafka.connect.storage.StringConverter\nvalue.converter=org.apache.kafka.connect.json.JsonConverter\nvalue.converter.schemas.enable=false\n';

/** The sink function of connector `name`, its file `lines` (after `name=`), against the stack. */
export function sinkFunction(
  name: string,
  lines: readonly string[],
  options: { logSink?: (line: string) => void; logLevel?: string } = {},
): SinkFunction {
  const dir = writeBundle({
    'worker.properties': JSON_WORKER,
    'connectors/ddb.properties': [`name=${name}`, ...lines, ''].join('\n'),
  });
  return createSinkFunction({
    bundleDir: dir,
    connector: name,
    env: {
      ...process.env,
      KAFKA_BROKERS: stackEnv().kafkaBrokers,
      DYNAMODB_ENDPOINT: stackEnv().dynamodbEndpoint,
      LOG_LEVEL: options.logLevel ?? 'error',
    },
    logSink: options.logSink ?? (() => {}),
  });
}

/** Every record of `topic`'s `partitions`, partition by partition (what an event would carry). */
export async function readPartitions(
  reader: PartitionReader,
  topic: string,
  partitions: readonly number[],
): Promise<FetchedRecord[]> {
  const read: FetchedRecord[] = [];
  for (const partition of partitions) {
    read.push(
      ...(await readAll(reader, { topic, partition, fromOffset: 0, deadlineMs: inSeconds(10) })).flat(),
    );
  }
  return read;
}
