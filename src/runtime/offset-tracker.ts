/**
 * The latest offset per source partition within a batch, in order of first appearance. Partitions are
 * told apart by their compact JSON (key order is identity, as in Connect's offsets topic).
 * @module
 */
import type { OffsetEntry, SourceOffset, SourcePartition } from '../spi/records.ts';

export class OffsetTracker {
  readonly #latest = new Map<string, OffsetEntry>();
  /** The partition object of the last `advance` and its id: tasks reuse one object per partition. */
  #lastPartition: SourcePartition | undefined;
  #lastId = '';

  /** Records that `offset` is the newest position in `partition`. */
  advance(partition: SourcePartition, offset: SourceOffset): void {
    if (partition === this.#lastPartition) {
      // Already the newest entry: the Map keeps its place, only the offset changes.
      this.#latest.set(this.#lastId, { partition, offset });
      return;
    }
    const id = JSON.stringify(partition);
    this.#latest.delete(id);
    this.#latest.set(id, { partition, offset });
    this.#lastPartition = partition;
    this.#lastId = id;
  }

  entries(): OffsetEntry[] {
    return [...this.#latest.values()];
  }

  get size(): number {
    return this.#latest.size;
  }

  /** Merges `other`'s entries in (theirs are newer). */
  merge(entries: readonly OffsetEntry[]): void {
    for (const e of entries) if (e.offset !== null) this.advance(e.partition, e.offset);
  }
}
