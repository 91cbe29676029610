/**
 * The `dynamodb-sink` connector class: `tasks.max` copies of the config (which partitions a task reads is
 * the runtime's choice), and one DynamoDB client per region and endpoint for the life of the process (a
 * Lambda cold start), shared by the tasks it creates, with the key schemas DescribeTable gave for its
 * tables (table-schema.ts).
 *
 * The clients are made with `maxAttempts: 1`: the task retries throttling and unprocessed items itself,
 * within the invocation's deadline, which the SDK's own retries would not respect. Against a local
 * endpoint (DynamoDB Local) without AWS credentials in the environment, dummy credentials are used, as
 * the offsets store does.
 *
 * @example
 * ```ts
 * const connector = dynamodbSinkConnector({ log });
 * const task = connector.createTask(connector.taskConfigs(config, 1)[0]);
 * ```
 * @module
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { SinkConnector } from '../../spi/sink.ts';
import type { TaskConfig } from '../../spi/source.ts';
import { quietSdkLogger } from '../sdk-logger.ts';
import { readString } from '../task-config.ts';
import type { TaskLog } from '../task-log.ts';
import type { WriterClock } from './batch-writer.ts';
import type { DeliveryGuarantee, NullValueBehavior } from './config.ts';
import { type DynamoDbSinkSettings, DynamoDbSinkTask } from './sink-task.ts';
import { KeySchemaCache } from './table-schema.ts';

export interface DynamoDbSinkOptions {
  /** Where the task reports retries worth a warning. */
  readonly log?: TaskLog;
  /** The environment the client settings read (AWS_REGION, credentials); default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Makes a client from its settings (tests add middleware here); default `new DynamoDBClient(config)`. */
  readonly createClient?: (config: DynamoDBClientConfig) => DynamoDBClient;
  readonly clock?: WriterClock;
  readonly random?: () => number;
}

/** Where the table is: the connector's `aws.dynamodb.region` and `aws.dynamodb.endpoint`. */
export interface DynamoDbLocation {
  readonly region?: string | undefined;
  readonly endpoint?: string | undefined;
}

/** The client settings for `location` in `env` (see the module doc). */
export function dynamodbSinkClientConfig(
  location: DynamoDbLocation,
  env: Readonly<Record<string, string | undefined>>,
): DynamoDBClientConfig {
  const { endpoint } = location;
  const region = location.region ?? env.AWS_REGION ?? (endpoint === undefined ? undefined : 'us-east-1');
  const config: DynamoDBClientConfig = {
    maxAttempts: 1,
    logger: quietSdkLogger,
    ...(region === undefined ? {} : { region }),
    ...(endpoint === undefined ? {} : { endpoint }),
  };
  const local =
    endpoint !== undefined && env.AWS_ACCESS_KEY_ID === undefined && env.AWS_PROFILE === undefined;
  return local ? { ...config, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : config;
}

/** The task's typed settings, from its config. */
export function dynamodbSinkSettings(config: TaskConfig): DynamoDbSinkSettings {
  return {
    tableFormat: readString(config, 'table.name.format'),
    hash: readString(config, 'aws.dynamodb.pk.hash'),
    sort: readString(config, 'aws.dynamodb.pk.sort'),
    onNull: readString(config, 'behavior.on.null.values') as NullValueBehavior,
    delivery: (optionalString(config, 'delivery.guarantee') ?? 'at-least-once') as DeliveryGuarantee,
    offsetsTable: optionalString(config, 'exactly.once.offsets.table'),
  };
}

function optionalString(config: TaskConfig, key: string): string | undefined {
  return config[key] === undefined ? undefined : readString(config, key);
}

/** The connector (see the module doc). */
export function dynamodbSinkConnector(options: DynamoDbSinkOptions = {}): SinkConnector {
  const clients = new Map<string, DynamoDBClient>();
  // DescribeTable's answers for the process's life: AWS asks callers to cache control-plane reads.
  const schemas = new KeySchemaCache();
  const env = options.env ?? process.env;
  const createClient = options.createClient ?? ((config) => new DynamoDBClient(config));
  const clientFor = (location: DynamoDbLocation): DynamoDBClient => {
    const id = `${location.region ?? ''}\u0000${location.endpoint ?? ''}`;
    let client = clients.get(id);
    if (client === undefined) {
      client = createClient(dynamodbSinkClientConfig(location, env));
      clients.set(id, client);
    }
    return client;
  };
  return {
    taskConfigs: (config: TaskConfig, maxTasks: number): readonly TaskConfig[] =>
      Array.from({ length: maxTasks }, () => config),
    createTask: (config: TaskConfig) =>
      new DynamoDbSinkTask(dynamodbSinkSettings(config), {
        client: clientFor({
          region: optionalString(config, 'aws.dynamodb.region'),
          endpoint: optionalString(config, 'aws.dynamodb.endpoint'),
        }),
        schemas,
        ...(options.log === undefined ? {} : { log: options.log }),
        ...(options.clock === undefined ? {} : { clock: options.clock }),
        ...(options.random === undefined ? {} : { random: options.random }),
      }),
  };
}
