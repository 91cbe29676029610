/**
 * The sink offsets store in Connect's consumer group, with kafkajs' admin and our transactional writer
 * faked (the broker's side is test/integration/kafka/group-offsets.test.ts).
 */
import type { Kafka } from 'kafkajs';
import { describe, expect, it, vi } from 'vitest';
import { FencedError } from '../../../src/errors.ts';
import { defaultSettings } from '../../../src/kafka/client-settings.ts';
import { GroupInUseError, KafkaOperationError } from '../../../src/kafka/errors.ts';
import type { ConsumerGroupAnswer } from '../../../src/kafka/group-members.ts';
import { KafkaGroupOffsetStore } from '../../../src/kafka/group-offsets.ts';
import type { KafkaTransaction } from '../../../src/kafka/transactional-writer.ts';
import { fakeEndpoint } from './worker-values.ts';

type Group = { state: string; members: unknown[] };

/** A store over a fake admin (`group`, `offsets`) and fake writers whose sendOffsets answers `sendOutcomes`. */
function fakeStore(
  options: {
    group?: Group;
    listed?: { groupId: string; protocolType: string }[];
    kip848?: ConsumerGroupAnswer;
    offsets?: unknown;
    sendOutcomes?: (Error | undefined)[];
  } = {},
) {
  const admin = {
    connect: vi.fn(async () => undefined),
    disconnect: vi.fn(async () => undefined),
    fetchTopicMetadata: vi.fn(async () => ({ topics: [] })),
    describeGroups: vi.fn(async () => ({ groups: [options.group ?? { state: 'Empty', members: [] }] })),
    listGroups: vi.fn(async () => ({ groups: options.listed ?? [] })),
    fetchOffsets: vi.fn(async () => options.offsets ?? []),
  };
  const transactions: {
    sendOffsets: ReturnType<typeof vi.fn>;
    commit: ReturnType<typeof vi.fn>;
    abort: ReturnType<typeof vi.fn>;
  }[] = [];
  const writer = {
    begin: vi.fn(async (): Promise<KafkaTransaction> => {
      const txn = {
        send: vi.fn(async () => undefined),
        sendOffsets: vi.fn(async () => {
          const outcome = options.sendOutcomes?.shift();
          if (outcome !== undefined) throw outcome;
        }),
        commit: vi.fn(async () => undefined),
        abort: vi.fn(async () => undefined),
      };
      transactions.push(txn);
      return txn;
    }),
    close: vi.fn(async () => undefined),
  };
  const newWriter = vi.fn(() => writer);
  const describeConsumerGroup = vi.fn(
    async (): Promise<ConsumerGroupAnswer> => options.kip848 ?? { kind: 'unknown', reason: 'not faked' },
  );
  const store = new KafkaGroupOffsetStore({
    newWriter,
    describeConsumerGroup,
    admin: {
      kafka: { admin: () => admin } as unknown as Kafka,
      settings: defaultSettings().admin,
      endpoint: fakeEndpoint(),
    },
  });
  return { store, admin, writer, newWriter, transactions, describeConsumerGroup };
}

