/**
 * Single requests of the group-less reader, straight to a partition leader through kafkajs' `Broker`:
 * Fetch (read_committed, one partition) and ListOffsets (read_committed), with their responses narrowed
 * from kafkajs' untyped results. The only module that touches kafkajs internals (`Batch`).
 * @module
 */

import type { Broker } from 'kafkajs';
import Batch, { type FetchedPartitionData, type RawMessage } from 'kafkajs/src/consumer/batch.js';
import type { FetchedRecord } from '../runtime/ports.ts';
import { fromMessage } from './records.ts';

/** Kafka's isolation levels; we only ever read committed data. */
const READ_COMMITTED = 1;
const READ_UNCOMMITTED = 0;
/** ListOffsets timestamps meaning "end" and "start" of the partition. */
export const LATEST = -1;
export const EARLIEST = -2;

/** What one fetch of one partition gave. */
export interface PartitionFetch {
  /** Committed records at or after the fetch offset: no aborted, no control records. */
  readonly records: readonly FetchedRecord[];
  /** Where the next fetch starts: past every batch returned, including control and aborted ones. */
  readonly nextOffset: number;
  /** The last stable offset when fetched: read_committed reading ends there. */
  readonly endOffset: number;
}

export interface FetchRequest {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Bytes asked for; Kafka returns at least one record batch whatever it is. */
  readonly maxBytes: number;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function partitionOf(
  response: unknown,
  request: FetchRequest,
): FetchedPartitionData & { lastStableOffset?: string } {
  const responses = isObject(response) ? response.responses : undefined;
  if (Array.isArray(responses)) {
    for (const topic of responses) {
      if (!isObject(topic) || topic.topicName !== request.topic || !Array.isArray(topic.partitions)) continue;
      const found: unknown = topic.partitions.find(
        (p: unknown) => isObject(p) && p.partition === request.partition,
      );
      if (isObject(found) && Array.isArray(found.messages) && typeof found.highWatermark === 'string') {
        return found as unknown as FetchedPartitionData & { lastStableOffset?: string };
      }
    }
  }
  throw new Error(`fetch response has no data for ${request.topic}-${request.partition}`);
}

/** The offset after the last record batch that `messages` came from. */
function offsetAfter(messages: readonly RawMessage[], fetchOffset: number): number {
  let next = fetchOffset;
  for (const message of messages) {
    const context = message.batchContext;
    const end =
      context === undefined ? Number(message.offset) : Number(context.firstOffset) + context.lastOffsetDelta;
    if (end + 1 > next) next = end + 1;
  }
  return next;
}

/**
 * One read_committed Fetch of one partition from its leader. Returns at once (max wait 0): the reader only
 * asks for offsets below the partition's end. Protocol errors are thrown as kafkajs raises them
 * (`KafkaJSOffsetOutOfRange`, `KafkaJSProtocolError` with `type`).
 */
export async function fetchPartition(leader: Broker, request: FetchRequest): Promise<PartitionFetch> {
  const response: unknown = await leader.fetch({
    replicaId: -1,
    isolationLevel: READ_COMMITTED,
    maxWaitTime: 0,
    minBytes: 1,
    maxBytes: request.maxBytes,
    topics: [
      {
        topic: request.topic,
        partitions: [
          { partition: request.partition, fetchOffset: String(request.offset), maxBytes: request.maxBytes },
        ],
      },
    ],
  });
  const data = partitionOf(response, request);
  const batch = new Batch(request.topic, String(request.offset), data);
  const lastStable = Number(data.lastStableOffset ?? -1);
  return {
    records: batch.messages.map((m) => fromMessage(request.topic, request.partition, m)),
    nextOffset: offsetAfter(batch.rawMessages, request.offset),
    endOffset: lastStable >= 0 ? lastStable : Number(data.highWatermark),
  };
}

/** `Broker.listOffsets`, which kafkajs has but does not declare. */
interface OffsetsBroker {
  listOffsets(request: {
    replicaId: number;
    isolationLevel: number;
    topics: { topic: string; partitions: { partition: number; timestamp: number }[] }[];
  }): Promise<unknown>;
}

function hasListOffsets(broker: unknown): broker is OffsetsBroker {
  return isObject(broker) && typeof broker.listOffsets === 'function';
}

/**
 * ListOffsets of `partitions` of `topic` on their leader: `LATEST` gives the last stable offset
 * (read_committed, the default) or the high watermark (`committedOnly` false), `EARLIEST` the log start.
 */
export async function listOffsets(
  leader: Broker,
  topic: string,
  partitions: readonly number[],
  timestamp: typeof LATEST | typeof EARLIEST,
  committedOnly = true,
): Promise<Map<number, number>> {
  if (!hasListOffsets(leader)) throw new Error('kafkajs broker has no listOffsets');
  const response = await leader.listOffsets({
    replicaId: -1,
    isolationLevel: committedOnly ? READ_COMMITTED : READ_UNCOMMITTED,
    topics: [{ topic, partitions: partitions.map((partition) => ({ partition, timestamp })) }],
  });
  const offsets = new Map<number, number>();
  const responses = isObject(response) && Array.isArray(response.responses) ? response.responses : [];
  for (const entry of responses) {
    if (!isObject(entry) || entry.topic !== topic || !Array.isArray(entry.partitions)) continue;
    for (const p of entry.partitions) {
      if (isObject(p) && typeof p.partition === 'number') offsets.set(p.partition, Number(p.offset));
    }
  }
  return offsets;
}
