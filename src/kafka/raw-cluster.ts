/**
 * kafkajs' own `Cluster`, for the requests its admin cannot make (./flexible-protocol.ts): the group
 * coordinator of a group and every broker, each a kafkajs `Broker` whose connections speak SASL/TLS as
 * configured. kafkajs hands its cluster only to a partition assigner factory, at consumer construction;
 * the consumer is connected (metadata only) and never run, so no group is ever joined.
 * @module
 */
import type { Assigner, Broker, Cluster, Consumer, ConsumerConfig, Kafka, PartitionAssigner } from 'kafkajs';

/** Never assigns anything: the consumer it belongs to never joins a group. */
export const NEVER_ASSIGNS: Assigner = {
  name: 'connect-fn-no-group',
  version: 1,
  assign: async () => [],
  protocol: () => ({ name: 'connect-fn-no-group', metadata: Buffer.alloc(0) }),
};

/** A consumer built only to obtain kafkajs' `Cluster` (`config.partitionAssigners` is ours). */
export function consumerWithCluster(
  kafka: Kafka,
  config: Omit<ConsumerConfig, 'partitionAssigners'>,
): { readonly consumer: Consumer; readonly cluster: Cluster } {
  let captured: Cluster | undefined;
  const captureCluster: PartitionAssigner = ({ cluster }) => {
    captured = cluster;
    return NEVER_ASSIGNS;
  };
  const consumer = kafka.consumer({ ...config, partitionAssigners: [captureCluster] });
  if (captured === undefined) throw new Error('kafkajs did not hand its cluster to the partition assigner');
  return { consumer, cluster: captured };
}

/** A group id kafkajs requires to build a consumer; never joined. */
const UNUSED_GROUP_ID = 'connect-fn-admin-requests';

/**
 * The cluster's brokers for one-off requests; `close` disconnects them.
 *
 * @example
 * ```ts
 * const raw = new RawCluster(kafka, { retries: 2 });
 * try { const coordinator = await raw.groupCoordinator('connect-s3-sink'); ... } finally { await raw.close(); }
 * ```
 */
export class RawCluster {
  readonly #consumer: Consumer;
  readonly #cluster: Cluster;
  #connecting: Promise<void> | undefined;

  constructor(kafka: Kafka, retry: ConsumerConfig['retry'] | undefined) {
    const { consumer, cluster } = consumerWithCluster(kafka, {
      groupId: UNUSED_GROUP_ID,
      ...(retry === undefined ? {} : { retry }),
      allowAutoTopicCreation: false,
    });
    this.#consumer = consumer;
    this.#cluster = cluster;
  }

  /** The broker that coordinates `groupId`. */
  async groupCoordinator(groupId: string): Promise<Broker> {
    await this.#connect();
    return this.#cluster.findGroupCoordinator({ groupId });
  }

  /** Every broker in the cluster's metadata. */
  async brokers(): Promise<Broker[]> {
    await this.#connect();
    await this.#cluster.refreshMetadata();
    const ids = this.#cluster.getNodeIds();
    return Promise.all(ids.map((nodeId) => this.#cluster.findBroker({ nodeId: String(nodeId) })));
  }

  async close(): Promise<void> {
    await this.#consumer.disconnect();
  }

  async #connect(): Promise<void> {
    this.#connecting ??= this.#consumer.connect().catch((err: unknown) => {
      this.#connecting = undefined;
      throw err;
    });
    await this.#connecting;
  }
}
