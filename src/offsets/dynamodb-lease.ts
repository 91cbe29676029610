/**
 * The lease of one task in the DynamoDB offsets table: item `pk = <connector>`, `sk = #lease#<task>`.
 *
 * The newest invocation wins. Lambda schedules can fire twice and overlap, and an old invocation may be a
 * zombie (frozen, partitioned, past its timeout) that would otherwise hold the task until its lease
 * expired; since every offset commit is fenced, taking over is always safe:
 *
 * ```
 *   A: open ── acquire → (A, epoch 4) ── read ── commit ✓ ─────────────── commit ✗ FencedError, writes nothing
 *   B:                                      open ── acquire → (B, epoch 5) ── read (sees A's ✓) ── commit ✓ ── close
 *   lease item:  (A,4) ─────────────────────────────── (B,5) ──────────────────────────────────────── released
 * ```
 *
 * - acquire: unconditional `SET owner = :me, expiresAtMs ADD epoch 1`. ADD is atomic, so concurrent
 *   acquisitions get distinct epochs and the one DynamoDB applies last holds the lease; `ALL_OLD` tells
 *   who held it before and whether their lease had expired (an overlap, worth a log line).
 * - commit (dynamodb-store.ts): one TransactWriteItems = ConditionCheck `owner = :me AND epoch = :epoch`
 *   on this item + the offset writes. All or nothing: after B's acquire, A's check fails and nothing of
 *   A's is written. B reads with ConsistentRead after its acquire, so it sees every commit A made.
 * - release (close): `REMOVE owner SET expiresAtMs = :now` only if still `owner = :me AND epoch =
 *   :epoch`; a lost lease is left alone. The item (and its epoch) stays, so epochs only grow.
 * - `expiresAtMs` = acquisition time + lease duration (the invocation's longest life). Nothing refuses
 *   on it: it tells whether a takeover cut into a live invocation, and when a crashed holder had to end.
 * @module
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  ResourceNotFoundException,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { OffsetStorageError } from './errors.ts';

/** The lease a session holds. */
export interface LeaseGrant {
  readonly owner: string;
  readonly epoch: number;
  readonly expiresAtMs: number;
  /** Who held the lease before, if anyone did (released leases have no owner). */
  readonly previous?: {
    readonly owner: string;
    readonly epoch: number;
    readonly expiresAtMs: number;
    /** False when this acquisition took the task from an invocation that may still be running. */
    readonly expired: boolean;
  };
}

/** Where a lease lives. */
export interface LeaseLocation {
  readonly client: DynamoDBClient;
  readonly table: string;
  readonly connector: string;
  readonly taskId: number;
}

/** The key of a task's lease item. */
export function leaseKey(connector: string, taskId: number): Record<string, AttributeValue> {
  return { pk: { S: connector }, sk: { S: `#lease#${taskId}` } };
}

/** Names shared by every lease expression. */
const NAMES = { '#owner': 'owner', '#epoch': 'epoch', '#expiresAtMs': 'expiresAtMs' } as const;

/** Still the holder: nobody acquired the lease since we did. */
export const HOLDS_LEASE = '#owner = :owner AND #epoch = :epoch';

/** The values {@link HOLDS_LEASE} compares with. */
export function holdsLeaseValues(grant: LeaseGrant): Record<string, AttributeValue> {
  return { ':owner': { S: grant.owner }, ':epoch': { N: String(grant.epoch) } };
}

/** {@link HOLDS_LEASE}'s attribute names. */
export const HOLDS_LEASE_NAMES = { '#owner': NAMES['#owner'], '#epoch': NAMES['#epoch'] } as const;

/**
 * Takes the task's lease (see the module notes: the newest invocation always wins).
 *
 * @example
 * ```ts
 * const grant = await acquireLease({ client, table, connector: 'orders', taskId: 0 }, 'a1b2', Date.now(), 900_000);
 * if (grant.previous && !grant.previous.expired) logger.warn('took over an overlapping invocation');
 * ```
 */
export async function acquireLease(
  where: LeaseLocation,
  owner: string,
  nowMs: number,
  durationMs: number,
): Promise<LeaseGrant> {
  const expiresAtMs = nowMs + durationMs;
  try {
    const { Attributes: old } = await where.client.send(
      new UpdateItemCommand({
        TableName: where.table,
        Key: leaseKey(where.connector, where.taskId),
        UpdateExpression: 'SET #owner = :owner, #expiresAtMs = :expiresAtMs ADD #epoch :one',
        ExpressionAttributeNames: NAMES,
        ExpressionAttributeValues: {
          ':owner': { S: owner },
          ':expiresAtMs': { N: String(expiresAtMs) },
          ':one': { N: '1' },
        },
        ReturnValues: 'ALL_OLD',
      }),
    );
    const epoch = Number(old?.epoch?.N ?? '0') + 1;
    const previousOwner = old?.owner?.S;
    if (previousOwner === undefined) return { owner, epoch, expiresAtMs };
    const previousExpiresAtMs = Number(old?.expiresAtMs?.N ?? '0');
    const previous = {
      owner: previousOwner,
      epoch: epoch - 1,
      expiresAtMs: previousExpiresAtMs,
      expired: previousExpiresAtMs <= nowMs,
    };
    return { owner, epoch, expiresAtMs, previous };
  } catch (err) {
    const missing = err instanceof ResourceNotFoundException;
    const hint = missing ? ' (the infrastructure creates the table; local runs may set createIfMissing)' : '';
    throw new OffsetStorageError(
      `cannot take the offsets lease of task ${where.taskId} of ${where.connector} in table ${where.table}: ` +
        `${(err as Error).message}${hint}`,
      { cause: err, retriable: !missing },
    );
  }
}

/**
 * Gives the lease up if `grant` still holds it; resolves `false` when it had already been taken over.
 *
 * @example
 * ```ts
 * const released = await releaseLease(where, grant, Date.now()); // false: a newer invocation holds it
 * ```
 */
export async function releaseLease(where: LeaseLocation, grant: LeaseGrant, nowMs: number): Promise<boolean> {
  try {
    await where.client.send(
      new UpdateItemCommand({
        TableName: where.table,
        Key: leaseKey(where.connector, where.taskId),
        UpdateExpression: 'REMOVE #owner SET #expiresAtMs = :nowMs',
        ConditionExpression: HOLDS_LEASE,
        ExpressionAttributeNames: NAMES,
        ExpressionAttributeValues: { ...holdsLeaseValues(grant), ':nowMs': { N: String(nowMs) } },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return true;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return false;
    throw new OffsetStorageError(
      `cannot release the offsets lease of task ${where.taskId} of ${where.connector}: ${(err as Error).message}`,
      { cause: err, retriable: true },
    );
  }
}
