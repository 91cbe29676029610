/**
 * The `dynamodb-sink` task, at least once: `put` turns each record into one item write (item-mapping.ts)
 * and writes them all with BatchWriteItem (batch-writer.ts) before it returns, so what `put` took is in
 * the table and the runtime's default `preCommit` may commit every offset put; there is no `flush`.
 *
 * - One write per item and put: of several records with the same key (the same item), the last one in
 *   offset order wins — what writing them one after another would leave — and the others are not sent
 *   (BatchWriteItem refuses two writes of one item in a request).
 * - Deterministic keys: a record's key comes from its coordinates or contents only, so writing it again
 *   (a replay after a failure, a second delivery by the event source mapping) overwrites the same item
 *   with the same value.
 * - A record the table cannot take — it has no DynamoDB form, its key is missing or of the wrong type, the
 *   item is over 400 KB — is a {@link DynamoDbRecordError} naming topic, partition, offset and reason. It
 *   goes to the context's errant record reporter (which skips and logs it under `errors.tolerance=all`,
 *   and fails the put under `none`); without a reporter it fails the put. Every other write of the put is
 *   still made first.
 * - Throttling and unprocessed items are retried until the context's `deadlineMs` (or, without one,
 *   {@link DEFAULT_PUT_WINDOW_MS} after the put began); then the put fails with a retriable error.
 *
 * @example
 * ```ts
 * const task = new DynamoDbSinkTask(settings, { client });
 * await task.start({ connector: 'orders', taskId: 0, assignment, deadlineMs });
 * await task.put(records); // every item written (or reported) when this resolves
 * await task.stop();
 * ```
 * @module
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ErrantRecordReporter, SinkRecord, SinkTask, SinkTaskContext } from '../../spi/sink.ts';
import type { TaskLog } from '../task-log.ts';
import { type WriterClock, writeItems } from './batch-writer.ts';
import {
  DynamoDbRecordError,
  type ItemMapping,
  type ItemMappingSettings,
  type ItemWrite,
  itemMapping,
  toItemWrite,
} from './item-mapping.ts';

/** How long a put retries when the runtime gives no deadline (tests, local tools). */
export const DEFAULT_PUT_WINDOW_MS = 30_000;

export type DynamoDbSinkSettings = ItemMappingSettings;

export interface DynamoDbSinkTaskDeps {
  /** One client per cold start, created with `maxAttempts: 1` (the task retries, within the deadline). */
  readonly client: DynamoDBClient;
  readonly clock?: WriterClock;
  /** In [0, 1): the backoff jitter. */
  readonly random?: () => number;
  readonly log?: TaskLog;
}

const realClock: WriterClock = {
  nowMs: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export class DynamoDbSinkTask implements SinkTask {
  readonly #mapping: ItemMapping;
  readonly #deps: DynamoDbSinkTaskDeps;
  readonly #clock: WriterClock;
  #deadlineMs: number | undefined;
  #reporter: ErrantRecordReporter | undefined;
  #started = false;

  constructor(settings: DynamoDbSinkSettings, deps: DynamoDbSinkTaskDeps) {
    this.#mapping = itemMapping(settings);
    this.#deps = deps;
    this.#clock = deps.clock ?? realClock;
  }

  async start(context: SinkTaskContext): Promise<void> {
    this.#deadlineMs = context.deadlineMs;
    this.#reporter = context.errantRecordReporter;
    this.#started = true;
  }

  async put(records: readonly SinkRecord[]): Promise<void> {
    if (!this.#started) throw new Error('dynamodb sink: put before start or after stop');
    if (records.length === 0) return;
    const deadlineMs = this.#deadlineMs ?? this.#clock.nowMs() + DEFAULT_PUT_WINDOW_MS;
    const writes = new Map<string, ItemWrite>();
    for (const record of records) {
      let write: ItemWrite | undefined;
      try {
        write = toItemWrite(record, this.#mapping);
      } catch (err) {
        if (!(err instanceof DynamoDbRecordError)) throw err;
        // Reported before anything is written: without tolerance, the put fails having written nothing.
        await this.#refuse(record, err);
        continue;
      }
      if (write === undefined) continue;
      writes.delete(write.identity); // the later write of an item takes the place of the earlier one
      writes.set(write.identity, write);
    }
    const refused = await writeItems([...writes.values()], {
      client: this.#deps.client,
      keyAttributes: this.#keyAttributes(),
      deadlineMs,
      clock: this.#clock,
      ...(this.#deps.random === undefined ? {} : { random: this.#deps.random }),
      onRetry: (reason, attempt, delayMs) =>
        attempt === 1 || attempt % 10 === 0
          ? this.#deps.log?.warn('dynamodb sink: retrying a write', { reason, attempt, delayMs })
          : undefined,
    });
    for (const { write, reason } of refused)
      await this.#refuse(write.record, new DynamoDbRecordError(write.record, reason));
  }

  async stop(): Promise<void> {
    this.#started = false;
  }

  #keyAttributes(): string[] {
    const { hash, sort } = this.#mapping;
    return sort === undefined ? [hash.attribute] : [hash.attribute, sort.attribute];
  }

  async #refuse(record: SinkRecord, error: DynamoDbRecordError): Promise<void> {
    if (this.#reporter === undefined) throw error;
    await this.#reporter(record, error);
  }
}
