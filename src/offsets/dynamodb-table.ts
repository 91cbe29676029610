/**
 * The DynamoDB offsets table (DESIGN.md §4): its shape for the infrastructure, and its creation for local
 * runs. Its key schema is src/deploy/offsets-table.ts, which `infra/` (CDK and serverless.yml) deploys.
 *
 * | attribute     | type | on                                                                   |
 * |---------------|------|----------------------------------------------------------------------|
 * | `pk`          | S    | every item: the connector name (partition key)                       |
 * | `sk`          | S    | every item: the source partition as compact JSON, or `#lease#<task>` |
 * | `offset`      | S    | offsets: the offset map as compact JSON                              |
 * | `updatedAtMs` | N    | offsets: when it was committed                                       |
 * | `owner`       | S    | leases: the holding session (absent once released)                   |
 * | `epoch`       | N    | leases: +1 on every acquisition                                      |
 * | `expiresAtMs` | N    | leases: the holder's own deadline (informational; see dynamodb-lease.ts) |
 * @module
 */
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  ResourceInUseException,
  ResourceNotFoundException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { offsetsTableSchema } from '../deploy/offsets-table.ts';
import { OffsetStorageError } from './errors.ts';

/** How long a created table may take to become ACTIVE (DynamoDB Local: at once; AWS: seconds). */
const TABLE_ACTIVE_TIMEOUT_S = 120;

/**
 * The CreateTable input of the offsets table: `pk` (S, hash) + `sk` (S, range), on-demand billing — the
 * schema of src/deploy/offsets-table.ts, which the IaC deploys too.
 *
 * @example
 * ```ts
 * await client.send(new CreateTableCommand(offsetsTableDefinition('connect-fn-offsets')));
 * ```
 */
export function offsetsTableDefinition(tableName: string): CreateTableCommandInput {
  return offsetsTableSchema(tableName);
}

/**
 * DynamoDB client settings from the worker's `aws.region` and `dynamodb.endpoint` (DynamoDB Local).
 * Without a region the SDK's own chain applies (`AWS_REGION` in Lambda).
 *
 * @example
 * ```ts
 * const client = new DynamoDBClient(dynamoDbClientConfig({ region: 'eu-west-1' })); // once per cold start
 * ```
 */
export function dynamoDbClientConfig(worker: {
  readonly region?: string | undefined;
  readonly endpoint?: string | undefined;
}): DynamoDBClientConfig {
  return {
    ...(worker.region === undefined ? {} : { region: worker.region }),
    ...(worker.endpoint === undefined ? {} : { endpoint: worker.endpoint }),
  };
}

/**
 * The offsets store's DynamoDB client, once per cold start. Against a local endpoint (`dynamodb.endpoint`,
 * i.e. DynamoDB Local) without AWS credentials in the environment, any credentials do: DynamoDB Local does
 * not check them.
 *
 * @example
 * ```ts
 * const client = dynamoDbClient(worker['aws.region'], worker['dynamodb.endpoint'], process.env);
 * ```
 */
export function dynamoDbClient(
  region: string | undefined,
  endpoint: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): DynamoDBClient {
  const config = dynamoDbClientConfig({
    region: region ?? env.AWS_REGION ?? (endpoint ? 'us-east-1' : undefined),
    endpoint,
  });
  const local =
    endpoint !== undefined && env.AWS_ACCESS_KEY_ID === undefined && env.AWS_PROFILE === undefined;
  return new DynamoDBClient(
    local ? { ...config, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : config,
  );
}

/**
 * Creates the table if it does not exist and waits until it is ACTIVE; checks the key schema of an
 * existing one. Safe to call from concurrent processes.
 *
 * @example
 * ```ts
 * await ensureOffsetsTable(client, 'connect-fn-offsets');
 * ```
 */
export async function ensureOffsetsTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const existing = await describe(client, tableName);
  if (existing === undefined) {
    try {
      await client.send(new CreateTableCommand(offsetsTableDefinition(tableName)));
    } catch (err) {
      // Another process created it first: fine, it has the same shape (checked below).
      if (!(err instanceof ResourceInUseException))
        throw storageError(`cannot create table ${tableName}`, err);
    }
    await waitUntilTableExists({ client, maxWaitTime: TABLE_ACTIVE_TIMEOUT_S }, { TableName: tableName });
  }
  const keySchema = existing ?? (await describe(client, tableName));
  const shape = (keySchema ?? []).map((k) => `${k}`).join(',');
  if (shape !== 'pk:HASH,sk:RANGE') {
    throw new OffsetStorageError(
      `table ${tableName} has the key schema [${shape}], but offsets need pk (S, hash) and sk (S, range)`,
    );
  }
}

/** The key schema as `name:TYPE` strings, or undefined when the table does not exist. */
async function describe(client: DynamoDBClient, tableName: string): Promise<string[] | undefined> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    return (Table?.KeySchema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`);
  } catch (err) {
    if (err instanceof ResourceNotFoundException) return undefined;
    throw storageError(`cannot describe table ${tableName}`, err);
  }
}

function storageError(what: string, err: unknown): OffsetStorageError {
  return new OffsetStorageError(`${what}: ${(err as Error).message}`, { cause: err, retriable: true });
}
