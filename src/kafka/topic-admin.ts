/**
 * The few admin operations connect-fn needs: make sure a topic exists (the `connect-offsets` topic, created
 * compacted with `offset.storage.partitions` and `offset.storage.replication.factor` like Connect does),
 * list the topics and count a topic's partitions (the runtime's `TopicCatalog`, for assigning partitions
 * to sink tasks), and list the cluster's transactional ids (./transactional-ids.ts; asked before the offsets
 * topic is created). A missing topic is a `TopicMissingError`; nothing here ever creates a topic by accident
 * (kafkajs' admin asks for metadata without auto-creation).
 * @module
 */
import type { Admin, Kafka } from 'kafkajs';
import type { TopicCatalog } from '../runtime/ports.ts';
import type { AdminSettings } from './client-settings.ts';
import { KafkaOperationError, TopicMissingError } from './errors.ts';
import { describeEndpoint, type Endpoint, isTransientKafkaError, kafkaFailure } from './kafka-failure.ts';
import { RawCluster } from './raw-cluster.ts';
import { listTransactionalIds } from './transactional-ids.ts';

/** A topic to create when it is missing. */
export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
  /** -1 = the broker's `default.replication.factor`. */
  readonly replicationFactor: number;
  /** Topic configs, e.g. `{ 'cleanup.policy': 'compact' }`. */
  readonly configs?: Readonly<Record<string, string>>;
}

/**
 * Kafka's internal topics (`Topic.INTERNAL_TOPICS`, plus Kafka 4's share-group state). The metadata
 * response flags them (`is_internal`), but kafkajs' admin drops the flag, so we know them by name, as a
 * Java consumer's pattern subscription leaves them out (`exclude.internal.topics=true`).
 */
const INTERNAL_TOPICS: ReadonlySet<string> = new Set([
  '__consumer_offsets',
  '__transaction_state',
  '__share_group_state',
]);

export interface EnsuredTopic {
  /** False when it existed already (then it is left as it is). */
  readonly created: boolean;
  readonly partitions: number;
}

export interface AdminContext {
  readonly kafka: Kafka;
  readonly settings: AdminSettings;
  readonly endpoint: Endpoint;
}

/**
 * @example
 * ```ts
 * const admin = clients.topicAdmin();
 * const { partitions } = await admin.ensureTopic({
 *   topic: 'connect-offsets', partitions: 25, replicationFactor: 3, configs: { 'cleanup.policy': 'compact' },
 * });
 * const topics = (await admin.topics()).filter((t) => /^orders-/.test(t)); // a sink's topics.regex
 * await admin.close();
 * ```
 */
export class TopicAdmin implements TopicCatalog {
  readonly #context: AdminContext;
  readonly #admin: Admin;
  #connecting: Promise<void> | undefined;

  constructor(context: AdminContext) {
    this.#context = context;
    this.#admin = context.kafka.admin({ retry: context.settings.retry });
  }

