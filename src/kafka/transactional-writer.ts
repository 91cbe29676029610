/**
 * The exactly-once writer behind the runtime's `TransactionalWriter` port: a kafkajs transactional
 * producer (`idempotent`, one request in flight) with the caller's transactional id,
 * `<group.id>-<connector>-<task>`.
 *
 * Fencing: the first `begin()` sends InitProducerId, which bumps the id's epoch, aborts whatever an older
 * producer with the same id left open, and fences that producer: its next request fails with
 * INVALID_PRODUCER_EPOCH (PRODUCER_FENCED on newer protocol versions). Those errors become `FencedError`,
 * and a fenced writer throws `FencedError` from every call after that.
 *
 * A commit or abort that fails for another reason leaves kafkajs' transaction state machine stuck
 * (it cannot retry EndTxn), so the next `begin()` replaces the producer: its InitProducerId aborts the
 * unfinished transaction on the broker, and the writer carries on.
 *
 * Beyond the runtime's `Transaction` port, a transaction can also commit a consumer group's offsets
 * ({@link KafkaTransaction.sendOffsets}): what the sink offsets store of `offset.storage=kafka` uses.
 * @module
 */
import { type Transaction as KafkajsTransaction, Partitioners, type Producer } from 'kafkajs';
import { FencedError } from '../errors.ts';
import type { KafkaRecord, Transaction, TransactionalWriter } from '../runtime/ports.ts';
import type { TopicPartitionOffset } from '../spi/sink.ts';
import { hasKafkaType, kafkaFailure } from './kafka-failure.ts';
import { type ProducerContext, sendRequest } from './record-writer.ts';
import { produceRequests, refusedAsTooLarge, requestLength } from './records.ts';

/** Kafka's answers to a producer that a newer one with the same transactional id has replaced. */
const FENCED_TYPES: ReadonlySet<string> = new Set([
  'INVALID_PRODUCER_EPOCH',
  'PRODUCER_FENCED',
  'INVALID_PRODUCER_ID_MAPPING',
]);
/** kafkajs 2.2.4 predates PRODUCER_FENCED (90) and reports it as an unknown code. */
const UNKNOWN_PRODUCER_FENCED = /Unknown error code 90\b/;

/**
 * Answers to `sendOffsets` worth another try. CONCURRENT_TRANSACTIONS: this producer's previous
 * transaction is still completing (its markers are written after EndTxn returned); Kafka's clients retry
 * it, kafkajs' `sendOffsets` does not (kafkajs issue #430). The group coordinator loading or moving: kafkajs
 * means to retry these, but under names its own error table does not use (`COORDINATOR_LOAD_IN_PROGRESS`
 * for `GROUP_LOAD_IN_PROGRESS`), so it never does.
 * Each try asks for the coordinators afresh. Pauses double from 20 ms up to 1 s, at most 10 tries (~5 s in
 * all; a commit normally completes within tens of ms).
 */
const SEND_OFFSETS_RETRIABLE: ReadonlySet<string> = new Set([
  'CONCURRENT_TRANSACTIONS',
  'GROUP_LOAD_IN_PROGRESS',
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR_FOR_GROUP',
]);
const SEND_OFFSETS_TRIES = 10;
const FIRST_PAUSE_MS = 20;
const MAX_PAUSE_MS = 1_000;

function isFencing(err: unknown): boolean {
  if (hasKafkaType(err, FENCED_TYPES)) return true;
  let current: unknown = err;
  for (let depth = 0; current instanceof Error && depth < 8; depth += 1) {
    if (UNKNOWN_PRODUCER_FENCED.test(current.message)) return true;
    current = current.cause;
  }
  return false;
}

export interface TransactionalWriterOptions {
  /**
   * The producer's `transaction.timeout.ms` unless the worker sets `producer.transaction.timeout.ms`:
   * how long the broker lets a transaction stay open before it aborts it (a killed invocation's transaction
   * holds back read_committed readers of its partitions until then).
   */
  readonly transactionTimeoutMs?: number;
}

type WriterState = 'ready' | 'in-transaction' | 'needs-new-producer' | 'fenced' | 'closed';

/** One open Kafka transaction of {@link KafkaTransactionalWriter}: the runtime's port, plus group offsets. */
export interface KafkaTransaction extends Transaction {
  /**
   * Adds `offsets` (each the next offset to read) of consumer group `groupId` to the transaction
   * (AddOffsetsToTxn, then TxnOffsetCommit, without joining the group): they become the group's committed
   * offsets when the transaction commits and are discarded if it aborts or its producer is fenced.
   * CONCURRENT_TRANSACTIONS and a loading or moved group coordinator are retried, within ~5 s. Throws
   * `FencedError` once a newer producer with the same transactional id has begun; after any other
   * failure, abort the transaction.
   */
  sendOffsets(groupId: string, offsets: readonly TopicPartitionOffset[]): Promise<void>;
}

/**
 * @example
 * ```ts
 * const writer = clients.transactionalWriter('connect-fn-orders-0');
 * const txn = await writer.begin(); // fences older producers with this id
 * await txn.send(records);
 * await txn.commit();
 * ```
 */
export class KafkaTransactionalWriter implements TransactionalWriter {
  readonly #context: ProducerContext;
  readonly #transactionalId: string;
  readonly #transactionTimeoutMs: number | undefined;
  #producer: Producer | undefined;
  #openTransaction: KafkajsTransaction | undefined;
  #state: WriterState = 'ready';

