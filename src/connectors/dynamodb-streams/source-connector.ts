/**
 * The `dynamodb-streams` connector class: `tasks.max` tasks; task `i` reads the shards whose id hashes
 * to `i` (FNV-1a of the shard id modulo the task count; see shard-lineage.ts), so every invocation of a
 * task reads the same shards and a shard never moves. The clients are made once per cold start (per
 * connector object) and shared by every task it creates.
 *
 * Credentials: the SDK's default chain. Against a `dynamodb.service.endpoint` (DynamoDB Local) with no
 * AWS credentials in the environment, any credentials do (DynamoDB Local does not check them), and the
 * region defaults to us-east-1 — the same rule as the DynamoDB offsets store.
 *
 * @example
 * ```ts
 * const connector = dynamoDbStreamsConnector({ log: logger });
 * const [config0] = connector.taskConfigs(config, 2); // task.id 0 of 2
 * const task = connector.createTask(config0);
 * ```
 * @module
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { SourceConnector, TaskConfig } from '../../spi/source.ts';
import { quietSdkLogger } from '../sdk-logger.ts';
import { readInteger, readString } from '../task-config.ts';
import { processWarningLog, type TaskLog } from '../task-log.ts';
import {
  STREAM_POSITIONS,
  type StreamPosition,
  TRIMMED_POLICIES,
  type TrimmedPolicy,
  tableOfStreamArn,
  topicFor,
} from './config.ts';
import { DynamoDbStreamsTask, type DynamoDbStreamsTaskSettings } from './source-task.ts';
import { type StreamsApi, sdkStreamsApi } from './stream-api.ts';

/** Keys `taskConfigs` adds to the connector's own. */
export const TASK_ID = 'task.id';
export const TASK_COUNT = 'task.count';

/** Where the streams API is: the connector's `aws.region` and `dynamodb.service.endpoint`. */
export interface StreamsLocation {
  readonly region: string | undefined;
  readonly endpoint: string | undefined;
}

export interface DynamoDbStreamsConnectorOptions {
  /** Where tasks report warnings (trimmed gaps, expired iterators); default `process.emitWarning`. */
  readonly log?: TaskLog;
  /** The environment read for credentials; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Makes the API of a location; default: SDK clients (tests pass a fake). */
  readonly api?: (location: StreamsLocation) => StreamsApi;
}

function optionalString(config: TaskConfig, key: string): string | undefined {
  return config[key] === undefined ? undefined : readString(config, key);
}

function readChoice<const V extends string>(config: TaskConfig, key: string, values: readonly V[]): V {
  const value = readString(config, key);
  const found = values.find((v) => v === value);
  if (found === undefined)
    throw new TypeError(`task config key ${key}: expected one of ${values.join(', ')}`);
  return found;
}

/** The typed settings of one task, from a config `taskConfigs` returned. */
export function dynamoDbStreamsTaskSettings(config: TaskConfig): DynamoDbStreamsTaskSettings {
  const streamArn = optionalString(config, 'dynamodb.stream.arn');
  const table =
    optionalString(config, 'dynamodb.table') ??
    (streamArn === undefined ? undefined : tableOfStreamArn(streamArn));
  if (table === undefined)
    throw new TypeError('task config: dynamodb.table or dynamodb.stream.arn is required');
  return {
    table,
    ...(streamArn === undefined ? {} : { streamArn }),
    topic: topicFor(readString(config, 'topic.format'), table),
    position: readChoice<StreamPosition>(config, 'dynamodb.stream.position', STREAM_POSITIONS),
    trimmedPolicy: readChoice<TrimmedPolicy>(config, 'dynamodb.stream.trimmed.policy', TRIMMED_POLICIES),
    batchSize: readInteger(config, 'batch.size'),
    taskId: readInteger(config, TASK_ID),
    taskCount: readInteger(config, TASK_COUNT),
  };
}

/** The location of a task config's stream. */
export function streamsLocation(config: TaskConfig): StreamsLocation {
  return {
    region: optionalString(config, 'aws.region'),
    endpoint: optionalString(config, 'dynamodb.service.endpoint'),
  };
}

/** SDK clients for a location (see the module docs for credentials). */
export function sdkClientConfig(
  location: StreamsLocation,
  env: Readonly<Record<string, string | undefined>>,
) {
  const { endpoint } = location;
  const region = location.region ?? env.AWS_REGION ?? (endpoint === undefined ? undefined : 'us-east-1');
  const base = {
    ...(region === undefined ? {} : { region }),
    ...(endpoint === undefined ? {} : { endpoint }),
  };
  const local =
    endpoint !== undefined && env.AWS_ACCESS_KEY_ID === undefined && env.AWS_PROFILE === undefined;
  return local ? { ...base, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : base;
}

/**
 * The connector. Its API (the SDK clients) is made on first use per location and kept: build the
 * connector once per cold start.
 */
export function dynamoDbStreamsConnector(options: DynamoDbStreamsConnectorOptions = {}): SourceConnector {
  const log = options.log ?? processWarningLog;
  const env = options.env ?? process.env;
  const makeApi =
    options.api ??
    ((location: StreamsLocation) => {
      const config = { ...sdkClientConfig(location, env), logger: quietSdkLogger };
      return sdkStreamsApi({
        dynamodb: new DynamoDBClient(config),
        streams: new DynamoDBStreamsClient(config),
      });
    });
  const apis = new Map<string, StreamsApi>();
  const apiFor = (location: StreamsLocation): StreamsApi => {
    const key = JSON.stringify([location.region ?? null, location.endpoint ?? null]);
    let api = apis.get(key);
    if (api === undefined) {
      api = makeApi(location);
      apis.set(key, api);
    }
    return api;
  };
  return {
    taskConfigs(config: TaskConfig, maxTasks: number): readonly TaskConfig[] {
      return Array.from({ length: maxTasks }, (_, task) => ({
        ...config,
        [TASK_ID]: task,
        [TASK_COUNT]: maxTasks,
      }));
    },
    createTask(config: TaskConfig): DynamoDbStreamsTask {
      return new DynamoDbStreamsTask(
        dynamoDbStreamsTaskSettings(config),
        apiFor(streamsLocation(config)),
        log,
      );
    },
  };
}
