/**
 * The rule that keeps a deleted offsets topic from silently sending a source's records again: a missing
 * `offset.storage.topic` is created only for connectors that have never run against it.
 *
 * The evidence that a connector ran is its exactly-once transactional ids, `<group.id>-<connector>-<task>`
 * (KIP-618's naming), still known to the cluster's transaction coordinators (ListTransactions). Every
 * exactly-once invocation begins a transaction before it reads its offsets, so a connector that ever
 * committed a batch has one, kept by the broker for `transactional.id.expiration.ms` (7 days by default)
 * after its last transaction. It is cheap (one request per broker, and only when the topic is missing),
 * needs no write on the hot path, and cannot be confused with another connector's records in a shared
 * data topic. What it does not see: an at-least-once source (no transactional id), a connector idle for
 * longer than the expiration, a cluster before Kafka 3.0 (no ListTransactions) — there the topic is
 * created as before.
 * @module
 */
import { OffsetsLostError } from './errors.ts';

/** What the check needs: whose ids to look for, and the cluster's ids. */
export interface PriorRunCheck {
  /** `group.id`: the namespace of the transactional ids. */
  readonly groupId: string;
  /** The connectors that will keep offsets in the topic. */
  readonly connectors: readonly string[];
  /** Every transactional id the cluster knows; undefined when it cannot list them. */
  transactionalIds(): Promise<readonly string[] | undefined>;
}

/** How many ids an error names at most. */
const SHOWN_IDS = 5;

/** True when `id` is `<groupId>-<connector>-<task number>`. */
export function isTaskTransactionalId(id: string, groupId: string, connector: string): boolean {
  const prefix = `${groupId}-${connector}-`;
  return id.startsWith(prefix) && /^\d{1,9}$/.test(id.slice(prefix.length));
}

/**
 * Throws `OffsetsLostError` when `topic` is missing but a connector of `check` has run (see the module
 * doc); resolves when the topic may be created.
 */
export async function refuseLostOffsets(check: PriorRunCheck, topic: string): Promise<void> {
  const ids = await check.transactionalIds();
  if (ids === undefined) return;
  for (const connector of check.connectors) {
    const found = ids.filter((id) => isTaskTransactionalId(id, check.groupId, connector)).sort();
    if (found.length === 0) continue;
    const shown = found.slice(0, SHOWN_IDS).join(', ') + (found.length > SHOWN_IDS ? ', ...' : '');
    throw new OffsetsLostError(
      `offsets topic ${topic} does not exist, but connector ${connector} has run before: the cluster knows ` +
        `its exactly-once transactional id${found.length === 1 ? '' : 's'} ${shown}. Its committed offsets ` +
        'were in that topic; creating it empty would start the connector over and send its records again. ' +
        `Restore the topic (or the connector's offsets), or, to start over on purpose, create ${topic} ` +
        'yourself (compacted: --config cleanup.policy=compact)',
    );
  }
}
