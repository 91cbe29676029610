/**
 * The offset stores behind the runtime's `OffsetStore` port (DESIGN.md §4): `kafka` (Kafka Connect's
 * connect-offsets topic, byte for byte), `dynamodb` (a table with a fencing lease per task) and `file`
 * (local runs). Composition roots pick one by `offset.storage`. Sink connectors keep theirs in the
 * `dynamodb` and `file` stores through `sinkOffsetsIn` (Connect's REST shape); with `kafka`, in Connect's
 * consumer group (src/kafka/group-offsets.ts).
 *
 * @example
 * ```ts
 * import { DynamoDbOffsetStore, dynamoDbClientConfig } from '../offsets/index.ts';
 * const client = new DynamoDBClient(dynamoDbClientConfig({ region, endpoint })); // once per cold start
 * const offsets = new DynamoDbOffsetStore({ client, table: worker['offset.storage.table'] });
 * ```
 * @module
 */
export {
  decodeKey,
  decodeValue,
  encodeKey,
  encodePartition,
  encodeValue,
  murmur2,
  partitionForKey,
  toPositive,
  utf8,
} from './connect-format.ts';
export { acquireLease, type LeaseGrant, releaseLease } from './dynamodb-lease.ts';
export {
  DynamoDbOffsetSession,
  DynamoDbOffsetStore,
  type DynamoDbOffsetStoreOptions,
} from './dynamodb-store.ts';
export {
  dynamoDbClient,
  dynamoDbClientConfig,
  ensureOffsetsTable,
  offsetsTableDefinition,
} from './dynamodb-table.ts';
export { OffsetFormatError, OffsetStorageError, OffsetsLostError } from './errors.ts';
export { FileOffsetStore, type FileOffsetStoreOptions } from './file-store.ts';
export {
  KafkaOffsetSession,
  KafkaOffsetStore,
  type KafkaOffsetStoreOptions,
  type OffsetsTopicAdmin,
  type OffsetsTopicSpec,
} from './kafka-store.ts';
export { isTaskTransactionalId, type PriorRunCheck, refuseLostOffsets } from './prior-runs.ts';
export { sinkOffset, sinkOffsetsIn, sinkPartition } from './sink-offsets.ts';
export { systemClock } from './system-clock.ts';
