/**
 * The quickstart's DynamoDB leg: the tables it needs (made here, as the infrastructure would in the
 * cloud), and its proof — the items in the table, the change events the Streams source captured, and the
 * sink's committed offsets — against the records in the orders topic.
 * @module
 */
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import type { SinkFunction } from '../app/sink-function.ts';
import type { KafkaClients } from '../kafka/index.ts';
import { offsetsTableDefinition } from '../offsets/index.ts';
import { type SinkCheck, sinkPositions } from './quickstart-check.ts';

/** The sink's target table (its `table.name.format`) and the exactly-once offsets table. */
export const ORDERS_TABLE = 'orders';
export const EOS_OFFSETS_TABLE = 'quickstart-eos-offsets';

const READ_TIMEOUT_MS = 60_000;
const decoder = new TextDecoder();

/** A client of DynamoDB Local (which takes any credentials). */
export function localDynamoDb(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/**
 * Makes the quickstart's tables afresh: `orders` keyed by the records' Kafka partition and offset, with a
 * NEW_AND_OLD_IMAGES stream for the Streams source, and the exactly-once offsets table (`pk`/`sk`).
 */
export async function prepareTables(client: DynamoDBClient): Promise<void> {
  for (const table of [ORDERS_TABLE, EOS_OFFSETS_TABLE]) {
    await client.send(new DeleteTableCommand({ TableName: table })).catch((err: unknown) => {
      if (!(err instanceof ResourceNotFoundException)) throw err;
    });
  }
  await client.send(
    new CreateTableCommand({
      TableName: ORDERS_TABLE,
      AttributeDefinitions: [
        { AttributeName: 'partition', AttributeType: 'N' },
        { AttributeName: 'offset', AttributeType: 'N' },
      ],
      KeySchema: [
        { AttributeName: 'partition', KeyType: 'HASH' },
        { AttributeName: 'offset', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  // The layout of the offsets table (pk/sk), which the exactly-once sink's offset items share.
  await client.send(new CreateTableCommand(offsetsTableDefinition(EOS_OFFSETS_TABLE)));
}

export interface DynamoDbCheck {
  /** Items in the orders table. */
  readonly items: number;
  /** Change events in the changes topic, and how many distinct stream sequence numbers they carry. */
  readonly changes: number;
  readonly distinctChanges: number;
  /** Change events by event name (INSERT, MODIFY, REMOVE). */
  readonly byEvent: Readonly<Record<string, number>>;
  /** Per partition of the orders topic: the sink's committed offset and the partition's end. */
  readonly partitions: SinkCheck['partitions'];
}

async function countItems(client: DynamoDBClient, table: string): Promise<number> {
  let count = 0;
  let start: Record<string, never> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: table, Select: 'COUNT', ...(start ? { ExclusiveStartKey: start } : {}) }),
    );
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start !== undefined);
  return count;
}

/** Compares the table and the changes topic with the orders topic, and reads the sink's committed offsets. */
export async function checkDynamoDb(
  sink: SinkFunction,
  clients: KafkaClients,
  client: DynamoDBClient,
  ordersTopic: string,
  changesTopic: string,
): Promise<DynamoDbCheck> {
  const admin = clients.topicAdmin();
  const reader = clients.partitionReader();
  try {
    const sequences = new Set<string>();
    const byEvent: Record<string, number> = {};
    let changes = 0;
    const changePartitions = [...Array(await admin.partitionCount(changesTopic)).keys()];
    const changeEnds = await reader.endOffsets(changesTopic, changePartitions);
    for (const partition of changePartitions) {
      const read = {
        topic: changesTopic,
        partition,
        fromOffset: 0,
        untilOffset: changeEnds.get(partition) ?? 0,
        deadlineMs: Date.now() + READ_TIMEOUT_MS,
      };
      for await (const batch of reader.read(read)) {
        for (const record of batch) {
          const value = JSON.parse(decoder.decode(record.value ?? new Uint8Array())) as {
            eventName: string;
            sequenceNumber: string;
          };
          changes++;
          sequences.add(value.sequenceNumber);
          byEvent[value.eventName] = (byEvent[value.eventName] ?? 0) + 1;
        }
      }
    }
    return {
      items: await countItems(client, ORDERS_TABLE),
      changes,
      distinctChanges: sequences.size,
      byEvent,
      partitions: await sinkPositions(sink, clients, ordersTopic),
    };
  } finally {
    await Promise.allSettled([admin.close(), reader.close()]);
  }
}
