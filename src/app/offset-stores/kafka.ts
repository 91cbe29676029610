/**
 * `offset.storage=kafka`: Kafka Connect's connect-offsets topic, created (compacted) when missing.
 * @module
 */
import { KafkaOffsetStore } from '../../offsets/kafka-store.ts';
import type { OpenOffsetStore } from '../offset-store.ts';

export const openKafkaOffsetStore: OpenOffsetStore = async (bundle, kafka, options) => {
  const w = bundle.worker.values;
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
};
