/**
 * `offset.storage=kafka` for sink connectors: the offsets live in Kafka Connect's own consumer group of the
 * sink, `connect-<connector>`, so a sink moved from Kafka Connect continues from the position Connect
 * committed, and the reverse. The group is never joined (a join costs ≥ 3 s, DESIGN.md §3):
 *
 * - read: OffsetFetch of the group (kafkajs `admin.fetchOffsets`), which needs no membership; `-1`
 *   (nothing committed) reads as undefined.
 * - commit: a transaction of the task's transactional producer, id `<group.id>-<connector>-<task>`:
 *   AddOffsetsToTxn + TxnOffsetCommit (`KafkaTransaction.sendOffsets`), then EndTxn. Opening a session
 *   begins a transaction at once, so its InitProducerId bumps the id's epoch: every older session of the
 *   task (an overlapping or zombie invocation) is fenced, and whatever it left open is aborted. Its next
 *   commit throws `FencedError` and moves no offset; offsets it had sent but not committed are discarded.
 *   After a commit the next transaction begins with the next commit.
 *
 * Visibility: the group shows committed offsets once the broker has written the transaction's commit
 * marker, a moment after `commit` returns. A session's `read` may therefore miss the session's own last
 * commit; the next session does not (its InitProducerId waits until the previous transaction completed).
 *
 * **Kafka Connect must not run the connector at the same time.** The broker accepts our commits even
 * while Connect's consumers are members of the group: a TxnOffsetCommit that carries no member id and
 * generation (kafkajs sends versions 0 and 1, which have neither) is exempt from the membership check, so
 * the group coordinator stores it whatever the group's state, where a plain OffsetCommit from a non-member
 * of a non-empty group gets UNKNOWN_MEMBER_ID. Commits of Connect's task and ours would interleave, each
 * overwriting the other's position, and Connect's task would not even notice (it keeps its position in
 * memory): records would be delivered twice, or skipped by one of the two. So a session refuses to open
 * unless the group is proven to have no members (./group-members.ts: DescribeGroups is blind to Kafka 4's
 * KIP-848 groups; stop or delete the connector in Connect first; a crashed Connect worker's members stay
 * until their session timeout, 45 s by default). That check is made once, when the session opens: a
 * Connect worker that starts the connector later is only seen by the next invocation.
 * @module
 */
import type { Admin } from 'kafkajs';
import { FencedError } from '../errors.ts';
import type { SinkOffsetSession, SinkOffsetStore } from '../runtime/ports.ts';
import type { TopicPartition, TopicPartitionOffset } from '../spi/sink.ts';
import {
  type ConsumerGroupAnswer,
  describeConsumerGroup,
  type GroupQueries,
  refuseGroupMembers,
} from './group-members.ts';
import { hasKafkaType, isTransientKafkaError, kafkaFailure } from './kafka-failure.ts';
import { RawCluster } from './raw-cluster.ts';
import type { AdminContext } from './topic-admin.ts';
import type { KafkaTransaction } from './transactional-writer.ts';

/** The group coordinator loading or moving: another try (which finds the coordinator afresh) may work. */
const COORDINATOR_MOVING: ReadonlySet<string> = new Set([
  'GROUP_LOAD_IN_PROGRESS',
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR_FOR_GROUP',
]);
/** Tries of an admin request, with pauses doubling from 50 ms (~750 ms in all). */
const ADMIN_TRIES = 5;
const FIRST_PAUSE_MS = 50;

/** What a session needs of its task's transactional producer: a `KafkaTransactionalWriter`. */
export interface GroupOffsetsWriter {
  begin(): Promise<KafkaTransaction>;
  close(): Promise<void>;
}

export interface KafkaGroupOffsetStoreOptions {
  /**
   * A new transactional writer of task `taskId` of `connector`, id `<group.id>-<connector>-<task>`, with the
   * transaction timeout the caller wants; one per session (a fresh one fences the older ones).
   */
  readonly newWriter: (connector: string, taskId: number) => GroupOffsetsWriter;
  /** Where offsets are read; each session has a kafkajs admin of its own. */
  readonly admin: AdminContext;
  /** ConsumerGroupDescribe of a KIP-848 group; default {@link describeKip848Group}. Tests replace it. */
  readonly describeConsumerGroup?: (context: AdminContext, groupId: string) => Promise<ConsumerGroupAnswer>;
}

