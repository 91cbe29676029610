/**
 * The at-least-once writer behind the runtime's `RecordWriter` port: an idempotent kafkajs producer
 * (acks=all, sequence numbers per partition, so a retried request is not written twice).
 * @module
 */
import { type Kafka, Partitioners, type Producer, type TopicMessages } from 'kafkajs';
import type { KafkaRecord, RecordWriter } from '../runtime/ports.ts';
import type { ProducerSettings } from './client-settings.ts';
import { type Endpoint, kafkaFailure } from './kafka-failure.ts';
import { produceRequests, refusedAsTooLarge, requestLength } from './records.ts';

/** acks=all: the leader answers once every in-sync replica has the records. */
export const ACKS_ALL = -1;

/** How a producer reaches Kafka, shared by both writers. */
export interface ProducerContext {
  readonly kafka: Kafka;
  readonly settings: ProducerSettings;
  readonly endpoint: Endpoint;
}

/** `producing to a, b`: the action part of an error message. */
export function producingTo(request: readonly TopicMessages[]): string {
  return `producing to ${request.map((t) => t.topic).join(', ')}`;
}

/** Sends one produce request and waits for every acknowledgement; errors are ours (see kafka-failure.ts). */
export async function sendRequest(
  sender: Pick<Producer, 'sendBatch'>,
  request: TopicMessages[],
  context: ProducerContext,
): Promise<void> {
  try {
    await sender.sendBatch({
      topicMessages: request,
      acks: ACKS_ALL,
      timeout: context.settings.requestTimeoutMs ?? 30_000,
      compression: context.settings.compression,
    });
  } catch (err) {
    // A transaction's request also carries the offsets topic; a missing-topic error then names both, as
    // the broker's error does not say which one is missing.
    const topic = request.map((r) => r.topic).join(' or ');
    throw kafkaFailure(err, context.endpoint, producingTo(request), topic === '' ? undefined : topic);
  }
}

/**
 * An idempotent producer. `send` splits records into produce requests of at most `max.request.size`
 * bytes and sends them one after another, so each partition receives records in the order given.
 *
 * @example
 * ```ts
 * const writer = clients.recordWriter();
 * await writer.send([{ topic: 'orders', key: null, value: bytes, headers: [] }]);
 * await writer.close();
 * ```
 */
export class IdempotentRecordWriter implements RecordWriter {
  readonly #context: ProducerContext;
  readonly #producer: Producer;
  #connecting: Promise<void> | undefined;
  #closed = false;

  constructor(context: ProducerContext) {
    this.#context = context;
    this.#producer = context.kafka.producer({
      idempotent: true,
      maxInFlightRequests: context.settings.maxInFlightRequests ?? 5,
      retry: context.settings.retry,
      allowAutoTopicCreation: true,
      createPartitioner: Partitioners.DefaultPartitioner,
      ...(context.settings.metadataMaxAgeMs === undefined
        ? {}
        : { metadataMaxAge: context.settings.metadataMaxAgeMs }),
    });
  }

  /** Connects now instead of on the first send (fails fast on bad credentials or an unreachable broker). */
  async connect(): Promise<void> {
    if (this.#closed) throw new Error('the record writer is closed');
    this.#connecting ??= this.#producer.connect().catch((err: unknown) => {
      this.#connecting = undefined;
      throw kafkaFailure(err, this.#context.endpoint, 'connecting');
    });
    await this.#connecting;
  }

  async send(records: readonly KafkaRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.connect();
    let start = 0;
    for (const request of produceRequests(records, this.#context.settings.maxRequestBytes)) {
      const length = requestLength(request);
      await sendRequest(this.#producer, request, this.#context).catch((err: unknown) => {
        throw refusedAsTooLarge(err, records, start, length);
      });
      start += length;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#producer.disconnect();
  }
}
