/**
 * `offset.storage=kafka`: Kafka Connect's own `connect-offsets` topic, byte for byte (./connect-format.ts),
 * so a connector moves between Connect and connect-fn without losing its position.
 *
 * - Reading never joins a group: for the requested partitions it computes the keys and the topic
 *   partitions they hash to, snapshots those partitions' ends (read_committed: the last stable offset),
 *   and reads only them, from the start (offset 0, or the log start when that is later) to the snapshot.
 *   The last value per key wins; a null value (tombstone) deletes.
 * - Committing (at-least-once) produces the offset records through the {@link RecordWriter} and
 *   resolves once they are acknowledged. Every record names its partition, chosen as Kafka's default
 *   partitioner would, so it does not depend on the producer's partitioner.
 * - Exactly-once: the store is also the {@link OffsetRecordEncoder} whose records join the data records
 *   in the batch's transaction; the transactional id fences older invocations.
 * - No lease: without exactly-once, overlapping invocations of one task are not kept apart here (give
 *   the function reserved concurrency 1, or use exactly-once or the dynamodb store).
 *
 * The topic is created if missing (compacted, `offset.storage.partitions`,
 * `offset.storage.replication.factor`) — unless a connector of the store has run before (./prior-runs.ts):
 * then its offsets were lost with the topic, and `create` throws `OffsetsLostError` instead of starting it
 * over. An existing topic's real partition count is used.
 * @module
 */
import type {
  Clock,
  KafkaRecord,
  OffsetRecordEncoder,
  OffsetStore,
  PartitionReader,
  RecordWriter,
} from '../runtime/ports.ts';
import type { OffsetEntry, SourceOffset } from '../spi/records.ts';
import { decodeValue, partitionForKey, utf8 } from './connect-format.ts';
import { OffsetStorageError } from './errors.ts';
import { type PriorRunCheck, refuseLostOffsets } from './prior-runs.ts';
import {
  type EncodedEntry,
  type EncodedPartition,
  encodeEntries,
  StoredOffsetSession,
} from './stored-session.ts';
import { systemClock } from './system-clock.ts';

/** What the store asks of a Kafka admin client (src/kafka's `TopicAdmin` is one). */
export interface OffsetsTopicAdmin {
  /** Creates the topic unless it exists; resolves with the topic's actual number of partitions. */
  ensureTopic(spec: OffsetsTopicSpec): Promise<{ readonly partitions: number }>;
  topicExists(topic: string): Promise<boolean>;
}

/** The offsets topic as Connect creates it. */
export interface OffsetsTopicSpec {
  readonly topic: string;
  readonly partitions: number;
  /** -1: the broker's default. */
  readonly replicationFactor: number;
  /** Topic configs: `cleanup.policy=compact`. */
  readonly configs: Readonly<Record<string, string>>;
}

export interface KafkaOffsetStoreOptions {
  /** `offset.storage.topic`. */
  readonly topic: string;
  /** `offset.storage.partitions`, used when the topic is created. */
  readonly partitions: number;
  /** `offset.storage.replication.factor`, used when the topic is created. */
  readonly replicationFactor: number;
  readonly admin: OffsetsTopicAdmin;
  /** A read_committed, group-less reader. The store never closes it. */
  readonly reader: PartitionReader;
  /** The at-least-once writer for `commit`; not needed when offsets only go through transactions. */
  readonly writer?: RecordWriter;
  readonly clock?: Clock;
  /** How long one `read` may take; default 30 s. */
  readonly readTimeoutMs?: number;
  /** Asked before a missing topic is created; without it the topic is created whatever happened before. */
  readonly priorRuns?: PriorRunCheck;
}

const DEFAULT_READ_TIMEOUT_MS = 30_000;
/** How often to look again while an open transaction holds an offsets partition back. */
const SETTLE_POLL_MS = 100;
/** The code of src/kafka's OffsetOutOfRangeError, which carries the partition's readable range. */
const OFFSET_OUT_OF_RANGE = 'CONNECT_FN_KAFKA_OFFSET_OUT_OF_RANGE';

