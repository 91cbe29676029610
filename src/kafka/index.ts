/**
 * The Kafka adapters (DESIGN.md §1): the client factory, the idempotent and transactional writers, the
 * group-less partition reader, the topic admin (the runtime's `TopicCatalog`) and the sink offsets store
 * in Connect's consumer group, behind the runtime's ports. Only `src/kafka/`,
 * `src/offsets/` and `src/connectors/` import kafkajs.
 * @module
 */
export type { AdminSettings, ClientKind, ConsumerSettings, ProducerSettings } from './client-settings.ts';
export { CONNECTION_KEYS, type ConnectionValues } from './connection.ts';
export {
  GroupInUseError,
  KafkaAuthenticationError,
  KafkaAuthorizationError,
  KafkaOperationError,
  KafkaUnreachableError,
  OffsetOutOfRangeError,
  type OffsetRange,
  TopicMissingError,
} from './errors.ts';
export {
  type GroupOffsetsWriter,
  KafkaGroupOffsetSession,
  KafkaGroupOffsetStore,
  type KafkaGroupOffsetStoreOptions,
  sinkGroupId,
} from './group-offsets.ts';
export { type JaasEntry, JaasSyntaxError, parseJaasConfig } from './jaas.ts';
export {
  type ClientOverrides,
  checkClientOverrides,
  checkKafkaClientConfig,
  createKafkaClients,
  type KafkaClients,
  type KafkaClientsOptions,
  type KafkaWorkerConfig,
  type SinkOffsetStoreOptions,
  transactionalIdFor,
  withClientOverrides,
} from './kafka-clients.ts';
export { describeEndpoint, type Endpoint } from './kafka-failure.ts';
export type { KafkaLogLevel, KafkaLogSink } from './kafka-log.ts';
export type { MskTokenSigner } from './msk-iam.ts';
export { GrouplessPartitionReader } from './partition-reader.ts';
export { IdempotentRecordWriter } from './record-writer.ts';
export { type EnsuredTopic, TopicAdmin, type TopicSpec } from './topic-admin.ts';
export {
  type KafkaTransaction,
  KafkaTransactionalWriter,
  type TransactionalWriterOptions,
} from './transactional-writer.ts';
