/**
 * Reads one task's shards of a stream for one invocation: which shard next, from where, and what an
 * expired or trimmed position does.
 *
 * Where a shard starts (first match):
 * 1. after the last change this invocation returned from it (a re-opened iterator);
 * 2. at TRIM_HORIZON after a trimmed gap under `trim_horizon` policy;
 * 3. after its committed `sequence`;
 * 4. at TRIM_HORIZON when its lineage was already being read (an ancestor listed by the stream has a
 *    committed offset, or was read in this invocation): a child continues its parent;
 * 5. otherwise at `dynamodb.stream.position`. With LATEST a closed shard is then skipped (nothing new
 *    can arrive in it).
 *
 * LATEST in a function: a position is remembered only as the offset of a delivered change, so until the
 * first change of a lineage is captured and committed, each invocation starts that lineage at LATEST
 * again, and only changes written while an invocation reads the shard are captured; changes made between
 * invocations are skipped, as LATEST asks. From the first committed change on, nothing is skipped (rules
 * 3 and 4). TRIM_HORIZON, the default, never skips.
 *
 * Order: a shard is read only once its parent (when still listed) is finished: read to its end by this
 * invocation, known finished because one of its children has a committed offset, or — for a parent of
 * another task — closed with nothing after its committed offset (a probe of at most a few GetRecords).
 * A shard is finished when GetRecords answers without a next iterator. An open shard whose GetRecords
 * answers with no changes is caught up until the next invocation.
 *
 * Policies:
 * - ExpiredIteratorException (an iterator older than 15 min): logged; a new iterator is opened at the
 *   same place (rules above), so nothing is skipped. Three expiries in a row fail the poll (retriable).
 * - TrimmedDataAccessException (the committed position is older than the stream's 24 h retention):
 *   `fail` throws {@link StreamDataTrimmedError} naming the table, shard and sequence number (every later
 *   invocation fails the same way until the operator resets the offset or changes the policy);
 *   `trim_horizon` logs a warning naming the shard and the last sequence read before the gap, and reads
 *   on from the oldest change kept.
 * - A shard that vanished (ResourceNotFoundException) is logged and treated as finished.
 *
 * Read-ahead: once `next` has its page, the following step (the same one the next `next` would take:
 * same round robin, same rules, the same `limit` and deadline) starts on the next turn of the event
 * loop, so GetRecords runs while the cycle converts and delivers this page ({@link ReadAhead}). One page
 * ahead at most; when the next `next` asks for fewer changes than the page holds, the rest stay held
 * and come first in the call after (in order; nothing else is read meanwhile). What was read ahead but
 * never returned is dropped at `close` — never returned, never committed: the next invocation reads it
 * again from the committed offset. A read-ahead that found nothing new (the shards caught up) ends the
 * invocation idle, even if a change arrived since; the next invocation reads it.
 * @module
 */
import type { SourceOffset, SourceRecord } from '../../spi/records.ts';
import type { TaskLog } from '../task-log.ts';
import { type ChangeContext, changeRecord, shardPartition } from './change-record.ts';
import type { StreamPosition, TrimmedPolicy } from './config.ts';
import { ReadAhead } from './read-ahead.ts';
import { type ShardLineage, shardOwner } from './shard-lineage.ts';
import {
  type IteratorPosition,
  type ShardInfo,
  type StreamChange,
  StreamDataTrimmedError,
  StreamIteratorExpiredError,
  StreamReadError,
  StreamShardGoneError,
  type StreamsApi,
} from './stream-api.ts';

/** Empty pages followed in a row on a closed shard (or a probe) before leaving it for this invocation. */
const MAX_EMPTY_PAGES = 10;
/** Expired iterators in a row on one shard before the poll fails. */
const MAX_EXPIRIES = 3;

export interface ReaderSettings {
  readonly streamArn: string;
  readonly table: string;
  readonly topic: string;
  readonly keyAttributes: readonly string[];
  readonly position: StreamPosition;
  readonly trimmedPolicy: TrimmedPolicy;
  readonly taskId: number;
  readonly taskCount: number;
}

type CursorStatus = 'pending' | 'caught-up' | 'finished';

/** One owned shard during this invocation. */
interface Cursor {
  readonly shard: ShardInfo;
  /** How its changes become records (one source partition object per shard). */
  readonly context: ChangeContext;
  readonly committed: string | undefined;
  status: CursorStatus;
  iterator: string | undefined;
  /** The last sequence number returned from this shard in this invocation. */
  last: string | undefined;
  /** An iterator was opened here in this invocation: its children continue it. */
  opened: boolean;
  /** Set after a trimmed gap under `trim_horizon`: where the gap started (for the warning). */
  gapAfter: string | undefined;
  trimHorizon: boolean;
  expiries: number;
  emptyPages: number;
}

