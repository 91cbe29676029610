/**
 * How a source cycle delivers a batch and commits its offsets — the two guarantees, as a lookup of
 * small strategies rather than branches through the cycle.
 *
 * Both deliver a batch while the cycle polls and converts the next one (see `runBatches`), and both keep
 * the order between batches: batch n+1 is sent (its transaction begun) only once batch n's commit has
 * completed, so at any moment at most one acknowledged batch is not yet committed — what an invocation
 * killed at that moment sends again — and commits complete in order.
 *
 * - at-least-once: `writer.send` resolves only once every record is acknowledged; the batch's offsets are
 *   committed after it, so no offset passes an unacknowledged record. `deliver` returns once the records
 *   are acknowledged and the commit is issued: the commit's round trip overlaps the next batch's
 *   preparation. A failed commit fails the invocation before anything more is polled, sent or committed,
 *   and the cycle does not return before the last commit it issued has completed
 *   ({@link OpenDelivery.settle}).
 * - exactly-once: one transaction per batch holds the records and their offset records. The first
 *   transaction is opened in `prepare`, before the task reads its offsets: opening it fences every older
 *   producer of the task, so what the task then reads (read_committed) can no longer change under it.
 *   `deliver` returns once the records are sent and the commit is issued; the next transaction begins
 *   once that commit has completed.
 * @module
 */
import type { OffsetTracker } from './offset-tracker.ts';
import type {
  KafkaRecord,
  OffsetRecordEncoder,
  OffsetSession,
  RecordWriter,
  Transaction,
  TransactionalWriter,
} from './ports.ts';

export type Delivery =
  | { readonly mode: 'at-least-once'; readonly writer: RecordWriter }
  | {
      readonly mode: 'exactly-once';
      readonly writer: TransactionalWriter;
      readonly encoder: OffsetRecordEncoder;
    };

/**
 * Delivers one batch: resolves once its records are acknowledged, and calls `onCommitted` once its
 * offsets are committed too — at once (exactly-once: both are the transaction's commit), or later
 * (at-least-once: see {@link OpenDelivery.settle}). Rejects when the records were not delivered, or when
 * an earlier batch's commit has failed.
 */
export type DeliverBatch = (
  records: readonly KafkaRecord[],
  offsets: OffsetTracker,
  onCommitted: () => void,
) => Promise<void>;

export interface OpenDelivery {
  /** Called once, before the task starts; returns the batch deliverer. */
  prepare(session: OffsetSession): Promise<DeliverBatch>;
  /** Throws the failure of a commit that has already failed, so no more is polled or sent after it. */
  check(): void;
  /** Resolves once every commit issued so far has completed; rejects with the first one that failed. */
  settle(): Promise<void>;
  /** Aborts a transaction left open (an idle end, or a failure). */
  finish(): Promise<void>;
}

/**
 * The commit of the last batch delivered, in flight while the cycle polls and converts the next batch.
 * The next batch waits for it ({@link CommitInFlight.wait}) before anything of it is sent.
 */
class CommitInFlight {
  #commit: Promise<void> = Promise.resolve();
  #failed: { readonly error: unknown } | undefined;

  /** Starts `commit`; `onCommitted` runs once it has completed. Only after {@link wait} resolved. */
  start(commit: () => Promise<void>, onCommitted: () => void): void {
    this.#commit = (async () => {
      await commit();
      onCommitted();
    })();
    this.#commit.catch((error: unknown) => {
      this.#failed ??= { error };
    });
  }

  /** Resolves once the commit in flight has completed; rejects if it failed. */
  wait(): Promise<void> {
    return this.#commit;
  }

  /** Throws the failure of a commit that has already failed. */
  check(): void {
    if (this.#failed !== undefined) throw this.#failed.error;
  }
}

function atLeastOnce(writer: RecordWriter): OpenDelivery {
  const inFlight = new CommitInFlight();
  return {
    async prepare(session) {
      return async function deliverAtLeastOnce(records, offsets, onCommitted) {
        await inFlight.wait();
        if (records.length > 0) await writer.send(records);
        const entries = offsets.entries();
        inFlight.start(async () => {
          if (entries.length > 0) await session.commit(entries);
        }, onCommitted);
      };
    },
    check: () => inFlight.check(),
    settle: () => inFlight.wait(),
    async finish() {},
  };
}

function exactlyOnce(
  writer: TransactionalWriter,
  encoder: OffsetRecordEncoder,
  connector: string,
): OpenDelivery {
  const inFlight = new CommitInFlight();
  let open: Transaction | undefined;
  return {
    async prepare() {
      open = await writer.begin();
      return async function deliverExactlyOnce(records, offsets, onCommitted) {
        await inFlight.wait();
        const tx = open ?? (await writer.begin());
        open = tx;
        await tx.send(records.concat(encoder.records(connector, offsets.entries())));
        inFlight.start(async () => {
          await tx.commit();
          open = undefined;
        }, onCommitted);
      };
    },
    check: () => inFlight.check(),
    settle: () => inFlight.wait(),
    async finish() {
      const tx = open;
      open = undefined;
      await tx?.abort();
    },
  };
}

export function openDelivery(delivery: Delivery, connector: string): OpenDelivery {
  return delivery.mode === 'at-least-once'
    ? atLeastOnce(delivery.writer)
    : exactlyOnce(delivery.writer, delivery.encoder, connector);
}
