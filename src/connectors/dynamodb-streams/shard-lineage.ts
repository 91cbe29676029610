/**
 * The shards of a stream as a forest of lineages: a shard's parent (when the stream still lists it) is
 * read to its end before the shard itself, which keeps the changes of every item in order across shard
 * rollovers and splits.
 *
 * Task assignment: shard `s` belongs to task `fnv1a32(s.shardId) % taskCount`. Shard ids never change,
 * so a shard never moves between tasks (assigning whole lineage trees by their root would move a subtree
 * whenever its root ages out of the stream, 24 h after it closed, and two tasks could then read one shard
 * at once). A parent and its children may belong to different tasks: the child's task waits until the
 * parent's offset is committed to the end of the closed parent (see `StreamReader`).
 *
 * @example
 * ```ts
 * const listing = await listShards(api, streamArn);
 * const lineage = new ShardLineage(listing.shards);
 * lineage.ordered().filter((s) => shardOwner(s.shardId, 4) === taskId); // parents before children
 * ```
 * @module
 */
import type { ShardInfo, StreamsApi } from './stream-api.ts';
import { StreamReadError } from './stream-api.ts';

/** Pages of DescribeStream one listing may take (100 shards each): far above any real stream. */
const MAX_DESCRIBE_PAGES = 10_000;

/** FNV-1a, 32 bits, over the UTF-16 code units of `text` (shard ids are ASCII). */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The task that reads `shardId` among `taskCount` tasks. */
export function shardOwner(shardId: string, taskCount: number): number {
  return fnv1a32(shardId) % taskCount;
}

/** Everything DescribeStream says about a stream, every page of it. */
export interface ShardListing {
  readonly tableName: string | undefined;
  readonly keyAttributes: readonly string[];
  readonly shards: readonly ShardInfo[];
}

/** Lists every shard of the stream, following `LastEvaluatedShardId`. */
export async function listShards(api: StreamsApi, streamArn: string): Promise<ShardListing> {
  const shards: ShardInfo[] = [];
  let page = await api.describeStream(streamArn);
  const { tableName, keyAttributes } = page;
  shards.push(...page.shards);
  for (let pages = 1; page.lastEvaluatedShardId !== undefined; pages++) {
    if (pages >= MAX_DESCRIBE_PAGES) {
      throw new StreamReadError(`DescribeStream ${streamArn}: more than ${MAX_DESCRIBE_PAGES} pages`);
    }
    page = await api.describeStream(streamArn, page.lastEvaluatedShardId);
    shards.push(...page.shards);
  }
  return { tableName, keyAttributes, shards: dedupe(shards) };
}

function dedupe(shards: readonly ShardInfo[]): ShardInfo[] {
  const seen = new Map<string, ShardInfo>();
  for (const shard of shards) if (!seen.has(shard.shardId)) seen.set(shard.shardId, shard);
  return [...seen.values()];
}

/** Compares decimal sequence numbers of any length (shorter is smaller; no leading zeros assumed equal). */
export function compareSequence(a: string, b: string): number {
  const x = a.replace(/^0+/, '');
  const y = b.replace(/^0+/, '');
  if (x.length !== y.length) return x.length - y.length;
  return x < y ? -1 : x > y ? 1 : 0;
}

function byStart(a: ShardInfo, b: ShardInfo): number {
  const bySequence = compareSequence(a.startingSequenceNumber ?? '0', b.startingSequenceNumber ?? '0');
  if (bySequence !== 0) return bySequence;
  return a.shardId < b.shardId ? -1 : a.shardId > b.shardId ? 1 : 0;
}

export class ShardLineage {
  readonly #byId = new Map<string, ShardInfo>();
  readonly #children = new Map<string, ShardInfo[]>();

  constructor(shards: readonly ShardInfo[]) {
    for (const shard of shards) this.#byId.set(shard.shardId, shard);
    for (const shard of shards) {
      const parent = this.parent(shard);
      if (parent === undefined) continue;
      const siblings = this.#children.get(parent.shardId) ?? [];
      siblings.push(shard);
      this.#children.set(parent.shardId, siblings);
    }
  }

  get shards(): readonly ShardInfo[] {
    return [...this.#byId.values()];
  }

  get(shardId: string): ShardInfo | undefined {
    return this.#byId.get(shardId);
  }

  /** The parent, when the stream still lists it (a parent older than 24 h is gone: nothing to wait for). */
  parent(shard: ShardInfo): ShardInfo | undefined {
    return shard.parentShardId === undefined ? undefined : this.#byId.get(shard.parentShardId);
  }

  children(shard: ShardInfo): readonly ShardInfo[] {
    return this.#children.get(shard.shardId) ?? [];
  }

  /**
   * Every shard, each after its parent; roots and siblings by starting sequence number, then id.
   * A malformed listing with a parent cycle still yields every shard once (the cycle is cut).
   */
  ordered(): ShardInfo[] {
    const out: ShardInfo[] = [];
    const placed = new Set<string>();
    const visit = (shard: ShardInfo) => {
      if (placed.has(shard.shardId)) return;
      placed.add(shard.shardId);
      out.push(shard);
      for (const child of [...this.children(shard)].sort(byStart)) visit(child);
    };
    const all = [...this.#byId.values()].sort(byStart);
    for (const shard of all) if (this.parent(shard) === undefined) visit(shard);
    for (const shard of all) visit(shard);
    return out;
  }
}
