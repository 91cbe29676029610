/**
 * The rule that keeps a missing offsets topic from being recreated under a connector that already ran
 * (src/offsets/prior-runs.ts), through KafkaOffsetStore.create with a faked admin. The broker's side is
 * test/integration/offsets/offsets-topic-lost.test.ts.
 */
import { describe, expect, it, vi } from 'vitest';
import { OffsetsLostError } from '../../../src/offsets/errors.ts';
import { KafkaOffsetStore } from '../../../src/offsets/kafka-store.ts';
import { isTaskTransactionalId } from '../../../src/offsets/prior-runs.ts';
import type { PartitionReader } from '../../../src/runtime/ports.ts';

const reader = {} as PartitionReader; // never read: only create() runs

/** A store over an admin whose topic exists or not, and a cluster that knows `ids`. */
function create(options: { exists: boolean; ids: readonly string[] | undefined; connectors?: string[] }) {
  const admin = {
    topicExists: vi.fn(async () => options.exists),
    ensureTopic: vi.fn(async () => ({ partitions: 1 })),
  };
  const transactionalIds = vi.fn(async () => options.ids);
  const store = KafkaOffsetStore.create({
    topic: 'connect-offsets',
    partitions: 1,
    replicationFactor: 1,
    admin,
    reader,
    priorRuns: { groupId: 'connect-fn', connectors: options.connectors ?? ['orders'], transactionalIds },
  });
  return { store, admin, transactionalIds };
}

describe('a missing offsets topic and the connector’s prior runs', () => {
  it('creates the topic for a connector the cluster has no transactional id of', async () => {
    const { store, admin } = create({ exists: false, ids: ['connect-fn-other-0', 'orders-0'] });
    await store;
    expect(admin.ensureTopic).toHaveBeenCalledTimes(1);
  });

  it('refuses to create it when a task of the connector has a transactional id, naming the ids', async () => {
    const { store, admin } = create({ exists: false, ids: ['connect-fn-orders-1', 'connect-fn-orders-0'] });
    const err = await store.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OffsetsLostError);
    expect((err as OffsetsLostError).code).toBe('CONNECT_FN_OFFSETS_LOST');
    expect((err as OffsetsLostError).retriable).toBe(false);
    expect(String(err)).toMatch(
      /offsets topic connect-offsets does not exist, but connector orders has run before: .* transactional ids connect-fn-orders-0, connect-fn-orders-1\./,
    );
    expect(admin.ensureTopic).not.toHaveBeenCalled();
  });

  it('asks nothing of the cluster when the topic exists, and creates as before when ids cannot be listed', async () => {
    const existing = create({ exists: true, ids: ['connect-fn-orders-0'] });
    const unlisted = create({ exists: false, ids: undefined });
    await existing.store;
    await unlisted.store;
    expect(existing.transactionalIds).not.toHaveBeenCalled();
    expect(unlisted.admin.ensureTopic).toHaveBeenCalledTimes(1);
  });

  it('matches <group.id>-<connector>-<task> exactly: not another connector whose name extends it', () => {
    expect(isTaskTransactionalId('connect-fn-orders-0', 'connect-fn', 'orders')).toBe(true);
    expect(isTaskTransactionalId('connect-fn-orders-12', 'connect-fn', 'orders')).toBe(true);
    expect(isTaskTransactionalId('connect-fn-orders-eu-0', 'connect-fn', 'orders')).toBe(false);
    expect(isTaskTransactionalId('connect-fn-orders-', 'connect-fn', 'orders')).toBe(false);
    expect(isTaskTransactionalId('other-orders-0', 'connect-fn', 'orders')).toBe(false);
  });
});
