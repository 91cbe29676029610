import type { Kafka } from 'kafkajs';
import { describe, expect, it, vi } from 'vitest';
import { defaultSettings } from '../../../src/kafka/client-settings.ts';
import { KafkaOperationError } from '../../../src/kafka/errors.ts';
import { TopicAdmin } from '../../../src/kafka/topic-admin.ts';
import { fakeEndpoint } from './worker-values.ts';

function protocolError(type: string) {
  return Object.assign(new Error(`${type}!`), { name: 'KafkaJSProtocolError', type, retriable: true });
}

function metadata(leaders: readonly number[]) {
  return {
    topics: [
      {
        name: 'connect-offsets',
        partitions: leaders.map((leader, partitionId) => ({ partitionId, leader })),
      },
    ],
  };
}

/** A kafkajs admin stand-in: the topic is missing until created; metadata answers come from `answers`. */
function fakeKafka(answers: (Error | ReturnType<typeof metadata>)[]) {
  const topics: string[] = [];
  const admin = {
    connect: vi.fn(async () => undefined),
    disconnect: vi.fn(async () => undefined),
    listTopics: vi.fn(async () => [...topics]),
    createTopics: vi.fn(async (request: { topics: { topic: string }[] }) => {
      topics.push(...request.topics.map((t) => t.topic));
      return true;
    }),
    fetchTopicMetadata: vi.fn(async () => {
      const answer = answers.shift() ?? metadata([]);
      if (answer instanceof Error) throw answer;
      return answer;
    }),
  };
  return { kafka: { admin: () => admin } as unknown as Kafka, admin };
}

function topicAdmin(kafka: Kafka, requestTimeoutMs = 5_000) {
  const endpoint = fakeEndpoint();
  return new TopicAdmin({ kafka, settings: { ...defaultSettings().admin, requestTimeoutMs }, endpoint });
}

const spec = { topic: 'connect-offsets', partitions: 3, replicationFactor: 1 };

describe('TopicAdmin (kafkajs faked)', () => {
  it('waits for a topic it created until every partition has a leader', async () => {
    const { kafka, admin } = fakeKafka([
      protocolError('UNKNOWN_TOPIC_OR_PARTITION'),
      protocolError('LEADER_NOT_AVAILABLE'),
      metadata([1, -1, 1]),
      metadata([1, 1, 1]),
    ]);

    expect(await topicAdmin(kafka).ensureTopic(spec)).toEqual({ created: true, partitions: 3 });
    expect(admin.createTopics).toHaveBeenCalledWith(expect.objectContaining({ waitForLeaders: false }));
    expect(admin.fetchTopicMetadata).toHaveBeenCalledTimes(4);
  });

  it('gives up at its deadline with an error naming the topic, and fails at once for good on other errors', async () => {
    const stuck = fakeKafka(Array.from({ length: 100 }, () => metadata([-1, -1, -1])));
    const err = await topicAdmin(stuck.kafka, 300)
      .ensureTopic(spec)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaOperationError);
    expect(err).toMatchObject({ retriable: true });
    expect(String(err)).toMatch(
      /topic connect-offsets at .*b:9092.* is not ready: partitions 0, 1, 2 have no leader yet/,
    );

    const denied = fakeKafka([
      Object.assign(new Error('denied'), {
        name: 'KafkaJSProtocolError',
        type: 'TOPIC_AUTHORIZATION_FAILED',
      }),
    ]);
    await expect(topicAdmin(denied.kafka).ensureTopic(spec)).rejects.toThrow(/connect-offsets/);
    expect(denied.admin.fetchTopicMetadata).toHaveBeenCalledTimes(1);
  });

  it("lists the cluster's topics without Kafka's internal ones", async () => {
    // Prepare
    const { kafka, admin } = fakeKafka([]);
    admin.listTopics.mockResolvedValue([
      'orders',
      '__consumer_offsets',
      'connect-offsets',
      '__transaction_state',
      '_orders-archive',
    ]);
    // Act
    const topics = await topicAdmin(kafka).topics();
    // Assess
    expect(topics).toEqual(['orders', 'connect-offsets', '_orders-archive']);
  });
});
