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
 * @module
 */
import { type Transaction as KafkaTransaction, Partitioners, type Producer } from 'kafkajs';
import { FencedError } from '../errors.ts';
import type { KafkaRecord, Transaction, TransactionalWriter } from '../runtime/ports.ts';
import { hasKafkaType, kafkaFailure } from './kafka-failure.ts';
import { type ProducerContext, sendRequest } from './record-writer.ts';
import { produceRequests } from './records.ts';

/** Kafka's answers to a producer that a newer one with the same transactional id has replaced. */
const FENCED_TYPES: ReadonlySet<string> = new Set([
  'INVALID_PRODUCER_EPOCH',
  'PRODUCER_FENCED',
  'INVALID_PRODUCER_ID_MAPPING',
]);
/** kafkajs 2.2.4 predates PRODUCER_FENCED (90) and reports it as an unknown code. */
const UNKNOWN_PRODUCER_FENCED = /Unknown error code 90\b/;

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
  #openTransaction: KafkaTransaction | undefined;
  #state: WriterState = 'ready';

  constructor(context: ProducerContext, transactionalId: string, options: TransactionalWriterOptions = {}) {
    this.#context = context;
    this.#transactionalId = transactionalId;
    this.#transactionTimeoutMs = context.settings.transactionTimeoutMs ?? options.transactionTimeoutMs;
  }

  async begin(): Promise<Transaction> {
    this.#check();
    if (this.#state === 'in-transaction') throw new Error('a transaction is already open on this writer');
    if (this.#state === 'needs-new-producer') await this.#dropProducer();
    const producer = await this.#connectedProducer();
    let transaction: KafkaTransaction;
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

  #wrap(transaction: KafkaTransaction): Transaction {
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
        for (const request of produceRequests(records, this.#context.settings.maxRequestBytes)) {
          try {
            await sendRequest(transaction, request, this.#context);
          } catch (err) {
            throw isFencing(err) ? this.#failure(err, 'producing') : err;
          }
        }
      },
      commit: () => end('commit'),
      abort: () => end('abort'),
    };
  }
}
