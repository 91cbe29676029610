/**
 * What the DynamoDB benchmarks share: clients of DynamoDB Local made with the connectors' own client
 * settings (so a baseline talks to the server exactly as the connector does), fresh tables created and
 * deleted outside the timed regions, a bare BatchWriteItem loop (the sink benchmark's baseline and the
 * streams benchmark's setup) and an item count to check a run.
 * @module
 */
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  type ScalarAttributeType,
  ScanCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { dynamodbSinkClientConfig } from '../../src/connectors/dynamodb/sink-connector.ts';

/** BatchWriteItem's most items per request. */
export const BATCH_WRITE_ITEMS = 25;

/**
 * A client of `endpoint` with the DynamoDB sink's settings (`maxAttempts: 1`, us-east-1, the dummy
 * credentials a local endpoint gets): one per benchmark, like the connector's one per cold start.
 */
export function benchDynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient(dynamodbSinkClientConfig({ endpoint }, {}));
}

export interface TableSpec {
  readonly name: string;
  /** Key attributes, hash first. */
  readonly keys: readonly (readonly [string, ScalarAttributeType])[];
  /** Enable a NEW_AND_OLD_IMAGES stream. */
  readonly stream?: boolean;
}

/** Creates the table (on-demand; DynamoDB Local makes it ACTIVE at once). */
export async function createTable(client: DynamoDBClient, spec: TableSpec): Promise<string> {
  await client.send(
    new CreateTableCommand({
      TableName: spec.name,
      AttributeDefinitions: spec.keys.map(([name, type]) => ({ AttributeName: name, AttributeType: type })),
      KeySchema: spec.keys.map(([name], i) => ({ AttributeName: name, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
      BillingMode: 'PAY_PER_REQUEST',
      ...(spec.stream === true
        ? { StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } }
        : {}),
    }),
  );
  return spec.name;
}

/** Deletes the table; best effort (a failure is reported, not thrown). */
export async function deleteTable(
  client: DynamoDBClient,
  table: string,
  log: (line: string) => void,
): Promise<void> {
  try {
    await client.send(new DeleteTableCommand({ TableName: table }));
  } catch (err) {
    log(`could not delete table ${table}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The items of `table` (a paginated Scan with Select=COUNT). */
export async function countItems(client: DynamoDBClient, table: string): Promise<number> {
  let count = 0;
  let start: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: table, Select: 'COUNT', ExclusiveStartKey: start }),
    );
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return count;
}

/** `requests` in chunks of {@link BATCH_WRITE_ITEMS}. */
export function chunked(requests: readonly WriteRequest[]): WriteRequest[][] {
  const chunks: WriteRequest[][] = [];
  for (let i = 0; i < requests.length; i += BATCH_WRITE_ITEMS) {
    chunks.push(requests.slice(i, i + BATCH_WRITE_ITEMS));
  }
  return chunks;
}

/**
 * The bare loop: every chunk as one BatchWriteItem to `table`, `concurrency` requests in flight (a pool of
 * that many workers taking the next chunk), `UnprocessedItems` sent again at once (DynamoDB Local returns
 * none). Returns the requests made.
 */
export async function batchWriteAll(
  client: DynamoDBClient,
  table: string,
  chunks: readonly (readonly WriteRequest[])[],
  concurrency: number,
): Promise<number> {
  let next = 0;
  let requests = 0;
  const worker = async () => {
    while (next < chunks.length) {
      let pending: WriteRequest[] = [...chunks[next++]!];
      while (pending.length > 0) {
        requests++;
        const { UnprocessedItems } = await client.send(
          new BatchWriteItemCommand({ RequestItems: { [table]: pending } }),
        );
        pending = UnprocessedItems?.[table] ?? [];
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, chunks.length) }, worker));
  return requests;
}
