/**
 * Writes item writes with BatchWriteItem, at least once, within a deadline:
 *
 * - chunks of 25 (BatchWriteItem's limit; 25 items of at most 400 KB stay under its 16 MB), up to
 *   {@link WRITE_CONCURRENCY} chunks in flight. The caller passes at most one write per item, so chunks
 *   are independent and their order does not matter. They may be prepared as the writers take them
 *   ({@link writeChunks}), so marshalling overlaps the requests in flight;
 * - `UnprocessedItems`, throttling (ProvisionedThroughputExceededException, ThrottlingException,
 *   RequestLimitExceeded) and transient failures (5xx, a lost connection) are retried with jittered
 *   exponential backoff. A retry that would start at or after `deadlineMs` is not made: the write fails
 *   with a retriable {@link DynamoDbWriteError} (the runtime may put the same records again; their keys
 *   are the same, so nothing is duplicated). Each request is aborted at the deadline too. The client's own
 *   retries should be off (`maxAttempts: 1`), so the deadline bounds every attempt;
 * - a chunk DynamoDB refuses as a whole (ValidationException: an item over 400 KB, a key attribute
 *   missing or of the wrong type) is written again item by item (PutItem / DeleteItem), so the items that
 *   are fine are written and each refused one is returned with DynamoDB's reason — unless DynamoDB refuses
 *   it for the table's key (target-failures.ts): that, a missing table and access denied are
 *   `SinkTargetError`s, failures of the target, never refused records.
 *
 * @example
 * ```ts
 * const refused = await writeItems(writes, { client, keyAttributes: ['partition', 'offset'], deadlineMs, clock });
 * for (const { write, reason } of refused) console.log(write.record.kafkaOffset, reason);
 * ```
 * @module
 */
import {
  type AttributeValue,
  BatchWriteItemCommand,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { ConnectFnError, Stage } from '../../errors.ts';
import { attributeIdentity, type ItemWrite } from './item-mapping.ts';
import { isKeySchemaRefusal, isTargetRefusal, keySchemaChanged, targetRefusal } from './target-failures.ts';

/** The most items one BatchWriteItem takes. */
export const BATCH_WRITE_MAX_ITEMS = 25;
/** Chunks in flight at once: enough to hide round trips, few enough not to trip throttling at once. */
export const WRITE_CONCURRENCY = 4;
const FIRST_DELAY_MS = 50;
const MAX_DELAY_MS = 5_000;
/** The longest timer Node sets (2^31 - 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;

/** Time, injectable for tests (the runtime's `Clock` has this shape). */
export interface WriterClock {
  nowMs(): number;
  sleep(ms: number): Promise<void>;
}

/** Writing to DynamoDB failed for a whole request (not for one record). */
export class DynamoDbWriteError extends ConnectFnError {
  readonly code = 'CONNECT_FN_DYNAMODB_WRITE';
}

/** What the retry helpers need (shared with the exactly-once writer). */
export interface RetryOptions {
  /** Epoch ms (per `clock`) after which no attempt starts. */
  readonly deadlineMs: number;
  readonly clock: WriterClock;
  /** In [0, 1); injected so tests are deterministic. */
  readonly random?: () => number;
  /** Called once per retry, with why (for logs and tests). */
  readonly onRetry?: (reason: string, attempt: number, delayMs: number) => void;
}

export interface WriteItemsOptions extends RetryOptions {
  readonly client: DynamoDBClient;
  /** The key attribute names (hash, then sort), to match `UnprocessedItems` to their writes. */
  readonly keyAttributes: readonly string[];
}

/** A write DynamoDB refused, with its reason. */
export interface RefusedWrite {
  readonly write: ItemWrite;
  readonly reason: string;
}

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TransactionConflictException',
]);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND']);