/** Changes read from one shard, not yet returned. */
interface ShardPage {
  readonly cursor: Cursor;
  readonly changes: readonly StreamChange[];
}

/** The committed sequence number of an offset; a TypeError-free check of what the store returned. */
export function committedSequence(offset: SourceOffset | undefined): string | undefined {
  const sequence = offset?.sequence;
  return typeof sequence === 'string' && /^\d+$/.test(sequence) ? sequence : undefined;
}

export class StreamReader {
  readonly #api: StreamsApi;
  readonly #settings: ReaderSettings;
  readonly #lineage: ShardLineage;
  readonly #committed: ReadonlyMap<string, string>;
  readonly #log: TaskLog;
  readonly #cursors: Cursor[];
  readonly #byId = new Map<string, Cursor>();
  readonly #probes = new Map<string, Promise<boolean>>();
  readonly #ahead = new ReadAhead<ShardPage | undefined>();
  #turn = 0;

  /** `committed`: the committed sequence number by shard id, for every listed shard that has one. */
  constructor(
    api: StreamsApi,
    settings: ReaderSettings,
    lineage: ShardLineage,
    committed: ReadonlyMap<string, string>,
    log: TaskLog,
  ) {
    this.#api = api;
    this.#settings = settings;
    this.#lineage = lineage;
    this.#committed = committed;
    this.#log = log;
    this.#cursors = lineage
      .ordered()
      .filter((shard) => shardOwner(shard.shardId, settings.taskCount) === settings.taskId)
      .map((shard) => ({
        shard,
        context: {
          table: settings.table,
          shardId: shard.shardId,
          topic: settings.topic,
          keyAttributes: settings.keyAttributes,
          partition: shardPartition(settings.table, shard.shardId),
        },
        committed: committed.get(shard.shardId),
        // A child with a committed offset was only read after this shard was finished.
        status: this.#childCommitted(shard) ? 'finished' : 'pending',
        iterator: undefined,
        last: undefined,
        opened: false,
        gapAfter: undefined,
        trimHorizon: false,
        expiries: 0,
        emptyPages: 0,
      }));
    for (const cursor of this.#cursors) this.#byId.set(cursor.shard.shardId, cursor);
  }

  /** The shard ids this task reads (listing order: parents first). */
  get ownedShards(): readonly string[] {
    return this.#cursors.map((c) => c.shard.shardId);
  }

  /**
   * The next changes of one shard, at most `limit`; `[]` when every readable shard is caught up or
   * finished, or `deadlineMs` has passed.
   */
  async next(limit: number, deadlineMs: number, nowMs: () => number): Promise<SourceRecord[]> {
    if (nowMs() >= deadlineMs) return [];
    const step = () => this.#step(limit, deadlineMs, nowMs);
    // A read-ahead that found nothing is asked again: it may have stopped at its deadline, and when the
    // shards are caught up, asking again makes no call.
    const page = (await this.#ahead.take()) ?? (await step());
    if (page === undefined) return [];
    const { cursor, changes } = page;
    const taken = changes.length > limit ? changes.slice(0, limit) : changes;
    const records = taken.map((change) => changeRecord(change, cursor.context));
    if (taken.length < changes.length) this.#ahead.hold({ cursor, changes: changes.slice(limit) });
    else this.#ahead.schedule(step);
    return records;
  }

  /** Drops what was read ahead (module docs); the reader is not used after. */
  close(): Promise<void> {
    return this.#ahead.close();
  }

  /** The next page with changes of one shard; undefined: caught up, finished, past the deadline, or closed. */
  async #step(limit: number, deadlineMs: number, nowMs: () => number): Promise<ShardPage | undefined> {
    for (;;) {
      if (nowMs() >= deadlineMs || this.#ahead.signal.aborted) return undefined;
      const cursor = await this.#nextCursor();
      if (cursor === undefined) return undefined;
      const changes = await this.#readPage(cursor, limit);
      if (changes.length > 0) return { cursor, changes };
    }
  }

  #childCommitted(shard: ShardInfo): boolean {
    return this.#lineage.children(shard).some((child) => this.#committed.has(child.shardId));
  }

  /** Round robin over the pending shards whose parent is finished. */
  async #nextCursor(): Promise<Cursor | undefined> {
    const n = this.#cursors.length;
    for (let i = 0; i < n; i++) {
      const index = (this.#turn + i) % n;
      const cursor = this.#cursors[index]!;
      if (cursor.status !== 'pending' || !(await this.#parentFinished(cursor.shard))) continue;
      this.#turn = (index + 1) % n;
      return cursor;
    }
    return undefined;
  }

  async #parentFinished(shard: ShardInfo): Promise<boolean> {
    const parent = this.#lineage.parent(shard);
    if (parent === undefined || this.#childCommitted(parent)) return true;
    const own = this.#byId.get(parent.shardId);
    if (own !== undefined) return own.status === 'finished';
    let probe = this.#probes.get(parent.shardId);
    if (probe === undefined) {
      probe = this.#probeFinished(parent);
      this.#probes.set(parent.shardId, probe);
    }
    return probe;
  }

  /** Whether another task's shard is closed and committed to its end. */
  async #probeFinished(shard: ShardInfo): Promise<boolean> {
    if (shard.endingSequenceNumber === undefined) return false;
    const committed = this.#committed.get(shard.shardId);
    if (committed === undefined && this.#settings.position === 'LATEST' && !this.#lineageStarted(shard)) {
      return true; // its task skips it (see the start rules)
    }
    const position: IteratorPosition =
      committed === undefined
        ? { type: 'TRIM_HORIZON' }
        : { type: 'AFTER_SEQUENCE_NUMBER', sequence: committed };
    try {
      const { signal } = this.#ahead;
      let iterator: string | undefined = await this.#api.shardIterator(
        this.#settings.streamArn,
        shard.shardId,
        position,
        signal,
      );
      for (let pages = 0; iterator !== undefined && pages < MAX_EMPTY_PAGES; pages++) {
        const page = await this.#api.changes(iterator, 1, signal);
        if (page.changes.length > 0) return false;
        iterator = page.nextIterator;
      }
      return iterator === undefined;
    } catch (err) {
      if (err instanceof StreamShardGoneError) return true;
      if (err instanceof StreamDataTrimmedError || err instanceof StreamIteratorExpiredError) return false;
      throw err;
    }
  }

  /** Whether an ancestor still listed was committed to, or read in this invocation. */
  #lineageStarted(shard: ShardInfo): boolean {
    const seen = new Set<string>();
    for (let p = this.#lineage.parent(shard); p !== undefined; p = this.#lineage.parent(p)) {
      if (seen.has(p.shardId)) return false;
      seen.add(p.shardId);
      if (this.#committed.has(p.shardId) || this.#byId.get(p.shardId)?.opened) return true;
    }
    return false;
  }

  /** Where to open an iterator (module docs); undefined: nothing to read (a closed shard under LATEST). */
  #startPosition(cursor: Cursor): IteratorPosition | undefined {
    const after = (sequence: string): IteratorPosition => ({ type: 'AFTER_SEQUENCE_NUMBER', sequence });
    if (cursor.last !== undefined) return after(cursor.last);
    if (cursor.trimHorizon) return { type: 'TRIM_HORIZON' };
    if (cursor.committed !== undefined) return after(cursor.committed);
    if (this.#settings.position === 'TRIM_HORIZON' || this.#lineageStarted(cursor.shard)) {
      return { type: 'TRIM_HORIZON' };
    }
    return cursor.shard.endingSequenceNumber === undefined ? { type: 'LATEST' } : undefined;
  }