/**
 * The Kafka offset store, and the encoder of offset records for exactly-once transactions.
 *
 * @example
 * ```ts
 * const store = await KafkaOffsetStore.create({
 *   topic: 'connect-offsets', partitions: 25, replicationFactor: 3, admin, reader, writer,
 * });
 * const session = await store.open('local-file-source', 0);
 * const [offset] = await session.read([{ filename: '/data/in.txt' }]); // { position: 1234 }
 * await session.commit([{ partition: { filename: '/data/in.txt' }, offset: { position: 2048 } }]);
 * // exactly-once: tx.send([...records, ...store.records('local-file-source', entries)])
 * ```
 */
export class KafkaOffsetStore implements OffsetStore, OffsetRecordEncoder {
  private constructor(
    private readonly options: KafkaOffsetStoreOptions,
    /** The topic's actual partition count. */
    readonly topicPartitions: number,
  ) {}

  /**
   * Creates the topic if it is missing (and no connector of `priorRuns` has run before) and learns its
   * partition count; once per cold start.
   */
  static async create(options: KafkaOffsetStoreOptions): Promise<KafkaOffsetStore> {
    if (options.priorRuns !== undefined && !(await options.admin.topicExists(options.topic))) {
      await refuseLostOffsets(options.priorRuns, options.topic);
    }
    const { partitions: topicPartitions } = await options.admin.ensureTopic({
      topic: options.topic,
      partitions: options.partitions,
      replicationFactor: options.replicationFactor,
      configs: { 'cleanup.policy': 'compact' },
    });
    if (!Number.isInteger(topicPartitions) || topicPartitions < 1) {
      throw new OffsetStorageError(`offsets topic ${options.topic} reports ${topicPartitions} partitions`);
    }
    return new KafkaOffsetStore(options, topicPartitions);
  }

  async open(connector: string, taskId: number, deadlineMs?: number): Promise<KafkaOffsetSession> {
    return new KafkaOffsetSession(connector, taskId, this, this.options, deadlineMs);
  }

  records(connector: string, entries: readonly OffsetEntry[]): readonly KafkaRecord[] {
    return encodeEntries(connector, entries).map((entry) => this.record(entry));
  }

  /** The offset record of one encoded entry. */
  record(entry: EncodedEntry): KafkaRecord {
    const key = utf8(entry.keyJson);
    return {
      topic: this.options.topic,
      partition: this.partitionOf(key),
      key,
      value: entry.valueJson === null ? null : utf8(entry.valueJson),
      headers: [],
    };
  }

  /** The topic partition of a key's bytes. */
  partitionOf(keyBytes: Uint8Array): number {
    return partitionForKey(keyBytes, this.topicPartitions);
  }
}

/** A task's session: reads only the topic partitions its keys hash to. */
export class KafkaOffsetSession extends StoredOffsetSession {
  constructor(
    connector: string,
    taskId: number,
    private readonly store: KafkaOffsetStore,
    private readonly options: KafkaOffsetStoreOptions,
    /** The invocation's budget deadline: reads give up by then at the latest. */
    private readonly sessionDeadlineMs?: number,
  ) {
    super(connector, taskId);
  }

  protected async readStored(partitions: readonly EncodedPartition[]): Promise<Map<string, SourceOffset>> {
    const { topic } = this.options;
    const clock = this.options.clock ?? systemClock;
    const deadlineMs = Math.min(
      clock.nowMs() + (this.options.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS),
      this.sessionDeadlineMs ?? Number.POSITIVE_INFINITY,
    );
    // Keys are matched on their exact bytes, as Connect does; latin1 maps each byte to one char.
    const wanted = new Map<number, Map<string, string>>();
    for (const p of partitions) {
      const key = utf8(p.keyJson);
      const tp = this.store.partitionOf(key);
      if (!wanted.has(tp)) wanted.set(tp, new Map());
      wanted.get(tp)!.set(Buffer.from(key).toString('latin1'), p.keyJson);
    }
    const ends = await this.settledEnds([...wanted.keys()], deadlineMs);
    const reads = [...wanted].map(([tp, keys]) =>
      this.readPartition(tp, ends.get(tp) ?? 0, keys, deadlineMs),
    );
    const found = new Map<string, SourceOffset>();
    for (const latest of await Promise.all(reads)) {
      for (const [keyJson, value] of latest) {
        const offset = decodeValue(value);
        if (offset !== null) found.set(keyJson, offset);
      }
    }
    if (clock.nowMs() >= deadlineMs) {
      // The reader stops quietly at the deadline: what was read may miss later records.
      throw new OffsetStorageError(`reading offsets from ${topic} did not finish in time`, {
        retriable: true,
      });
    }
    return found;
  }

