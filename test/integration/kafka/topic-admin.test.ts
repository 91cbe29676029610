import { randomUUID } from 'node:crypto';
import { type Admin, ConfigResourceTypes } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createKafkaClients,
  KafkaOperationError,
  type TopicAdmin,
  TopicMissingError,
} from '../../../src/kafka/index.ts';
import { stackEnv } from '../../stack/env.ts';
import { kafkaWorker } from '../../unit/kafka/worker-values.ts';
import { rawAdmin } from './support.ts';

describe('TopicAdmin against the real broker', () => {
  let raw: Admin;
  let admin: TopicAdmin;

  beforeAll(async () => {
    raw = await rawAdmin();
    admin = createKafkaClients(kafkaWorker(stackEnv().kafkaBrokers)).topicAdmin();
  });

  afterAll(async () => {
    await admin.close();
    await raw.disconnect();
  });

  it('creates a missing topic with its partitions and configs, and leaves an existing one alone', async () => {
    const topic = `connect-offsets-${randomUUID()}`;
    const spec = { topic, partitions: 5, replicationFactor: 1, configs: { 'cleanup.policy': 'compact' } };

    const first = await admin.ensureTopic(spec);
    const second = await admin.ensureTopic({ ...spec, partitions: 9, configs: {} });

    expect(first).toEqual({ created: true, partitions: 5 });
    expect(second).toEqual({ created: false, partitions: 5 });
    const { resources } = await raw.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] }],
      includeSynonyms: false,
    });
    expect(resources[0]?.configEntries[0]?.configValue).toBe('compact');
  });

  it('uses the broker default replication factor for -1', async () => {
    const topic = `rf-default-${randomUUID()}`;
    expect(await admin.ensureTopic({ topic, partitions: 1, replicationFactor: -1 })).toEqual({
      created: true,
      partitions: 1,
    });
  });

  it('explains a replication factor the cluster cannot hold', async () => {
    const topic = `rf-3-${randomUUID()}`;
    const failure = await admin
      .ensureTopic({ topic, partitions: 1, replicationFactor: 3 })
      .catch((err: unknown) => err);

    expect(failure).toBeInstanceOf(KafkaOperationError);
    expect((failure as Error).message).toMatch(
      new RegExp(`creating topic ${topic} failed at broker .*: .*[Rr]eplication`),
    );
    expect(await admin.topicExists(topic)).toBe(false);
  });

  it('counts partitions, and reports a missing topic as TopicMissingError without creating it', async () => {
    const topic = `missing-${randomUUID()}`;
    const failure = await admin.partitionCount(topic).catch((err: unknown) => err);

    expect(failure).toBeInstanceOf(TopicMissingError);
    expect(failure).toMatchObject({ code: 'CONNECT_FN_KAFKA_TOPIC_MISSING', topic });
    expect((failure as Error).message).toContain(stackEnv().kafkaBrokers);
    expect(await raw.listTopics()).not.toContain(topic);
  });
});