interface SdkError {
  readonly name?: string;
  readonly code?: string;
  readonly $retryable?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

/** Worth retrying: throttling, a server-side fault, a lost connection. */
export function isTransientFailure(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as SdkError;
  if (e.name !== undefined && THROTTLING.has(e.name)) return true;
  if (e.$retryable !== undefined) return true;
  if ((e.$metadata?.httpStatusCode ?? 0) >= 500) return true;
  return e.code !== undefined && NETWORK_CODES.has(e.code);
}

const isValidation = (err: unknown) => err instanceof Error && err.name === 'ValidationException';

/** Writes every write (see the module doc); returns the ones DynamoDB refused. */
export function writeItems(
  writes: readonly ItemWrite[],
  options: WriteItemsOptions,
): Promise<RefusedWrite[]> {
  let next = 0;
  return writeChunks(async () => {
    if (next >= writes.length) return undefined;
    next += BATCH_WRITE_MAX_ITEMS;
    return writes.slice(next - BATCH_WRITE_MAX_ITEMS, next);
  }, options);
}

/**
 * The next chunk of writes to make — at most {@link BATCH_WRITE_MAX_ITEMS}, and across all chunks at most
 * one write per item — or undefined when there are no more. Called by each writer when it is free, so a
 * chunk may be prepared (e.g. marshalled) while the ones before it are in flight; a rejection fails the
 * call as a failed write does.
 */
export type ChunkSource = () => Promise<readonly ItemWrite[] | undefined>;

/**
 * {@link writeItems} for writes prepared chunk by chunk: {@link WRITE_CONCURRENCY} writers take chunks from
 * `nextChunk` until it has no more. After a failure no writer takes another chunk; the call fails once the
 * chunks in flight have settled. Returns the writes DynamoDB refused.
 */
export async function writeChunks(
  nextChunk: ChunkSource,
  options: WriteItemsOptions,
): Promise<RefusedWrite[]> {
  const refused: RefusedWrite[] = [];
  // One deadline signal for every request of the call (not one timer per request).
  const chunkOptions = { ...options, deadlineSignal: deadlineSignal(options) };
  let failed = false;
  const writer = async () => {
    try {
      for (let chunk = await nextChunk(); chunk !== undefined && !failed; chunk = await nextChunk()) {
        if (chunk.length > 0) refused.push(...(await writeChunk(chunk, chunkOptions)));
      }
    } catch (err) {
      failed = true;
      throw err;
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: WRITE_CONCURRENCY }, writer));
  // Every chunk has settled: nothing of this put is still being written when it fails.
  const failure = settled.find((s) => s.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
  return refused;
}

/** One BatchWriteItem chunk, with its unprocessed items retried. */
async function writeChunk(chunk: readonly ItemWrite[], options: ChunkOptions): Promise<RefusedWrite[]> {
  let byIdentity: ReadonlyMap<string, ItemWrite> | undefined;
  let pending: readonly ItemWrite[] = chunk;
  for (let attempt = 0; ; attempt++) {
    try {
      const command = new BatchWriteItemCommand({ RequestItems: requestItems(pending) });
      const out = await withinDeadline(
        options,
        (abortSignal) => options.client.send(command, { abortSignal }),
        options.deadlineSignal,
      );
      if (isEmpty(out.UnprocessedItems)) return [];
      byIdentity ??= new Map(chunk.map((w) => [w.identity, w]));
      pending = unprocessed(out.UnprocessedItems, byIdentity, options.keyAttributes);
      if (pending.length === 0) return [];
      await backoff(options, attempt, `${pending.length} of ${chunk.length} items unprocessed`, pending);
    } catch (err) {
      if (err instanceof DynamoDbWriteError) throw err;
      if (isValidation(err)) return writeOneByOne(pending, options);
      if (!isTransientFailure(err)) throw requestFailure('BatchWriteItem', err, pending);
      await backoff(options, attempt, errorName(err), pending, err);
    }
  }
}

interface ChunkOptions extends WriteItemsOptions {
  /** Aborts at the deadline: shared by the requests of one {@link writeChunks} call. */
  readonly deadlineSignal: AbortSignal;
}

function isEmpty(items: Record<string, readonly unknown[]> | undefined): boolean {
  for (const table in items) if ((items[table]?.length ?? 0) > 0) return false;
  return true;
}

function requestItems(writes: readonly ItemWrite[]): Record<string, WriteRequest[]> {
  const items: Record<string, WriteRequest[]> = {};
  for (const w of writes) {
    const requests = items[w.table] ?? [];
    requests.push(w.request);
    items[w.table] = requests;
  }
  return items;
}

function unprocessed(
  items: Record<string, WriteRequest[]> | undefined,
  byIdentity: ReadonlyMap<string, ItemWrite>,
  keyAttributes: readonly string[],
): ItemWrite[] {
  const out: ItemWrite[] = [];
  for (const [table, requests] of Object.entries(items ?? {})) {
    for (const request of requests) {
      const key: Record<string, AttributeValue> | undefined =
        request.PutRequest?.Item ?? request.DeleteRequest?.Key;
      const identity = `${table}\u0000${keyAttributes.map((a) => attributeIdentity(key?.[a] ?? { NULL: true })).join('\u0000')}`;
      const write = byIdentity.get(identity);
      if (write === undefined) {
        throw new DynamoDbWriteError(
          `BatchWriteItem returned an unprocessed item of ${table} it was not sent`,
          {
            stage: Stage.TASK_PUT,
          },
        );
      }
      out.push(write);
    }
  }
  return out;
}

/** After a chunk was refused as a whole: each write alone, to find the ones DynamoDB refuses. */
async function writeOneByOne(
  writes: readonly ItemWrite[],
  options: WriteItemsOptions,
): Promise<RefusedWrite[]> {
  const refused: RefusedWrite[] = [];
  for (const write of writes) {
    for (let attempt = 0; ; attempt++) {
      try {
        await withinDeadline(options, (abortSignal) => sendSingle(options.client, write, abortSignal));
        break;
      } catch (err) {
        if (isValidation(err)) {
          const message = (err as Error).message;
          if (isKeySchemaRefusal(message)) throw keySchemaChanged(write.table, message);
          refused.push({ write, reason: `DynamoDB refused the item: ${message}` });
          break;
        }
        if (!isTransientFailure(err)) throw requestFailure(singleName(write), err, [write]);
        await backoff(options, attempt, errorName(err), [write], err);
      }
    }
  }
  return refused;
}

async function sendSingle(client: DynamoDBClient, write: ItemWrite, abortSignal: AbortSignal): Promise<void> {
  const { PutRequest, DeleteRequest } = write.request;
  if (PutRequest?.Item !== undefined) {
    await client.send(new PutItemCommand({ TableName: write.table, Item: PutRequest.Item }), { abortSignal });
  } else {
    await client.send(new DeleteItemCommand({ TableName: write.table, Key: DeleteRequest?.Key }), {
      abortSignal,
    });
  }
}

const singleName = (write: ItemWrite) => (write.request.PutRequest ? 'PutItem' : 'DeleteItem');

/** A signal that aborts at `options.deadlineMs` (by the real timer; `clock` only decides whether to start). */
export function deadlineSignal(options: RetryOptions): AbortSignal {
  const remainingMs = options.deadlineMs - options.clock.nowMs();
  return AbortSignal.timeout(Math.min(Math.max(remainingMs, 0), MAX_TIMER_MS));
}

/**
 * One request (`send(abortSignal)`), aborted at the deadline: by `signal` when given (one made by
 * {@link deadlineSignal} for the same deadline), else by a signal of its own.
 */
export async function withinDeadline<O>(
  options: RetryOptions,
  send: (abortSignal: AbortSignal) => Promise<O>,
  signal?: AbortSignal,
): Promise<O> {
  const remainingMs = options.deadlineMs - options.clock.nowMs();
  if (remainingMs <= 0) throw deadlineFailure('the invocation deadline passed before the write');
  const abortSignal = signal ?? AbortSignal.timeout(Math.min(remainingMs, MAX_TIMER_MS));
  try {
    return await send(abortSignal);
  } catch (err) {
    // Our deadline is known by our signal, not by the error's name: the SDK names a connection reset
    // (ECONNRESET, EPIPE) `TimeoutError` too, and that one is retried like any lost connection.
    if (abortSignal.aborted) {
      throw deadlineFailure('a write was still in flight at the invocation deadline', err);
    }
    throw err;
  }
}

/** Waits before retry `attempt`, or fails when the wait would end at or after the deadline. */
export async function backoff(
  options: RetryOptions,
  attempt: number,
  reason: string,
  pending: readonly unknown[],
  cause?: unknown,
): Promise<void> {
  const ceilingMs = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** attempt);
  const delayMs = Math.round(ceilingMs / 2 + ((options.random ?? Math.random)() * ceilingMs) / 2);
  if (options.clock.nowMs() + delayMs >= options.deadlineMs) {
    throw deadlineFailure(
      `${pending.length} items not written by the invocation deadline after ${attempt + 1} attempts (last: ${reason})`,
      cause,
    );
  }
  options.onRetry?.(reason, attempt + 1, delayMs);
  await options.clock.sleep(delayMs);
}

export function deadlineFailure(message: string, cause?: unknown): DynamoDbWriteError {
  return new DynamoDbWriteError(`dynamodb sink: ${message}`, {
    retriable: true,
    stage: Stage.TASK_PUT,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** A request that failed for good: a target failure (target-failures.ts), or a failed write. */
export function requestFailure(
  operation: string,
  err: unknown,
  pending: readonly { readonly table: string }[],
): ConnectFnError {
  const tables = [...new Set(pending.map((w) => w.table))].join(', ');
  if (isTargetRefusal(err)) return targetRefusal(operation, tables, err);
  return new DynamoDbWriteError(
    `dynamodb sink: ${operation} to ${tables} failed: ${errorName(err)}: ${err instanceof Error ? err.message : String(err)}`,
    { cause: err, stage: Stage.TASK_PUT },
  );
}

export function errorName(err: unknown): string {
  if (!(err instanceof Error)) return typeof err;
  const code = (err as SdkError).code;
  return code === undefined || code === err.name ? err.name : `${err.name} ${code}`;
}