  protected async writeStored(entries: readonly EncodedEntry[]): Promise<void> {
    const { writer, topic } = this.options;
    if (writer === undefined) {
      throw new TypeError(
        `this Kafka offset store has no RecordWriter: offsets to ${topic} go through transactions`,
      );
    }
    await writer.send(entries.map((entry) => this.store.record(entry)));
  }

  async close(): Promise<void> {}

  /**
   * The read_committed end of each offsets partition, once no transaction that was open when the read
   * began still holds it back. A transaction left open by a killed invocation (of any task whose keys hash
   * to the same partition) stops the last stable offset; committed offsets written after it would be
   * invisible, and reading only up to it would hand the task a stale offset — records sent again, under
   * exactly-once. So: wait until the last stable offset reaches the high watermark seen at the start (the
   * transaction commits, aborts, or is fenced or timed out by the broker), or fail retriably.
   */
  private async settledEnds(
    partitions: readonly number[],
    deadlineMs: number,
  ): Promise<ReadonlyMap<number, number>> {
    const { reader, topic } = this.options;
    const clock = this.options.clock ?? systemClock;
    const highs =
      reader.highWatermarks === undefined ? undefined : await reader.highWatermarks(topic, partitions);
    for (;;) {
      const ends = await reader.endOffsets(topic, partitions);
      const blocked =
        highs === undefined ? [] : partitions.filter((p) => (ends.get(p) ?? 0) < (highs.get(p) ?? 0));
      if (blocked.length === 0) return ends;
      if (clock.nowMs() + SETTLE_POLL_MS >= deadlineMs) {
        const where = blocked.map(
          (p) => `${topic}-${p} (stable up to ${ends.get(p)}, written up to ${highs?.get(p)})`,
        );
        throw new OffsetStorageError(
          `an open transaction holds back committed offsets in ${where.join(', ')}; it ends when its producer commits, aborts or is fenced, or after transaction.timeout.ms`,
          { retriable: true },
        );
      }
      await clock.sleep(SETTLE_POLL_MS);
    }
  }

  /** The last value of each wanted key (keyJson → bytes or null) in one topic partition, up to `end`. */
  private async readPartition(
    partition: number,
    end: number,
    keys: ReadonlyMap<string, string>,
    deadlineMs: number,
  ): Promise<Map<string, Uint8Array | null>> {
    const latest = new Map<string, Uint8Array | null>();
    let fromOffset = 0;
    while (fromOffset < end) {
      try {
        const batches = this.options.reader.read({
          topic: this.options.topic,
          partition,
          fromOffset,
          untilOffset: end,
          deadlineMs,
        });
        for await (const batch of batches) {
          for (const record of batch) {
            const keyJson =
              record.key === null ? undefined : keys.get(Buffer.from(record.key).toString('latin1'));
            if (keyJson !== undefined) latest.set(keyJson, record.value);
          }
        }
        return latest;
      } catch (err) {
        const start = logStartOf(err);
        if (start === undefined || start <= fromOffset) throw err;
        // Records before the log start are gone (deleteRecords, or retention next to compaction).
        fromOffset = start;
      }
    }
    return latest;
  }
}

/** The log start offset an out-of-range error reports, if `err` is one. */
function logStartOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null || (err as { code?: unknown }).code !== OFFSET_OUT_OF_RANGE) {
    return undefined;
  }
  const start = (err as { range?: { startOffset?: unknown } }).range?.startOffset;
  return typeof start === 'number' ? start : undefined;
}
