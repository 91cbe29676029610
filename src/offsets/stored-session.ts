/**
 * The small base of the three offset stores (Powertools' layering: port → base → adapter). The base
 * encodes partitions once, de-duplicates, keeps the caller's order, and validates before anything is
 * written; an adapter only translates two storage primitives, {@link StoredOffsetSession.readStored} and
 * {@link StoredOffsetSession.writeStored}, plus `close`.
 * @module
 */
import type { OffsetSession } from '../runtime/ports.ts';
import type { OffsetEntry, SourceOffset, SourcePartition } from '../spi/records.ts';
import { encodePartition, encodeValue, keyFromEncodedPartition } from './connect-format.ts';

/** A source partition with its encodings. */
export interface EncodedPartition {
  /** The partition map as compact JSON: the DynamoDB sort key, the map part of the Kafka key. */
  readonly partitionJson: string;
  /** The full connect-offsets key `["<connector>",<partitionJson>]`. */
  readonly keyJson: string;
}

/** One entry to store: the encoded partition and the encoded value, null to delete. */
export interface EncodedEntry extends EncodedPartition {
  readonly valueJson: string | null;
}

/**
 * An offset session of one task. Subclasses implement the storage primitives.
 *
 * @example
 * ```ts
 * class MemorySession extends StoredOffsetSession {
 *   readonly stored = new Map<string, string>();
 *   protected async readStored(keys: readonly EncodedPartition[]) {
 *     return new Map(keys.flatMap((k) => (this.stored.has(k.keyJson) ? [[k.keyJson, decodeValue(this.stored.get(k.keyJson)!)!]] : [])));
 *   }
 *   protected async writeStored(entries: readonly EncodedEntry[]) {
 *     for (const e of entries) e.valueJson === null ? this.stored.delete(e.keyJson) : this.stored.set(e.keyJson, e.valueJson);
 *   }
 *   async close() {}
 * }
 * ```
 */
export abstract class StoredOffsetSession implements OffsetSession {
  constructor(
    protected readonly connector: string,
    protected readonly taskId: number,
  ) {}

  async read(partitions: readonly SourcePartition[]): Promise<readonly (SourceOffset | undefined)[]> {
    const encoded = partitions.map((p) => this.encode(p));
    const unique = [...new Map(encoded.map((e) => [e.keyJson, e])).values()];
    const found = unique.length === 0 ? new Map<string, SourceOffset>() : await this.readStored(unique);
    return encoded.map((e) => found.get(e.keyJson));
  }

  async commit(entries: readonly OffsetEntry[]): Promise<void> {
    const latest = encodeEntries(this.connector, entries);
    if (latest.length > 0) await this.writeStored(latest);
  }

  abstract close(): Promise<void>;

  /**
   * The stored offsets of `partitions` (distinct), keyed by `keyJson`; absent where nothing is stored.
   * Must see every write committed before the call (a consistent read).
   */
  protected abstract readStored(
    partitions: readonly EncodedPartition[],
  ): Promise<ReadonlyMap<string, SourceOffset>>;

  /** Stores `entries` (distinct partitions, in commit order); a null `valueJson` deletes. */
  protected abstract writeStored(entries: readonly EncodedEntry[]): Promise<void>;

  private encode(partition: SourcePartition): EncodedPartition {
    return encodeSourcePartition(this.connector, partition);
  }
}

/** The encodings of `partition` for `connector`. */
export function encodeSourcePartition(connector: string, partition: SourcePartition): EncodedPartition {
  const partitionJson = encodePartition(partition);
  return { partitionJson, keyJson: keyFromEncodedPartition(connector, partitionJson) };
}

/**
 * Encodes every entry before anything is written (a value Connect's format cannot hold fails the whole
 * commit), keeping one entry per partition: the last, as a compacted topic would. Order is commit order.
 *
 * @example
 * ```ts
 * encodeEntries('c', [{ partition: { f: 'a' }, offset: { p: 1 } }, { partition: { f: 'a' }, offset: { p: 2 } }]);
 * // [{ partitionJson: '{"f":"a"}', keyJson: '["c",{"f":"a"}]', valueJson: '{"p":2}' }]
 * ```
 */
export function encodeEntries(connector: string, entries: readonly OffsetEntry[]): EncodedEntry[] {
  const latest = new Map<string, EncodedEntry>();
  for (const entry of entries) {
    const partition = encodeSourcePartition(connector, entry.partition);
    latest.delete(partition.keyJson);
    latest.set(partition.keyJson, { ...partition, valueJson: encodeValue(entry.offset) });
  }
  return [...latest.values()];
}
