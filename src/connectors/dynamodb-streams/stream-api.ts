/**
 * The four DynamoDB (Streams) calls the connector makes, behind a small port, and its errors. The SDK
 * adapter ({@link sdkStreamsApi}) only translates: requests into commands, SDK exceptions into the
 * errors below, so the reader never sees an SDK class and unit tests run against an in-memory fake.
 *
 * @example
 * ```ts
 * const api = sdkStreamsApi({ dynamodb: new DynamoDBClient(cfg), streams: new DynamoDBStreamsClient(cfg) });
 * const arn = await api.latestStreamArn('orders');
 * const page = await api.describeStream(arn); // shards, 100 at a time
 * ```
 * @module
 */
import {
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException as TableNotFoundException,
} from '@aws-sdk/client-dynamodb';
import {
  type _Record,
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  InternalServerError,
  LimitExceededException,
  ResourceNotFoundException,
  TrimmedDataAccessException,
} from '@aws-sdk/client-dynamodb-streams';
import { ConnectFnError, type ConnectFnErrorOptions, Stage } from '../../errors.ts';

/** One change as the stream delivers it (the SDK's shape). */
export type StreamChange = _Record;

/** A shard as DescribeStream lists it. A shard with an `endingSequenceNumber` is closed. */
export interface ShardInfo {
  readonly shardId: string;
  readonly parentShardId?: string;
  readonly startingSequenceNumber?: string;
  readonly endingSequenceNumber?: string;
}

/** One page of DescribeStream. */
export interface StreamPage {
  readonly tableName: string | undefined;
  /** The table's key attributes, hash key first. */
  readonly keyAttributes: readonly string[];
  readonly shards: readonly ShardInfo[];
  /** Where the next page starts; absent on the last page. */
  readonly lastEvaluatedShardId?: string;
}

/** Where a shard iterator points. */
export type IteratorPosition =
  | { readonly type: 'TRIM_HORIZON' | 'LATEST' }
  | { readonly type: 'AFTER_SEQUENCE_NUMBER'; readonly sequence: string };

/** One GetRecords answer; no `nextIterator` means the shard is closed and was read to its end. */
export interface ChangePage {
  readonly changes: readonly StreamChange[];
  readonly nextIterator?: string;
}

export interface StreamsApi {
  /** The table's current stream ARN; undefined when the table has no stream enabled. */
  latestStreamArn(table: string): Promise<string | undefined>;
  describeStream(streamArn: string, exclusiveStartShardId?: string): Promise<StreamPage>;
  /** `signal` aborts the call (a read-ahead dropped when the task stops), as for {@link changes}. */
  shardIterator(
    streamArn: string,
    shardId: string,
    position: IteratorPosition,
    signal?: AbortSignal,
  ): Promise<string>;
  /** One GetRecords; `signal` aborts it (a read-ahead dropped when the task stops). */
  changes(iterator: string, limit: number, signal?: AbortSignal): Promise<ChangePage>;
}

/** Errors of the stream, each with a stable code; all happen while polling. */
abstract class StreamError extends ConnectFnError {
  constructor(message: string, options: ConnectFnErrorOptions = {}) {
    super(message, { stage: Stage.TASK_POLL, ...options });
  }
}

/** A shard iterator older than 15 minutes: the reader asks for a new one at the same place. */
export class StreamIteratorExpiredError extends StreamError {
  readonly code = 'CONNECT_FN_STREAM_ITERATOR_EXPIRED';
}

/**
 * The position asked for is older than the stream keeps (TrimmedDataAccessException): the changes
 * between it and the trim horizon are gone. With `dynamodb.stream.trimmed.policy=fail` this is what the
 * invocation fails with; never retriable (the same offset fails the same way).
 */
export class StreamDataTrimmedError extends StreamError {
  readonly code = 'CONNECT_FN_STREAM_TRIMMED';
}

/** The shard (or the stream) no longer exists: it aged out of the stream, or the stream was disabled. */
export class StreamShardGoneError extends StreamError {
  readonly code = 'CONNECT_FN_STREAM_GONE';
}

/** The table has no stream, or does not exist: a setup problem, not retriable. */
export class StreamUnavailableError extends ConnectFnError {
  readonly code = 'CONNECT_FN_STREAM_UNAVAILABLE';
}

/** Any other failed call; `retriable` for throttling, server errors and network failures. */
export class StreamReadError extends StreamError {
  readonly code = 'CONNECT_FN_STREAM_READ';
}

