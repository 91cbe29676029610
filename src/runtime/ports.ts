/**
 * The ports the runtime talks to the world through (DESIGN.md §1): the runtime never imports kafkajs or
 * the AWS SDK. Adapters live in `src/kafka/` and `src/offsets/`; unit tests use in-memory fakes.
 *
 * Kafka offsets are JavaScript numbers: exact up to 2^53, far beyond any real partition's offsets.
 * @module
 */
import type { OffsetEntry, SourceOffset, SourcePartition } from '../spi/records.ts';
import type { TopicPartition, TopicPartitionOffset } from '../spi/sink.ts';

/** A header as bytes. */
export interface KafkaHeader {
  readonly key: string;
  readonly value: Uint8Array | null;
}

/** A record as it is written to Kafka: already converted to bytes. */
export interface KafkaRecord {
  readonly topic: string;
  /** Explicit partition; the default partitioner (murmur2 of the key) when absent. */
  readonly partition?: number;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: readonly KafkaHeader[];
  readonly timestampMs?: number;
}

/** A record as read from Kafka. */
export interface FetchedRecord extends KafkaRecord {
  readonly partition: number;
  readonly offset: number;
  readonly timestampMs: number;
}

/** At-least-once writer: an idempotent producer with acks=all. */
export interface RecordWriter {
  /** Sends `records` in order; resolves once every one is acknowledged, rejects if any is not. */
  send(records: readonly KafkaRecord[]): Promise<void>;
  close(): Promise<void>;
}

/** One open Kafka transaction. */
export interface Transaction {
  send(records: readonly KafkaRecord[]): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/**
 * Exactly-once writer: a transactional producer with id `<group.id>-<connector>-<task>`. The first
 * `begin()` of a writer initialises the producer id, which fences every older producer with the same id;
 * a writer that has been fenced throws `FencedError` from any call.
 */
export interface TransactionalWriter {
  begin(): Promise<Transaction>;
  close(): Promise<void>;
}

/** The offsets of one task for one invocation. */
export interface OffsetSession {
  /** Committed offsets of `partitions`, in order (undefined where none is committed). */
  read(partitions: readonly SourcePartition[]): Promise<readonly (SourceOffset | undefined)[]>;
  /**
   * Makes `entries` durable (at-least-once). Throws `FencedError` when the session no longer owns the
   * task (its lease was taken over): nothing is written then.
   */
  commit(entries: readonly OffsetEntry[]): Promise<void>;
  /** Releases the session (and its lease). Never throws for an already-lost lease. */
  close(): Promise<void>;
}

/** Where offsets live: `kafka` (Connect's connect-offsets topic), `dynamodb` or `file`. */
export interface OffsetStore {
  /**
   * Opens the session of task `taskId` of `connector`, taking its lease where the store has leases. A
   * store whose reads can wait (the Kafka store, for an open transaction) gives up by `deadlineMs`, the
   * invocation's budget, with its own retriable error.
   */
  open(connector: string, taskId: number, deadlineMs?: number): Promise<OffsetSession>;
}

/**
 * The Kafka offsets store's encoding, for exactly-once sources: the offset records that join the data
 * records in one transaction (Connect's connect-offsets format, partitioned by murmur2 of the key).
 */
export interface OffsetRecordEncoder {
  records(connector: string, entries: readonly OffsetEntry[]): readonly KafkaRecord[];
}

/** One read of a topic partition. */
export interface PartitionRead {
  readonly topic: string;
  readonly partition: number;
  /** First offset to return. */
  readonly fromOffset: number;
  /**
   * Stop before this offset, which must be stable (from `endOffsets`): the read waits for the broker
   * rather than end short of it. The partition's end (last stable offset) when absent.
   */
  readonly untilOffset?: number;
  /** Stop reading after roughly this many bytes of record data. */
  readonly maxBytes?: number;
  /** Stop by this epoch ms. */
  readonly deadlineMs: number;
}

/** The records of one fetch, and the offset after everything fetched (control and aborted batches too). */
export interface PositionedBatch {
  readonly records: readonly FetchedRecord[];
  /** Where reading continues: what a consumer commits once it has handled `records`. */
  readonly nextOffset: number;
}

/**
 * Reads partitions without joining a consumer group (read_committed: aborted transactions and control
 * records are skipped). Leader changes are retried with fresh metadata.
 */
export interface PartitionReader {
  /** The end (last stable offset) of each partition of `topic`. */
  endOffsets(topic: string, partitions: readonly number[]): Promise<ReadonlyMap<number, number>>;
  /**
   * The high watermark of each partition. Beyond `endOffsets` while a transaction is open: committed
   * records after an open transaction stay invisible to read_committed readers until it ends.
   */
  highWatermarks?(topic: string, partitions: readonly number[]): Promise<ReadonlyMap<number, number>>;
  /** Yields batches from `fromOffset`, in offset order, until `untilOffset` / the end / a limit. */
  read(request: PartitionRead): AsyncIterable<readonly FetchedRecord[]>;
  /**
   * As `read`, with the position after each batch; also yields a batch with no records when only control
   * records (transaction markers), aborted or compacted batches moved the position.
   */
  readPositioned?(request: PartitionRead): AsyncIterable<PositionedBatch>;
}

/**
 * The committed positions of one sink task's partitions, for one invocation. Opening it fences every
 * older invocation of the task: from then on their commits are refused.
 */
export interface SinkOffsetSession {
  /** The committed next offset of each of `partitions`, in order (undefined where none is committed). */
  read(partitions: readonly TopicPartition[]): Promise<readonly (number | undefined)[]>;
  /**
   * Commits `offsets` (each the next offset to read). Throws `FencedError` when a newer invocation of the
   * task has opened its session: nothing is committed then.
   */
  commit(offsets: readonly TopicPartitionOffset[]): Promise<void>;
  /** Releases the session. Never throws for a session already fenced. */
  close(): Promise<void>;
}

/**
 * Where sink offsets live: Kafka Connect's consumer group `connect-<connector>` (offset.storage=kafka), or
 * the source offsets' stores with Connect's REST shape (`{"kafka_topic","kafka_partition"}` →
 * `{"kafka_offset"}`).
 */
export interface SinkOffsetStore {
  open(connector: string, taskId: number): Promise<SinkOffsetSession>;
}

/** The topics of the cluster and their partition counts, for assigning partitions to sink tasks. */
export interface TopicCatalog {
  /** The names of all topics, internal ones (`__consumer_offsets`, `__transaction_state`) left out. */
  topics(): Promise<readonly string[]>;
  /** The partition count of `topic`; throws `TopicMissingError` when it does not exist. */
  partitionCount(topic: string): Promise<number>;
}

/** Time, injected so cycles are testable. */
export interface Clock {
  nowMs(): number;
  /**
   * Resolves after `ms`; when `signal` aborts first, rejects at once and leaves no timer behind (the hard
   * deadline's sleep is cancelled when the work it guards settles). A fake clock may ignore `signal`.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}