/** ConsumerGroupDescribe through a short-lived view of kafkajs' cluster. */
export async function describeKip848Group(
  context: AdminContext,
  groupId: string,
): Promise<ConsumerGroupAnswer> {
  const raw = new RawCluster(context.kafka, context.settings.retry);
  try {
    return await describeConsumerGroup(raw, groupId);
  } finally {
    await raw.close().catch(() => undefined);
  }
}

/** Kafka Connect's consumer group of sink connector `connector` (`SinkUtils.consumerGroupId`). */
export function sinkGroupId(connector: string): string {
  return `connect-${connector}`;
}

/**
 * @example
 * ```ts
 * const store = clients.sinkOffsetStore({ groupId: 'connect-cluster', transactionTimeoutMs: 60_000 });
 * const session = await store.open('s3-sink', 0); // fences older invocations of task 0
 * const [next] = await session.read([{ topic: 'orders', partition: 0 }]); // undefined: never committed
 * await session.commit([{ topic: 'orders', partition: 0, offset: 42 }]); // FencedError once superseded
 * await session.close();
 * ```
 */
export class KafkaGroupOffsetStore implements SinkOffsetStore {
  readonly #options: KafkaGroupOffsetStoreOptions;

  constructor(options: KafkaGroupOffsetStoreOptions) {
    this.#options = options;
  }

  /**
   * Begins the task's first transaction (fencing older sessions) and checks that no one is a member of
   * the group; throws `GroupInUseError` when Kafka Connect still runs the connector, or may (./group-members.ts).
   */
  async open(connector: string, taskId: number): Promise<KafkaGroupOffsetSession> {
    const writer = this.#options.newWriter(connector, taskId);
    const describe = this.#options.describeConsumerGroup ?? describeKip848Group;
    const group = new GroupAdmin(this.#options.admin, sinkGroupId(connector), describe);
    const [begun, checked] = await Promise.allSettled([writer.begin(), group.refuseMembers(connector)]);
    if (begun.status === 'fulfilled' && checked.status === 'fulfilled') {
      return new KafkaGroupOffsetSession(group, writer, begun.value);
    }
    await Promise.allSettled([writer.close(), group.close()]);
    throw begun.status === 'rejected' ? begun.reason : (checked as PromiseRejectedResult).reason;
  }
}

/** One invocation's session: its own transactional producer and admin, closed by `close`. */
export class KafkaGroupOffsetSession implements SinkOffsetSession {
  readonly #group: GroupAdmin;
  readonly #writer: GroupOffsetsWriter;
  /** The transaction the next commit uses, when one is open. */
  #transaction: KafkaTransaction | undefined;
  #closed = false;

  constructor(group: GroupAdmin, writer: GroupOffsetsWriter, transaction: KafkaTransaction) {
    this.#group = group;
    this.#writer = writer;
    this.#transaction = transaction;
  }

  /** The consumer group the offsets are committed to, `connect-<connector>`. */
  get groupId(): string {
    return this.#group.groupId;
  }

  async read(partitions: readonly TopicPartition[]): Promise<readonly (number | undefined)[]> {
    this.#checkOpen();
    return this.#group.committedOffsets(partitions);
  }

  async commit(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    this.#checkOpen();
    if (offsets.length === 0) return;
    const transaction = this.#transaction ?? (await this.#writer.begin());
    this.#transaction = undefined;
    try {
      await transaction.sendOffsets(this.groupId, offsets);
    } catch (err) {
      // Offsets may be pending in the transaction: abort, so none become the group's later.
      if (!(err instanceof FencedError)) await transaction.abort().catch(() => undefined);
      throw err;
    }
    await transaction.commit();
  }

