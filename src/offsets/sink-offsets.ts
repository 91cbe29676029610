/**
 * Sink offsets in the source offsets' stores (`offset.storage=dynamodb` or `file`), in Kafka Connect's REST
 * shape (KIP-875, DESIGN.md §4): one entry per topic partition,
 *
 * ```
 * partition {"kafka_topic":"orders","kafka_partition":0}   (exactly this field order: the stored key bytes)
 * offset    {"kafka_offset":42}                            (the next offset to read, as Connect commits it)
 * ```
 *
 * so the DynamoDB item of a sink partition has `pk` = connector, `sk` = the partition JSON, `offset` = the
 * offset JSON. Fencing is the store's own: a DynamoDB session whose lease a newer invocation took over
 * gets `FencedError` and writes nothing. The file store has no lease (local runs by one process).
 * With `offset.storage=kafka` sink offsets live in Connect's consumer group instead (src/kafka/group-offsets.ts).
 * @module
 */
import type { OffsetSession, OffsetStore, SinkOffsetSession, SinkOffsetStore } from '../runtime/ports.ts';
import type { SourceOffset, SourcePartition } from '../spi/records.ts';
import type { TopicPartition, TopicPartitionOffset } from '../spi/sink.ts';
import { OffsetFormatError } from './errors.ts';

/**
 * The stored partition of `tp`: `{"kafka_topic":t,"kafka_partition":p}`, in that order.
 *
 * @example
 * ```ts
 * encodePartition(sinkPartition({ topic: 'orders', partition: 0 })); // '{"kafka_topic":"orders","kafka_partition":0}'
 * ```
 */
export function sinkPartition(tp: TopicPartition): SourcePartition {
  return { kafka_topic: tp.topic, kafka_partition: tp.partition };
}

/** The stored offset of next offset `offset`: `{"kafka_offset":offset}`. */
export function sinkOffset(offset: number): SourceOffset {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new RangeError(`a sink offset must be an integer >= 0, got ${offset}`);
  }
  return { kafka_offset: offset };
}

/**
 * The sink offsets store over `store` (a `DynamoDbOffsetStore` or `FileOffsetStore`).
 *
 * @example
 * ```ts
 * const sinkOffsets = sinkOffsetsIn(new DynamoDbOffsetStore({ client, table }));
 * const session = await sinkOffsets.open('s3-sink', 0); // takes task 0's lease
 * const [next] = await session.read([{ topic: 'orders', partition: 0 }]);
 * await session.commit([{ topic: 'orders', partition: 0, offset: 42 }]); // FencedError if taken over
 * await session.close();
 * ```
 */
export function sinkOffsetsIn(store: OffsetStore): SinkOffsetStore {
  return {
    open: async (connector, taskId) => new StoredSinkOffsetSession(await store.open(connector, taskId)),
  };
}

class StoredSinkOffsetSession implements SinkOffsetSession {
  readonly #session: OffsetSession;

  constructor(session: OffsetSession) {
    this.#session = session;
  }

  async read(partitions: readonly TopicPartition[]): Promise<readonly (number | undefined)[]> {
    const stored = await this.#session.read(partitions.map(sinkPartition));
    return stored.map((offset, i) => (offset === undefined ? undefined : nextOffset(partitions[i]!, offset)));
  }

  async commit(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    // Every offset is checked before anything is written.
    const entries = offsets.map((o) => ({ partition: sinkPartition(o), offset: sinkOffset(o.offset) }));
    await this.#session.commit(entries);
  }

  async close(): Promise<void> {
    await this.#session.close();
  }
}

/** The next offset a stored `{"kafka_offset":N}` holds; `OffsetFormatError` for anything else. */
function nextOffset(tp: TopicPartition, stored: SourceOffset): number {
  const offset = stored.kafka_offset;
  if (typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0) return offset;
  throw new OffsetFormatError(
    `the stored offset of ${tp.topic}-${tp.partition} is not {"kafka_offset":<integer >= 0>}; ` +
      `its fields are ${JSON.stringify(Object.keys(stored))}`,
  );
}
