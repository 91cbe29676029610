/**
 * The one kafkajs internal the group-less reader uses (kafkajs 2.2.4, whose `src/` is frozen): the
 * consumer's `Batch`, which drops records of aborted transactions and control records from one fetched
 * partition. Typed here only as far as partition-fetch.ts reads it.
 */
declare module 'kafkajs/src/consumer/batch.js' {
  /** A record as kafkajs decodes it (record batch format v2). */
  export interface RawMessage {
    readonly offset: string;
    readonly key: Buffer | null;
    readonly value: Buffer | null;
    readonly timestamp: string;
    readonly headers?: Readonly<Record<string, Buffer | null | readonly (Buffer | null)[] | undefined>>;
    readonly isControlRecord?: boolean;
    /** The record batch it came from (absent for legacy message sets). */
    readonly batchContext?: {
      /** Base offset of the record batch. */
      readonly firstOffset: string;
      readonly lastOffsetDelta: number;
      readonly producerId: string;
      readonly inTransaction: boolean;
    };
  }

  /** One partition of a fetch response. */
  export interface FetchedPartitionData {
    readonly partition: number;
    readonly highWatermark: string;
    readonly abortedTransactions?: readonly { readonly producerId: string; readonly firstOffset: string }[];
    readonly messages: readonly RawMessage[];
  }

  export default class Batch {
    constructor(topic: string, fetchedOffset: string, partitionData: FetchedPartitionData);
    /** Everything decoded, including records before the fetch offset (compressed batches). */
    readonly rawMessages: readonly RawMessage[];
    /** Records at or after the fetch offset, control and aborted ones included. */
    readonly messagesWithinOffset: readonly RawMessage[];
    /** What a read_committed consumer sees: no aborted records, no control records. */
    readonly messages: readonly RawMessage[];
  }
}