  constructor(context: ProducerContext, transactionalId: string, options: TransactionalWriterOptions = {}) {
    this.#context = context;
    this.#transactionalId = transactionalId;
    this.#transactionTimeoutMs = context.settings.transactionTimeoutMs ?? options.transactionTimeoutMs;
  }

  async begin(): Promise<KafkaTransaction> {
    this.#check();
    if (this.#state === 'in-transaction') throw new Error('a transaction is already open on this writer');
    if (this.#state === 'needs-new-producer') await this.#dropProducer();
    const producer = await this.#connectedProducer();
    let transaction: KafkajsTransaction;
    try {
      transaction = await producer.transaction();
    } catch (err) {
      throw this.#failure(err, 'beginning a transaction');
    }
    this.#state = 'in-transaction';
    return this.#wrap(transaction);
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    const open = this.#state === 'in-transaction';
    this.#state = 'closed';
    await this.#dropProducer(open);
  }

  get #id(): string {
    return `transactional id ${this.#transactionalId}`;
  }

  #check(): void {
    if (this.#state === 'fenced') throw new FencedError(`${this.#id} was fenced by a newer producer`);
    if (this.#state === 'closed') throw new Error('the transactional writer is closed');
  }

  async #connectedProducer(): Promise<Producer> {
    if (this.#producer !== undefined) return this.#producer;
    const { kafka, settings, endpoint } = this.#context;
    const producer = kafka.producer({
      transactionalId: this.#transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      retry: settings.retry,
      allowAutoTopicCreation: true,
      createPartitioner: Partitioners.DefaultPartitioner,
      ...(this.#transactionTimeoutMs === undefined ? {} : { transactionTimeout: this.#transactionTimeoutMs }),
      ...(settings.metadataMaxAgeMs === undefined ? {} : { metadataMaxAge: settings.metadataMaxAgeMs }),
    });
    try {
      await producer.connect();
    } catch (err) {
      await producer.disconnect().catch(() => undefined);
      throw kafkaFailure(err, endpoint, 'connecting');
    }
    this.#producer = producer;
    return producer;
  }

  /** Disconnects the producer; aborts its open transaction first so readers are not held up by it. */
  async #dropProducer(abortOpen = false): Promise<void> {
    const producer = this.#producer;
    this.#producer = undefined;
    if (producer === undefined) return;
    if (abortOpen) await this.#openTransaction?.abort().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
  }

  #failure(err: unknown, action: string): Error {
    if (isFencing(err)) {
      this.#state = 'fenced';
      return new FencedError(`${this.#id} was fenced by a newer producer while ${action}`, { cause: err });
    }
    return kafkaFailure(err, this.#context.endpoint, `${action} (${this.#id})`);
  }

  /** kafkajs' `sendOffsets`, retrying what kafkajs does not (CONCURRENT_TRANSACTIONS: issue #430). */
  async #sendOffsets(
    transaction: KafkajsTransaction,
    groupId: string,
    offsets: readonly TopicPartitionOffset[],
  ): Promise<void> {
    this.#check();
    const request = { consumerGroupId: groupId, topics: offsetTopics(offsets) };
    let pauseMs = FIRST_PAUSE_MS;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await transaction.sendOffsets(request);
        return;
      } catch (err) {
        const again =
          attempt < SEND_OFFSETS_TRIES && hasKafkaType(err, SEND_OFFSETS_RETRIABLE) && !isFencing(err);
        if (!again) throw this.#failure(err, `sending offsets of group ${groupId}`);
      }
      await sleep(pauseMs);
      this.#check(); // closed while we waited
      pauseMs = Math.min(pauseMs * 2, MAX_PAUSE_MS);
    }
  }

  #wrap(transaction: KafkajsTransaction): KafkaTransaction {
    this.#openTransaction = transaction;
    const end = async (how: 'commit' | 'abort') => {
      this.#check();
      try {
        await transaction[how]();
        this.#state = 'ready';
      } catch (err) {
        const failure = this.#failure(err, how === 'commit' ? 'committing' : 'aborting');
        if (this.#state !== 'fenced') this.#state = 'needs-new-producer';
        throw failure;
      } finally {
        this.#openTransaction = undefined;
      }
    };
    return {
      send: async (records: readonly KafkaRecord[]) => {
        this.#check();
        let start = 0;
        for (const request of produceRequests(records, this.#context.settings.maxRequestBytes)) {
          const length = requestLength(request);
          try {
            await sendRequest(transaction, request, this.#context);
          } catch (err) {
            throw isFencing(err)
              ? this.#failure(err, 'producing')
              : refusedAsTooLarge(err, records, start, length);
          }
          start += length;
        }
      },
      sendOffsets: (groupId: string, offsets: readonly TopicPartitionOffset[]) =>
        this.#sendOffsets(transaction, groupId, offsets),
      commit: () => end('commit'),
      abort: () => end('abort'),
    };
  }
}

/**
 * kafkajs' shape of offsets to commit: per topic in first-seen order, offsets as decimal strings; of a
 * partition given twice, the last offset counts.
 */
function offsetTopics(offsets: readonly TopicPartitionOffset[]) {
  const topics = new Map<string, Map<number, string>>();
  for (const { topic, partition, offset } of offsets) {
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new RangeError(
        `an offset to commit must be an integer >= 0, got ${offset} for ${topic}-${partition}`,
      );
    }
    const partitions = topics.get(topic) ?? new Map<number, string>();
    topics.set(topic, partitions.set(partition, String(offset)));
  }
  return [...topics].map(([topic, partitions]) => ({
    topic,
    partitions: [...partitions].map(([partition, offset]) => ({ partition, offset })),
  }));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