describe('KafkaGroupOffsetStore (kafkajs faked)', () => {
  it("opens the task's writer and begins a transaction at once (the fencing step)", async () => {
    const { store, newWriter, writer } = fakeStore();

    await store.open('s3-sink', 2);

    expect(newWriter).toHaveBeenCalledWith('s3-sink', 2);
    expect(writer.begin).toHaveBeenCalledTimes(1);
  });

  it("reads group connect-<name> in one OffsetFetch, in the caller's order; -1 and kafkajs' -2 read as undefined", async () => {
    // Prepare
    const offsets = [
      {
        topic: 'a',
        partitions: [
          { partition: 0, offset: '5' },
          { partition: 1, offset: '-1' },
        ],
      },
      {
        topic: 'b',
        partitions: [
          { partition: 0, offset: '-2' },
          { partition: 1, offset: '0' },
        ],
      },
    ];
    const { store, admin } = fakeStore({ offsets });
    const session = await store.open('s3-sink', 0);
    // Act
    const read = await session.read([
      { topic: 'b', partition: 1 },
      { topic: 'a', partition: 1 },
      { topic: 'a', partition: 0 },
      { topic: 'b', partition: 0 },
      { topic: 'a', partition: 7 },
    ]);
    // Assess
    expect(read).toEqual([0, undefined, 5, undefined, undefined]);
    expect(admin.fetchOffsets).toHaveBeenCalledTimes(1);
    expect(admin.fetchOffsets).toHaveBeenCalledWith({ groupId: 'connect-s3-sink', topics: ['b', 'a'] });
  });

  it('commits in the open transaction, then begins the next one only for the next commit', async () => {
    const { store, writer, transactions } = fakeStore();
    const session = await store.open('s3-sink', 0);

    await session.commit([{ topic: 'a', partition: 0, offset: 3 }]);
    expect(writer.begin).toHaveBeenCalledTimes(1);
    await session.commit([{ topic: 'a', partition: 0, offset: 4 }]);

    expect(writer.begin).toHaveBeenCalledTimes(2);
    expect(transactions[0]!.sendOffsets).toHaveBeenCalledWith('connect-s3-sink', [
      { topic: 'a', partition: 0, offset: 3 },
    ]);
    expect(transactions.map((t) => t.commit.mock.calls.length)).toEqual([1, 1]);
  });

  it('aborts the transaction when sending offsets fails, so nothing it sent is committed later', async () => {
    // Prepare
    const failure = new KafkaOperationError('coordinator gone', { retriable: true });
    const { store, transactions } = fakeStore({ sendOutcomes: [failure] });
    const session = await store.open('s3-sink', 0);
    // Act
    const first = await session.commit([{ topic: 'a', partition: 0, offset: 3 }]).catch((e: unknown) => e);
    await session.commit([{ topic: 'a', partition: 0, offset: 3 }]);
    // Assess
    expect(first).toBe(failure);
    expect(transactions[0]!.abort).toHaveBeenCalledTimes(1);
    expect(transactions[0]!.commit).not.toHaveBeenCalled();
    expect(transactions[1]!.commit).toHaveBeenCalledTimes(1);
  });

  it('passes FencedError on without committing', async () => {
    const { store, transactions } = fakeStore({ sendOutcomes: [new FencedError('fenced')] });
    const session = await store.open('s3-sink', 0);

    await expect(session.commit([{ topic: 'a', partition: 0, offset: 3 }])).rejects.toBeInstanceOf(
      FencedError,
    );

    expect(transactions[0]!.commit).not.toHaveBeenCalled();
    await session.close(); // never throws for a fenced session
  });

  it('sends nothing for an empty commit', async () => {
    const { store, transactions } = fakeStore();
    const session = await store.open('s3-sink', 0);

    await session.commit([]);

    expect(transactions[0]!.sendOffsets).not.toHaveBeenCalled();
    expect(transactions[0]!.commit).not.toHaveBeenCalled();
  });

  it('refuses to open while the group has members, and closes what it opened', async () => {
    // Prepare: Kafka Connect still runs the connector
    const { store, admin, writer } = fakeStore({ group: { state: 'Stable', members: [{}, {}] } });
    // Act
    const err = await store.open('s3-sink', 0).catch((e: unknown) => e);
    // Assess
    expect(err).toBeInstanceOf(GroupInUseError);
    expect(String(err)).toMatch(
      /connector s3-sink still runs in Kafka Connect: its consumer group connect-s3-sink has 2 members \(state Stable\)/,
    );
    expect(writer.close).toHaveBeenCalledTimes(1);
    expect(admin.disconnect).toHaveBeenCalledTimes(1);
  });

  it('refuses a KIP-848 group that DescribeGroups calls Dead but ConsumerGroupDescribe shows a member of', async () => {
    // Prepare: a Kafka Connect 4.x sink with group.protocol=consumer
    const { store, writer, describeConsumerGroup } = fakeStore({
      group: { state: 'Dead', members: [] },
      listed: [{ groupId: 'connect-s3-sink', protocolType: 'consumer' }],
      kip848: { kind: 'described', state: 'Stable', members: 1 },
    });
    // Act
    const err = await store.open('s3-sink', 0).catch((e: unknown) => e);
    // Assess
    expect(err).toBeInstanceOf(GroupInUseError);
    expect(String(err)).toMatch(/connect-s3-sink has 1 member \(a KIP-848 consumer group, state Stable\)/);
    expect(describeConsumerGroup).toHaveBeenCalledWith(expect.anything(), 'connect-s3-sink');
    expect(writer.close).toHaveBeenCalledTimes(1);
  });

  it('opens for a new sink: a group that is Dead and not listed does not exist', async () => {
    const { store, describeConsumerGroup } = fakeStore({ group: { state: 'Dead', members: [] } });
    await expect(store.open('s3-sink', 0)).resolves.toBeDefined();
    expect(describeConsumerGroup).not.toHaveBeenCalled();
  });

  it('closes its writer and admin once; a closed session refuses reads and commits', async () => {
    const { store, admin, writer } = fakeStore();
    const session = await store.open('s3-sink', 0);

    await session.close();
    await session.close();

    expect(writer.close).toHaveBeenCalledTimes(1);
    expect(admin.disconnect).toHaveBeenCalledTimes(1);
    await expect(session.read([{ topic: 'a', partition: 0 }])).rejects.toThrow(/closed/);
    await expect(session.commit([{ topic: 'a', partition: 0, offset: 1 }])).rejects.toThrow(/closed/);
  });
});
