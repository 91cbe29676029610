/**
 * Chooses and builds the offsets store a bundle asks for (`offset.storage`), once per cold start.
 * @module
 */
import { isAbsolute, join } from 'node:path';
import type { Bundle } from '../config/bundle.ts';
import type { ConnectorConfig } from '../config/connector-config.ts';
import type { KafkaClients } from '../kafka/index.ts';
import {
  DynamoDbOffsetStore,
  dynamoDbClient,
  FileOffsetStore,
  KafkaOffsetStore,
  sinkOffsetsIn,
} from '../offsets/index.ts';
import type { OffsetRecordEncoder, OffsetStore, SinkOffsetStore } from '../runtime/ports.ts';

export interface OffsetStoreChoice {
  readonly store: OffsetStore;
  /** Present for the Kafka store: its offset records can join a data transaction (exactly-once). */
  readonly encoder?: OffsetRecordEncoder;
  /** Closes the clients the store uses (for local runs; a Lambda keeps them for the next invocation). */
  close(): Promise<void>;
}

export interface OffsetStoreOptions {
  /** Local runs: create the DynamoDB offsets table when missing (in the cloud the infrastructure does). */
  readonly createTable?: boolean;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * The connector (a source) that keeps offsets in the store: with `kafka`, a missing offsets topic is not
   * created when it has run before (src/offsets/prior-runs.ts). Without it the topic is always created.
   */
  readonly connector?: string;
}

/** The store of `bundle.worker`'s `offset.storage`. The Kafka store creates its compacted topic if missing. */
export async function openOffsetStore(
  bundle: Bundle,
  kafka: KafkaClients,
  options: OffsetStoreOptions = {},
): Promise<OffsetStoreChoice> {
  const w = bundle.worker.values;
  switch (w['offset.storage']) {
    case 'kafka': {
      const admin = kafka.topicAdmin();
      const reader = kafka.partitionReader();
      const writer = kafka.recordWriter();
      const store = await KafkaOffsetStore.create({
        topic: w['offset.storage.topic'],
        partitions: w['offset.storage.partitions'],
        replicationFactor: w['offset.storage.replication.factor'],
        admin,
        reader,
        writer,
        ...(options.connector === undefined
          ? {}
          : {
              priorRuns: {
                groupId: w['group.id'],
                connectors: [options.connector],
                transactionalIds: () => admin.transactionalIds(),
              },
            }),
      }).finally(() => admin.close());
      const close = async () => {
        await Promise.allSettled([reader.close(), writer.close()]);
      };
      return { store, encoder: store, close };
    }
    case 'dynamodb': {
      const client = dynamoDbClient(w['aws.region'], w['dynamodb.endpoint'], options.env ?? process.env);
      const table = w['offset.storage.table'];
      const store = new DynamoDbOffsetStore({ client, table, createIfMissing: options.createTable ?? false });
      return { store, close: async () => client.destroy() };
    }
    case 'file': {
      const file = w['offset.storage.file.filename'];
      const store = new FileOffsetStore({ filename: isAbsolute(file) ? file : join(bundle.dir, file) });
      return { store, close: async () => {} };
    }
  }
}

export interface SinkOffsetStoreChoice {
  readonly store: SinkOffsetStore;
  /** Closes the clients the store uses (for local runs; a Lambda keeps them for the next invocation). */
  close(): Promise<void>;
}

/**
 * Where a sink's offsets live, by `offset.storage`: `kafka` is Kafka Connect's own consumer group for the
 * sink, `connect-<name>` (so a sink moved from Connect keeps its position), committed in transactions
 * that fence older invocations; `dynamodb` and `file` hold them in Connect's REST shape, under the task's
 * lease (DynamoDB).
 */
export async function openSinkOffsetStore(
  bundle: Bundle,
  config: ConnectorConfig,
  kafka: KafkaClients,
  options: OffsetStoreOptions = {},
): Promise<SinkOffsetStoreChoice> {
  const w = bundle.worker.values;
  if (w['offset.storage'] === 'kafka') {
    const store = kafka.sinkOffsetStore({
      groupId: w['group.id'],
      // As for exactly-once sources: a killed invocation's transaction outlives the function no longer.
      transactionTimeoutMs: config.common['invocation.timeout.ms'],
    });
    return { store, close: async () => {} };
  }
  const records = await openOffsetStore(bundle, kafka, options);
  return { store: sinkOffsetsIn(records.store), close: () => records.close() };
}
