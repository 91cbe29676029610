/**
 * How a source cycle delivers a batch and commits its offsets — the two guarantees, as a lookup of
 * small strategies rather than branches through the cycle.
 *
 * - at-least-once: `writer.send` resolves only once every record is acknowledged; the offsets are
 *   committed after it, so no offset passes an unacknowledged record.
 * - exactly-once: one transaction per batch holds the records and their offset records. The first
 *   transaction is opened in `prepare`, before the task reads its offsets: opening it fences every older
 *   producer of the task, so what the task then reads (read_committed) can no longer change under it.
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

export type DeliverBatch = (records: readonly KafkaRecord[], offsets: OffsetTracker) => Promise<void>;

export interface OpenDelivery {
  /** Called once, before the task starts; returns the batch deliverer. */
  prepare(session: OffsetSession): Promise<DeliverBatch>;
  /** Aborts a transaction left open (an idle end, or a failure). */
  finish(): Promise<void>;
}

function atLeastOnce(writer: RecordWriter): OpenDelivery {
  return {
    async prepare(session) {
      return async function deliverAtLeastOnce(records, offsets) {
        if (records.length > 0) await writer.send(records);
        if (offsets.size > 0) await session.commit(offsets.entries());
      };
    },
    async finish() {},
  };
}

function exactlyOnce(
  writer: TransactionalWriter,
  encoder: OffsetRecordEncoder,
  connector: string,
): OpenDelivery {
  let open: Transaction | undefined;
  return {
    async prepare() {
      open = await writer.begin();
      return async function deliverExactlyOnce(records, offsets) {
        const tx = open ?? (await writer.begin());
        open = tx;
        await tx.send([...records, ...encoder.records(connector, offsets.entries())]);
        await tx.commit();
        open = undefined;
      };
    },
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
