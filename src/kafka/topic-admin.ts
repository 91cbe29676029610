/**
 * The few admin operations connect-fn needs: make sure a topic exists (the `connect-offsets` topic, created
 * compacted with `offset.storage.partitions` and `offset.storage.replication.factor` like Connect does) and
 * count a topic's partitions. A missing topic is a `TopicMissingError`; nothing here ever creates a topic
 * by accident (kafkajs' admin asks for metadata without auto-creation).
 * @module
 */
import type { Admin, Kafka } from 'kafkajs';
import type { AdminSettings } from './client-settings.ts';
import { TopicMissingError } from './errors.ts';
import { describeEndpoint, type Endpoint, kafkaFailure } from './kafka-failure.ts';

/** A topic to create when it is missing. */
export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
  /** -1 = the broker's `default.replication.factor`. */
  readonly replicationFactor: number;
  /** Topic configs, e.g. `{ 'cleanup.policy': 'compact' }`. */
  readonly configs?: Readonly<Record<string, string>>;
}

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
 * await admin.close();
 * ```
 */
export class TopicAdmin {
  readonly #context: AdminContext;
  readonly #admin: Admin;
  #connecting: Promise<void> | undefined;

  constructor(context: AdminContext) {
    this.#context = context;
    this.#admin = context.kafka.admin({ retry: context.settings.retry });
  }

  /** Creates `spec.topic` unless it exists; returns whether it did and the topic's partition count. */
  async ensureTopic(spec: TopicSpec): Promise<EnsuredTopic> {
    if (await this.topicExists(spec.topic))
      return { created: false, partitions: await this.partitionCount(spec.topic) };
    let created: boolean;
    try {
      created = await this.#admin.createTopics({
        topics: [
          {
            topic: spec.topic,
            numPartitions: spec.partitions,
            replicationFactor: spec.replicationFactor,
            configEntries: Object.entries(spec.configs ?? {}).map(([name, value]) => ({ name, value })),
          },
        ],
        waitForLeaders: true,
        timeout: this.#context.settings.requestTimeoutMs ?? 30_000,
      });
    } catch (err) {
      throw kafkaFailure(err, this.#context.endpoint, `creating topic ${spec.topic}`);
    }
    // false: someone else created it between our check and our request.
    return { created, partitions: await this.partitionCount(spec.topic) };
  }

  async topicExists(topic: string): Promise<boolean> {
    await this.#connect();
    try {
      return (await this.#admin.listTopics()).includes(topic);
    } catch (err) {
      throw kafkaFailure(err, this.#context.endpoint, 'listing topics');
    }
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

  async #connect(): Promise<void> {
    this.#connecting ??= this.#admin.connect().catch((err: unknown) => {
      this.#connecting = undefined;
      throw kafkaFailure(err, this.#context.endpoint, 'connecting');
    });
    await this.#connecting;
  }
}