  /**
   * Creates `spec.topic` unless it exists; returns whether it did and the topic's partition count, once
   * every partition has a leader (a topic just created, by us or by someone else, takes a moment; on a
   * loaded broker longer than kafkajs' own wait for leaders allows, so we wait ourselves).
   */
  async ensureTopic(spec: TopicSpec): Promise<EnsuredTopic> {
    const deadlineMs = Date.now() + (this.#context.settings.requestTimeoutMs ?? 30_000);
    if (await this.topicExists(spec.topic)) {
      return { created: false, partitions: await this.#readyPartitions(spec.topic, deadlineMs) };
    }
    let created: boolean;
    try {
      // false: someone else created it between our check and our request.
      created = await this.#admin.createTopics({
        topics: [
          {
            topic: spec.topic,
            numPartitions: spec.partitions,
            replicationFactor: spec.replicationFactor,
            configEntries: Object.entries(spec.configs ?? {}).map(([name, value]) => ({ name, value })),
          },
        ],
        waitForLeaders: false,
        timeout: this.#context.settings.requestTimeoutMs ?? 30_000,
      });
    } catch (err) {
      throw kafkaFailure(err, this.#context.endpoint, `creating topic ${spec.topic}`);
    }
    return { created, partitions: await this.#readyPartitions(spec.topic, deadlineMs) };
  }

  /**
   * Every transactional id the cluster's transaction coordinators remember (ListTransactions); undefined
   * when a broker cannot list them (Kafka before 3.0).
   */
  async transactionalIds(): Promise<readonly string[] | undefined> {
    const raw = new RawCluster(this.#context.kafka, this.#context.settings.retry);
    try {
      return await listTransactionalIds(raw);
    } catch (err) {
      throw kafkaFailure(err, this.#context.endpoint, 'listing transactional ids');
    } finally {
      await raw.close().catch(() => undefined);
    }
  }

  async topicExists(topic: string): Promise<boolean> {
    return (await this.#listTopics()).includes(topic);
  }

  /** The names of the cluster's topics, in the broker's order; Kafka's internal topics are left out. */
  async topics(): Promise<readonly string[]> {
    return (await this.#listTopics()).filter((topic) => !INTERNAL_TOPICS.has(topic));
  }

  /** The number of partitions of `topic`; `TopicMissingError` when it does not exist. */
  async partitionCount(topic: string): Promise<number> {
    if (!(await this.topicExists(topic))) {
      const where = describeEndpoint(this.#context.endpoint);
      throw new TopicMissingError(topic, `topic ${topic} does not exist at ${where}`);
    }
    try {
      const { topics } = await this.#admin.fetchTopicMetadata({ topics: [topic] });
      return topics.find((t) => t.name === topic)?.partitions.length ?? 0;
    } catch (err) {
      throw kafkaFailure(err, this.#context.endpoint, `describing topic ${topic}`, topic);
    }
  }

  async close(): Promise<void> {
    await this.#admin.disconnect();
  }

  async #listTopics(): Promise<string[]> {
    await this.#connect();
    try {
      return await this.#admin.listTopics();
    } catch (err) {
      throw kafkaFailure(err, this.#context.endpoint, 'listing topics');
    }
  }

  /**
   * The partition count of an existing `topic` once every partition has a leader. Metadata that does not
   * show the topic or its leaders yet (UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE) is asked for
   * again, with a doubling pause, until `deadlineMs`.
   */
  async #readyPartitions(topic: string, deadlineMs: number): Promise<number> {
    let pauseMs = 50;
    for (;;) {
      let notReady: string;
      try {
        const { topics } = await this.#admin.fetchTopicMetadata({ topics: [topic] });
        const partitions = topics.find((t) => t.name === topic)?.partitions ?? [];
        const leaderless = partitions.filter((p) => p.leader < 0).map((p) => p.partitionId);
        if (partitions.length > 0 && leaderless.length === 0) return partitions.length;
        notReady =
          partitions.length === 0
            ? 'its metadata shows no partitions yet'
            : `partitions ${leaderless.join(', ')} have no leader yet`;
      } catch (err) {
        if (!isTransientKafkaError(err) || Date.now() + pauseMs >= deadlineMs) {
          throw kafkaFailure(err, this.#context.endpoint, `describing topic ${topic}`, topic);
        }
        notReady = String(err instanceof Error ? err.message : err);
      }
      if (Date.now() + pauseMs >= deadlineMs) {
        const where = describeEndpoint(this.#context.endpoint);
        throw new KafkaOperationError(`topic ${topic} at ${where} is not ready: ${notReady}`, {
          retriable: true,
        });
      }
      await sleep(pauseMs);
      pauseMs = Math.min(pauseMs * 2, 1_000);
    }
  }

  async #connect(): Promise<void> {
    this.#connecting ??= this.#admin.connect().catch((err: unknown) => {
      this.#connecting = undefined;
      throw kafkaFailure(err, this.#context.endpoint, 'connecting');
    });
    await this.#connecting;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
