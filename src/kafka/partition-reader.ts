/**
 * The group-less `PartitionReader`: reads partitions read_committed without joining a consumer group.
 *
 * kafkajs has no manual assignment (`consumer.run()` always joins a group, and a join into an empty group
 * waits `group.initial.rebalance.delay.ms`, 3 s by default). So we take kafkajs' own `Cluster` — handed to
 * a partition assigner factory when a consumer is constructed, never used for a join — and talk to the
 * partition leaders directly (partition-fetch.ts). The consumer is only ever connected, never run.
 *
 * A read ends at `untilOffset` (an end the caller saw stable: a fetch that still reports an earlier last
 * stable offset is asked again, never stepped past), or without one at the partition's end (its last stable
 * offset when the read started); at the deadline; or after `maxBytes`. It never waits for new records. Leader changes and lost connections
 * are retried with fresh metadata until the deadline; an offset outside the partition throws
 * `OffsetOutOfRangeError` carrying the partition's range, for the caller's `auto.offset.reset`.
 *
 * @example
 * ```ts
 * const reader = clients.partitionReader();
 * for await (const batch of reader.read({ topic: 'orders', partition: 0, fromOffset: 0, deadlineMs })) {
 *   for (const record of batch) handle(record);
 * }
 * await reader.close();
 * ```
 * @module
 */
import type { Broker, Cluster, Consumer, Kafka } from 'kafkajs';
import type { FetchedRecord, PartitionRead, PartitionReader, PositionedBatch } from '../runtime/ports.ts';
import type { ConsumerSettings } from './client-settings.ts';
import { OffsetOutOfRangeError, TopicMissingError } from './errors.ts';
import { type Endpoint, errorChain, isTransientKafkaError, kafkaFailure } from './kafka-failure.ts';
import { EARLIEST, fetchPartition, LATEST, listOffsets } from './partition-fetch.ts';
import { consumerWithCluster } from './raw-cluster.ts';
import { fetchedBytes } from './records.ts';

/** kafkajs requires a group id to build a consumer; this one is never joined (tests assert it). */
const UNUSED_GROUP_ID = 'connect-fn-groupless-reader';
function isOffsetOutOfRange(err: unknown): boolean {
  return errorChain(err).some(
    (l) => l.name === 'KafkaJSOffsetOutOfRange' || l.type === 'OFFSET_OUT_OF_RANGE',
  );
}

export interface ReaderContext {
  readonly kafka: Kafka;
  readonly settings: ConsumerSettings;
  readonly endpoint: Endpoint;
  /** Injected for tests; default wall clock. */
  readonly nowMs?: () => number;
}

