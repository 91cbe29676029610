/**
 * The fresh topics the Kafka benchmarks write to: created before a run (outside the timed region, one
 * partition unless asked for more, replication factor 1) and deleted at the end, so a cluster from
 * `KAFKA_BROKERS` is left as it was found (the shared offsets topic `connect-fn-bench-offsets` stays).
 * @module
 */
import type { Kafka } from 'kafkajs';

export class BenchTopics {
  readonly #kafka: Kafka;
  readonly #created: string[] = [];

  constructor(kafka: Kafka) {
    this.#kafka = kafka;
  }

  /** Creates `topic` with `partitions` partitions (default 1) and waits for their leaders. */
  async create(topic: string, partitions = 1): Promise<string> {
    const admin = this.#kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
        waitForLeaders: true,
      });
      this.#created.push(topic);
    } finally {
      await admin.disconnect();
    }
    return topic;
  }

  /** Deletes every topic created here; best effort (a failure is reported, not thrown). */
  async deleteAll(log: (line: string) => void): Promise<void> {
    const topics = this.#created.splice(0);
    if (topics.length === 0) return;
    const admin = this.#kafka.admin();
    try {
      await admin.connect();
      await admin.deleteTopics({ topics });
    } catch (err) {
      log(
        `could not delete ${topics.length} bench topics: ${err instanceof Error ? err.message : String(err)}`,
      );
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}