  /** Aborts an open transaction and disconnects. Never throws. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#transaction = undefined;
    await Promise.allSettled([this.#writer.close(), this.#group.close()]);
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error(`the offsets session of group ${this.groupId} is closed`);
  }
}

/** The group's side: OffsetFetch, DescribeGroups and ListGroups through a kafkajs admin, without joining. */
class GroupAdmin {
  readonly groupId: string;
  readonly #context: AdminContext;
  readonly #admin: Admin;
  #connecting: Promise<void> | undefined;

  readonly #describeConsumerGroup: NonNullable<KafkaGroupOffsetStoreOptions['describeConsumerGroup']>;

  constructor(
    context: AdminContext,
    groupId: string,
    describe: NonNullable<KafkaGroupOffsetStoreOptions['describeConsumerGroup']>,
  ) {
    this.groupId = groupId;
    this.#context = context;
    this.#describeConsumerGroup = describe;
    this.#admin = context.kafka.admin({ retry: context.settings.retry });
  }

  /** Throws `GroupInUseError` unless the group is proven to have no members (./group-members.ts). */
  async refuseMembers(connector: string): Promise<void> {
    await refuseGroupMembers(this.#queries, connector, this.groupId);
  }

  /** The group questions of the membership rule, through this admin (and kafkajs' cluster for API 69). */
  readonly #queries: GroupQueries = {
    describeClassic: async (groupId) => {
      const { groups } = await this.#call(`describing group ${groupId}`, () =>
        this.#admin.describeGroups([groupId]),
      );
      return { state: groups[0]?.state ?? 'Dead', members: groups[0]?.members.length ?? 0 };
    },
    listGroups: async () => {
      const { groups } = await this.#call('listing groups', () => this.#admin.listGroups());
      return groups;
    },
    describeConsumerGroup: (groupId) =>
      this.#call(`describing consumer group ${groupId}`, () =>
        this.#describeConsumerGroup(this.#context, groupId),
      ),
  };

  async committedOffsets(partitions: readonly TopicPartition[]): Promise<(number | undefined)[]> {
    if (partitions.length === 0) return [];
    const topics = [...new Set(partitions.map((p) => p.topic))];
    const answer = await this.#call(
      `reading the offsets of group ${this.groupId}`,
      () => this.#admin.fetchOffsets({ groupId: this.groupId, topics }),
      topics.length === 1 ? topics[0] : undefined,
    );
    const committed = new Map<string, number>();
    for (const { topic, partitions: fetched } of answer) {
      for (const { partition, offset } of fetched) {
        const next = Number(offset);
        if (Number.isSafeInteger(next) && next >= 0) committed.set(key(topic, partition), next);
      }
    }
    return partitions.map((p) => committed.get(key(p.topic, p.partition)));
  }

  async close(): Promise<void> {
    await this.#admin.disconnect();
  }

  /** Connects on first use; tries again while the coordinator loads or moves, or the broker is briefly away. */
  async #call<T>(action: string, request: () => Promise<T>, topic?: string): Promise<T> {
    const { endpoint } = this.#context;
    // A fresh kafkajs admin knows no brokers until it has metadata: without this, its first group request
    // fails internally ("no brokers in the broker pool") and waits a retry pause (~100 ms per invocation).
    this.#connecting ??= (async () => {
      await this.#admin.connect();
      await this.#admin.fetchTopicMetadata({ topics: [] });
    })().catch((err: unknown) => {
      this.#connecting = undefined;
      throw kafkaFailure(err, endpoint, 'connecting');
    });
    await this.#connecting;
    for (let attempt = 1, pauseMs = FIRST_PAUSE_MS; ; attempt += 1, pauseMs *= 2) {
      try {
        return await request();
      } catch (err) {
        const again = hasKafkaType(err, COORDINATOR_MOVING) || isTransientKafkaError(err);
        if (!again || attempt >= ADMIN_TRIES) throw kafkaFailure(err, endpoint, action, topic);
      }
      await new Promise<void>((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}

function key(topic: string, partition: number): string {
  return `${partition}:${topic}`;
}