/** Pause before fetching again an offset the broker has not made stable yet. */
const NOT_YET_STABLE_PAUSE_MS = 20;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class GrouplessPartitionReader implements PartitionReader {
  readonly #context: ReaderContext;
  readonly #consumer: Consumer;
  readonly #cluster: Cluster;
  readonly #now: () => number;
  #connecting: Promise<void> | undefined;

  constructor(context: ReaderContext) {
    this.#context = context;
    this.#now = context.nowMs ?? Date.now;
    const { settings } = context;
    const { consumer, cluster } = consumerWithCluster(context.kafka, {
      groupId: UNUSED_GROUP_ID,
      retry: settings.retry,
      allowAutoTopicCreation: false,
      readUncommitted: false,
      maxBytes: settings.fetchMaxBytes,
      maxBytesPerPartition: settings.partitionFetchMaxBytes,
      ...(settings.metadataMaxAgeMs === undefined ? {} : { metadataMaxAge: settings.metadataMaxAgeMs }),
    });
    this.#consumer = consumer;
    this.#cluster = cluster;
  }

  async endOffsets(topic: string, partitions: readonly number[]): Promise<ReadonlyMap<number, number>> {
    const deadlineMs = this.#now() + (this.#context.settings.requestTimeoutMs ?? 30_000);
    return this.#offsets(topic, partitions, LATEST, deadlineMs);
  }

  /**
   * The high watermark of each partition: past the last stable offset when a transaction is open (its
   * records, and committed records after it, are not readable read_committed until it ends).
   */
  async highWatermarks(topic: string, partitions: readonly number[]): Promise<ReadonlyMap<number, number>> {
    const deadlineMs = this.#now() + (this.#context.settings.requestTimeoutMs ?? 30_000);
    return this.#offsets(topic, partitions, LATEST, deadlineMs, false);
  }

  /** The log start offset of each partition: where `auto.offset.reset=earliest` starts. */
  async startOffsets(topic: string, partitions: readonly number[]): Promise<ReadonlyMap<number, number>> {
    const deadlineMs = this.#now() + (this.#context.settings.requestTimeoutMs ?? 30_000);
    return this.#offsets(topic, partitions, EARLIEST, deadlineMs);
  }

  async *read(request: PartitionRead): AsyncIterable<readonly FetchedRecord[]> {
    for await (const batch of this.readPositioned(request)) {
      if (batch.records.length > 0) yield batch.records;
    }
  }

  async *readPositioned(request: PartitionRead): AsyncIterable<PositionedBatch> {
    const { topic, partition, untilOffset, maxBytes, deadlineMs } = request;
    let offset = request.fromOffset;
    // A caller's end (a settled ListOffsets) is trusted over a fetch's: under load a fetch can report a
    // last stable offset behind one the caller already saw, and ending there would read too little.
    let stopAt = untilOffset ?? Number.POSITIVE_INFINITY;
    let endKnown = untilOffset !== undefined;
    let bytes = 0;
    while (offset < stopAt && this.#now() < deadlineMs) {
      const budget =
        maxBytes === undefined ? this.#context.settings.partitionFetchMaxBytes : maxBytes - bytes;
      const maxFetchBytes = Math.max(1, Math.min(budget, this.#context.settings.partitionFetchMaxBytes));
      const fetched = await this.#fetch(topic, partition, offset, maxFetchBytes, deadlineMs);
      if (!endKnown) {
        endKnown = true;
        stopAt = Math.min(stopAt, fetched.endOffset);
      }
      const records = fetched.records.filter((r) => r.offset < stopAt);
      if (fetched.nextOffset > offset) {
        offset = fetched.nextOffset;
      } else if (fetched.endOffset > offset) {
        // Stable, yet no batch came back: only empty batches here (compaction keeps them for producer state).
        offset += 1;
      } else {
        // This broker has not made `offset` stable yet, though the caller's end is past it: ask again,
        // never step over it (the deadline ends the wait, and the caller sees the read fell short).
        await sleep(Math.max(0, Math.min(NOT_YET_STABLE_PAUSE_MS, deadlineMs - this.#now())));
        continue;
      }
      // Records at or past the end are left for the next read: the position stops at the end.
      yield { records, nextOffset: Math.min(offset, stopAt) };
      for (const record of records) bytes += fetchedBytes(record);
      if (maxBytes !== undefined && bytes >= maxBytes) return;
    }
  }

  async close(): Promise<void> {
    await this.#consumer.disconnect();
  }

  async #connect(): Promise<void> {
    this.#connecting ??= this.#consumer.connect().catch((err: unknown) => {
      this.#connecting = undefined;
      throw kafkaFailure(err, this.#context.endpoint, 'connecting');
    });
    await this.#connecting;
  }

  /** The leader of `partition`, with metadata for `topic` loaded (TopicMissingError if there is none). */
  async #leader(topic: string, partition: number): Promise<Broker> {
    await this.#connect();
    try {
      await this.#cluster.addTargetTopic(topic);
    } catch (err) {
      throw kafkaFailure(err, this.#context.endpoint, `reading ${topic}`, topic);
    }
    const leaders = this.#cluster.findLeaderForPartitions(topic, [partition]);
    const nodeId = Object.keys(leaders)[0];
    if (nodeId === undefined) {
      const count = this.#cluster.findTopicPartitionMetadata(topic).length;
      throw new TopicMissingError(topic, `topic ${topic} has no partition ${partition} (it has ${count})`);
    }
    return this.#cluster.findBroker({ nodeId });
  }

  async #fetch(topic: string, partition: number, offset: number, maxBytes: number, deadlineMs: number) {
    try {
      return await this.#retrying(`reading ${topic}-${partition}`, deadlineMs, async () =>
        fetchPartition(await this.#leader(topic, partition), { topic, partition, offset, maxBytes }),
      );
    } catch (err) {
      if (!isOffsetOutOfRange(err)) throw err;
      const range = {
        startOffset: (await this.#offsets(topic, [partition], EARLIEST, deadlineMs)).get(partition) ?? 0,
        endOffset: (await this.#offsets(topic, [partition], LATEST, deadlineMs)).get(partition) ?? 0,
      };
      throw new OffsetOutOfRangeError({ topic, partition, offset }, range);
    }
  }

  async #offsets(
    topic: string,
    partitions: readonly number[],
    at: typeof LATEST | typeof EARLIEST,
    deadlineMs: number,
    committedOnly = true,
  ) {
    const action = `listing offsets of ${topic}`;
    return this.#retrying(action, deadlineMs, async () => {
      const result = new Map<number, number>();
      const byLeader = new Map<Broker, number[]>();
      for (const partition of partitions) {
        const leader = await this.#leader(topic, partition);
        byLeader.set(leader, [...(byLeader.get(leader) ?? []), partition]);
      }
      for (const [leader, ps] of byLeader) {
        for (const [p, o] of await listOffsets(leader, topic, ps, at, committedOnly)) result.set(p, o);
      }
      return result;
    });
  }

  /**
   * `attempt` until it succeeds, fails for good, or the next try would pass the deadline. Between tries:
   * fresh metadata and a doubling pause (100 ms up to `retry.backoff.max.ms`).
   */
  async #retrying<T>(action: string, deadlineMs: number, attempt: () => Promise<T>): Promise<T> {
    let pauseMs = 100;
    while (true) {
      try {
        return await attempt();
      } catch (err) {
        if (isOffsetOutOfRange(err) || err instanceof TopicMissingError) throw err;
        if (!isTransientKafkaError(err) || this.#now() + pauseMs >= deadlineMs) {
          throw kafkaFailure(err, this.#context.endpoint, action);
        }
      }
      await sleep(pauseMs);
      pauseMs = Math.min(pauseMs * 2, this.#context.settings.retry.maxRetryTime);
      await this.#cluster.refreshMetadata().catch(() => undefined);
    }
  }
}