  async #openIterator(cursor: Cursor): Promise<string | undefined> {
    const position = this.#startPosition(cursor);
    if (position === undefined) {
      cursor.status = 'finished';
      return undefined;
    }
    try {
      cursor.iterator = await this.#api.shardIterator(
        this.#settings.streamArn,
        cursor.shard.shardId,
        position,
        this.#ahead.signal,
      );
      cursor.opened = true;
      return cursor.iterator;
    } catch (err) {
      if (err instanceof StreamDataTrimmedError && position.type === 'AFTER_SEQUENCE_NUMBER') {
        this.#trimmed(cursor, position.sequence, err);
        return undefined; // the next turn opens at TRIM_HORIZON
      }
      if (err instanceof StreamShardGoneError) {
        this.#gone(cursor);
        return undefined;
      }
      throw err;
    }
  }

  /** Applies `dynamodb.stream.trimmed.policy` to a position older than the stream keeps. */
  #trimmed(cursor: Cursor, after: string | undefined, cause: unknown): void {
    const { table, trimmedPolicy } = this.#settings;
    const shard = cursor.shard.shardId;
    const where = after === undefined ? 'from the start of the shard' : `after sequence number ${after}`;
    if (cursor.trimHorizon && cursor.last === undefined) {
      // Trimmed again before anything was read from the trim horizon: let the poll be retried.
      throw new StreamReadError(`dynamodb-streams: shard ${shard} was trimmed while being opened`, {
        cause,
        retriable: true,
      });
    }
    if (trimmedPolicy === 'fail') {
      throw new StreamDataTrimmedError(
        `dynamodb-streams: the changes of table ${table}, shard ${shard} ${where} were trimmed from the stream (older than its 24-hour retention) before they were read. ` +
          `To go on, reset this partition's offset ({"table":"${table}","shard":"${shard}"}) with connect-fn offsets, or set dynamodb.stream.trimmed.policy=trim_horizon to skip the gap.`,
        { cause },
      );
    }
    this.#log.warn(
      'dynamodb-streams: changes were trimmed from the stream before they were read; skipping the gap',
      {
        table,
        shard,
        afterSequence: after ?? null,
        policy: trimmedPolicy,
      },
    );
    cursor.iterator = undefined;
    cursor.last = undefined;
    cursor.trimHorizon = true;
    cursor.gapAfter = after ?? '';
  }

  #gone(cursor: Cursor): void {
    this.#log.warn('dynamodb-streams: the shard is no longer in the stream; treating it as finished', {
      table: this.#settings.table,
      shard: cursor.shard.shardId,
      lastSequence: cursor.last ?? cursor.committed ?? null,
    });
    cursor.status = 'finished';
    cursor.iterator = undefined;
  }

  /**
   * One GetRecords on `cursor`; the changes it gave (possibly none), made records only once returned.
   * The cursor moves past them now: `last` is where a re-opened iterator continues.
   */
  async #readPage(cursor: Cursor, limit: number): Promise<readonly StreamChange[]> {
    const iterator = cursor.iterator ?? (await this.#openIterator(cursor));
    if (iterator === undefined) return [];
    let page: Awaited<ReturnType<StreamsApi['changes']>>;
    try {
      page = await this.#api.changes(iterator, limit, this.#ahead.signal);
    } catch (err) {
      if (this.#ahead.signal.aborted) return []; // closed: nothing more is read or reported
      this.#readFailed(cursor, err);
      return [];
    }
    cursor.expiries = 0;
    cursor.iterator = page.nextIterator;
    const { changes } = page;
    const last = changes.at(-1);
    if (last !== undefined) {
      // A change without a sequence number fails when it is made a record (changeRecord).
      cursor.last = last.dynamodb?.SequenceNumber ?? cursor.last;
      cursor.emptyPages = 0;
      if (cursor.gapAfter !== undefined) {
        this.#log.warn('dynamodb-streams: reading on after a trimmed gap', {
          table: this.#settings.table,
          shard: cursor.shard.shardId,
          gapAfterSequence: cursor.gapAfter || null,
          firstSequenceAfterGap: changes[0]!.dynamodb?.SequenceNumber ?? null,
        });
        cursor.gapAfter = undefined;
      }
    }
    if (page.nextIterator === undefined) cursor.status = 'finished';
    else if (changes.length === 0) this.#emptyPage(cursor);
    return changes;
  }

  /** An open shard without changes is caught up; a closed one is followed to its end (bounded). */
  #emptyPage(cursor: Cursor): void {
    cursor.emptyPages++;
    if (cursor.shard.endingSequenceNumber === undefined || cursor.emptyPages >= MAX_EMPTY_PAGES) {
      cursor.status = 'caught-up';
    }
  }

  #readFailed(cursor: Cursor, err: unknown): void {
    const { table } = this.#settings;
    const shard = cursor.shard.shardId;
    cursor.iterator = undefined;
    if (err instanceof StreamIteratorExpiredError) {
      cursor.expiries++;
      this.#log.warn('dynamodb-streams: the shard iterator expired; opening a new one at the same position', {
        table,
        shard,
        afterSequence: cursor.last ?? cursor.committed ?? null,
      });
      if (cursor.expiries >= MAX_EXPIRIES) {
        throw new StreamReadError(
          `dynamodb-streams: shard ${shard}: ${cursor.expiries} iterators expired in a row`,
          {
            cause: err,
            retriable: true,
          },
        );
      }
      return;
    }
    if (err instanceof StreamDataTrimmedError) this.#trimmed(cursor, cursor.last ?? cursor.committed, err);
    else if (err instanceof StreamShardGoneError) this.#gone(cursor);
    else throw err;
  }
}