/** The clients the SDK adapter uses: created once per cold start by the connector. */
export interface StreamsClients {
  readonly dynamodb: DynamoDBClient;
  readonly streams: DynamoDBStreamsClient;
}

function isServerFault(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { $fault?: unknown }).$fault === 'server';
}

/** SDK exceptions become the errors above; `what` names the call for the message. */
function translate(what: string, err: unknown): ConnectFnError {
  const reason = err instanceof Error ? err.message : String(err);
  const message = `${what}: ${reason}`;
  if (err instanceof ExpiredIteratorException) return new StreamIteratorExpiredError(message, { cause: err });
  if (err instanceof TrimmedDataAccessException) return new StreamDataTrimmedError(message, { cause: err });
  if (err instanceof ResourceNotFoundException) return new StreamShardGoneError(message, { cause: err });
  // Throttling, server faults and errors without a service answer (network) may succeed when repeated.
  const retriable =
    err instanceof LimitExceededException ||
    err instanceof InternalServerError ||
    isServerFault(err) ||
    !(typeof err === 'object' && err !== null && '$metadata' in err);
  return new StreamReadError(message, { cause: err, retriable });
}

/**
 * The port over the AWS SDK v3 clients.
 *
 * @example
 * ```ts
 * const api = sdkStreamsApi(clients);
 * const iterator = await api.shardIterator(arn, shardId, { type: 'AFTER_SEQUENCE_NUMBER', sequence });
 * const { changes, nextIterator } = await api.changes(iterator, 1000);
 * ```
 */
export function sdkStreamsApi(clients: StreamsClients): StreamsApi {
  const { dynamodb, streams } = clients;
  return {
    async latestStreamArn(table) {
      try {
        const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: table }));
        return Table?.LatestStreamArn;
      } catch (err) {
        if (err instanceof TableNotFoundException) {
          throw new StreamUnavailableError(`dynamodb-streams: table ${table} does not exist`, { cause: err });
        }
        throw translate(`DescribeTable ${table}`, err);
      }
    },
    async describeStream(streamArn, exclusiveStartShardId) {
      try {
        const { StreamDescription: d } = await streams.send(
          new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: exclusiveStartShardId }),
        );
        const keys = [...(d?.KeySchema ?? [])].sort((a, b) =>
          a.KeyType === 'HASH' ? -1 : b.KeyType === 'HASH' ? 1 : 0,
        );
        return {
          tableName: d?.TableName,
          keyAttributes: keys.flatMap((k) => (k.AttributeName === undefined ? [] : [k.AttributeName])),
          shards: (d?.Shards ?? []).flatMap((s): ShardInfo[] =>
            s.ShardId === undefined
              ? []
              : [
                  {
                    shardId: s.ShardId,
                    ...(s.ParentShardId === undefined ? {} : { parentShardId: s.ParentShardId }),
                    ...(s.SequenceNumberRange?.StartingSequenceNumber === undefined
                      ? {}
                      : { startingSequenceNumber: s.SequenceNumberRange.StartingSequenceNumber }),
                    ...(s.SequenceNumberRange?.EndingSequenceNumber === undefined
                      ? {}
                      : { endingSequenceNumber: s.SequenceNumberRange.EndingSequenceNumber }),
                  },
                ],
          ),
          ...(d?.LastEvaluatedShardId === undefined ? {} : { lastEvaluatedShardId: d.LastEvaluatedShardId }),
        };
      } catch (err) {
        throw translate(`DescribeStream ${streamArn}`, err);
      }
    },
    async shardIterator(streamArn, shardId, position, signal) {
      try {
        const { ShardIterator } = await streams.send(
          new GetShardIteratorCommand({
            StreamArn: streamArn,
            ShardId: shardId,
            ShardIteratorType: position.type,
            ...(position.type === 'AFTER_SEQUENCE_NUMBER' ? { SequenceNumber: position.sequence } : {}),
          }),
          signal === undefined ? {} : { abortSignal: signal },
        );
        if (ShardIterator === undefined) throw new Error('no ShardIterator in the answer');
        return ShardIterator;
      } catch (err) {
        throw translate(`GetShardIterator ${shardId} ${position.type}`, err);
      }
    },
    async changes(iterator, limit, signal) {
      try {
        const { Records, NextShardIterator } = await streams.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }),
          signal === undefined ? {} : { abortSignal: signal },
        );
        return {
          changes: Records ?? [],
          ...(NextShardIterator === undefined || NextShardIterator === null
            ? {}
            : { nextIterator: NextShardIterator }),
        };
      } catch (err) {
        throw translate('GetRecords', err);
      }
    },
  };
}
