/**
 * Records as connectors see them (Kafka Connect's `SourceRecord` / `SinkRecord`), built from one readonly
 * object each — no telescoping constructors.
 * @module
 */

/** A value allowed in source partition and offset maps: Connect allows primitives and null. */
export type OffsetValue = string | number | boolean | null;

/**
 * Where a record came from, e.g. `{"filename": "/data/in.txt"}`. Key order is part of the identity: the
 * Kafka offsets store serialises it as it is (Connect compares the exact key bytes).
 */
export type SourcePartition = Readonly<Record<string, OffsetValue>>;

/** How far the source has been read in one partition, e.g. `{"position": 81920}`. */
export type SourceOffset = Readonly<Record<string, OffsetValue>>;

/** One header: a key and a value the header converter turns into bytes. */
export interface RecordHeader {
  readonly key: string;
  readonly value: unknown;
}

/** A record produced by a source task. */
export interface SourceRecord {
  readonly sourcePartition: SourcePartition;
  readonly sourceOffset: SourceOffset;
  readonly topic: string;
  /** Target Kafka partition; the producer's partitioner chooses when absent. */
  readonly partition?: number;
  /** The key before conversion (a string, bytes, a JSON-like value, or null). */
  readonly key?: unknown;
  /** The value before conversion; null is a tombstone. */
  readonly value: unknown;
  readonly headers?: readonly RecordHeader[];
  /** Epoch ms; the producer's time when absent. */
  readonly timestamp?: number;
}

/** One committed (or to-be-committed) offset: `offset: null` deletes the partition's offset. */
export interface OffsetEntry {
  readonly partition: SourcePartition;
  readonly offset: SourceOffset | null;
}
