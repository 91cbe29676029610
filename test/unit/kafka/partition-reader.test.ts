import type { Kafka } from 'kafkajs';
import { describe, expect, it, vi } from 'vitest';
import { defaultSettings } from '../../../src/kafka/client-settings.ts';
import { KafkaUnreachableError, OffsetOutOfRangeError } from '../../../src/kafka/errors.ts';
import { GrouplessPartitionReader } from '../../../src/kafka/partition-reader.ts';
import type { FetchedRecord } from '../../../src/runtime/ports.ts';
import { fakeEndpoint } from './worker-values.ts';

/** kafkajs' decoded record: `base`..`base + lastDelta` is its record batch. */
function message(offset: number, base: number, lastDelta: number, extra: Record<string, unknown> = {}) {
  return {
    offset: String(offset),
    key: null,
    value: Buffer.from(`v${offset}`),
    timestamp: '1700000000000',
    headers: {},
    batchContext: {
      firstOffset: String(base),
      lastOffsetDelta: lastDelta,
      producerId: '7',
      inTransaction: false,
    },
    ...extra,
  };
}

function fetchResponse(messages: unknown[], lastStableOffset: number, abortedTransactions: unknown[] = []) {
  return {
    responses: [
      {
        topicName: 't',
        partitions: [
          {
            partition: 0,
            errorCode: 0,
            highWatermark: String(lastStableOffset),
            lastStableOffset: String(lastStableOffset),
            abortedTransactions,
            messages,
          },
        ],
      },
    ],
  };
}

function protocolError(name: string, type: string) {
  return Object.assign(new Error(`${type}!`), { name, type });
}

/** A kafkajs stand-in: the consumer hands its fake cluster to the assigner factory, as kafkajs does. */
function fakeKafka(broker: {
  fetch: (r: unknown) => Promise<unknown>;
  listOffsets?: (r: unknown) => Promise<unknown>;
}) {
  const cluster = {
    connect: vi.fn(async () => undefined),
    disconnect: vi.fn(async () => undefined),
    addTargetTopic: vi.fn(async () => undefined),
    refreshMetadata: vi.fn(async () => undefined),
    findLeaderForPartitions: () => ({ '1': [0] }),
    findTopicPartitionMetadata: () => [{ partitionId: 0 }],
    findBroker: async () => broker,
  };
  const kafka = {
    consumer(config: { partitionAssigners: ((c: unknown) => unknown)[] }) {
      for (const factory of config.partitionAssigners) factory({ cluster, groupId: 'g', logger: undefined });
      return { connect: cluster.connect, disconnect: cluster.disconnect, run: vi.fn() };
    },
  };
  return { kafka: kafka as unknown as Kafka, cluster };
}

function reader(kafka: Kafka) {
  const endpoint = fakeEndpoint();
  return new GrouplessPartitionReader({ kafka, settings: defaultSettings().consumer, endpoint });
}

async function readAll(
  r: GrouplessPartitionReader,
  fromOffset: number,
  deadlineMs = Date.now() + 5_000,
  untilOffset?: number,
) {
  const out: FetchedRecord[] = [];
  const request = { topic: 't', partition: 0, fromOffset, deadlineMs };
  for await (const batch of r.read(untilOffset === undefined ? request : { ...request, untilOffset })) {
    out.push(...batch);
  }
  return out;
}

function fetchOffsets(fetch: ReturnType<typeof vi.fn>): string[] {
  return fetch.mock.calls.map(
    (c) =>
      (c[0] as { topics: { partitions: { fetchOffset: string }[] }[] }).topics[0]!.partitions[0]!.fetchOffset,
  );
}

describe('GrouplessPartitionReader (kafkajs faked)', () => {
  it('moves past control records, aborted records and records removed by compaction', async () => {
    const fetch = vi
      .fn()
      // batch 0..4 with 3 and 4 compacted away, then a commit marker at 5 and an aborted record at 6..7
      .mockResolvedValueOnce(
        fetchResponse(
          [
            message(0, 0, 4),
            message(2, 0, 4),
            message(5, 5, 0, { isControlRecord: true, key: Buffer.from([0, 0, 0, 1]) }),
            {
              ...message(6, 6, 0),
              batchContext: { firstOffset: '6', lastOffsetDelta: 0, producerId: '9', inTransaction: true },
            },
            message(7, 7, 0, {
              isControlRecord: true,
              key: Buffer.from([0, 0, 0, 0]),
              batchContext: { firstOffset: '7', lastOffsetDelta: 0, producerId: '9', inTransaction: true },
            }),
          ],
          10,
          [{ producerId: '9', firstOffset: '6' }],
        ),
      )
      .mockResolvedValueOnce(fetchResponse([message(8, 8, 1), message(9, 8, 1)], 10));
    const { kafka } = fakeKafka({ fetch });

    const records = await readAll(reader(kafka), 0);

    expect(records.map((r) => r.offset)).toEqual([0, 2, 8, 9]);
    expect(fetch).toHaveBeenCalledTimes(2);
    expect(fetch.mock.calls[1]![0]).toMatchObject({
      isolationLevel: 1,
      maxWaitTime: 0,
      topics: [{ partitions: [{ fetchOffset: '8' }] }],
    });
  });

  it('reports the position after each fetch, past control records, also when a fetch holds nothing else', async () => {
    const fetch = vi
      .fn()
      .mockResolvedValueOnce(fetchResponse([message(0, 0, 1), message(1, 0, 1)], 3))
      .mockResolvedValueOnce(
        fetchResponse([message(2, 2, 0, { isControlRecord: true, key: Buffer.from([0, 0, 0, 1]) })], 3),
      );
    const { kafka } = fakeKafka({ fetch });

    const batches: { offsets: number[]; nextOffset: number }[] = [];
    const read = { topic: 't', partition: 0, fromOffset: 0, deadlineMs: Date.now() + 5_000 };
    for await (const b of reader(kafka).readPositioned(read)) {
      batches.push({ offsets: b.records.map((r) => r.offset), nextOffset: b.nextOffset });
    }

    expect(batches).toEqual([
      { offsets: [0, 1], nextOffset: 2 },
      { offsets: [], nextOffset: 3 },
    ]);
  });

  it('steps over empty batches at the end of the partition', async () => {
    const fetch = vi.fn().mockResolvedValue(fetchResponse([], 3));
    const { kafka } = fakeKafka({ fetch });

    expect(await readAll(reader(kafka), 1)).toEqual([]);
    expect(fetchOffsets(fetch)).toEqual(['1', '2']);
  });

  it('reads up to the given end even when a fetch still reports an earlier last stable offset', async () => {
    const fetch = vi
      .fn()
      .mockResolvedValueOnce(fetchResponse([message(0, 0, 0)], 1))
      .mockResolvedValueOnce(fetchResponse([], 1)) // offset 1 not stable yet on this fetch
      .mockResolvedValueOnce(fetchResponse([message(1, 1, 1), message(2, 1, 1)], 3));
    const { kafka } = fakeKafka({ fetch });

    const records = await readAll(reader(kafka), 0, Date.now() + 5_000, 3);

    expect(records.map((r) => r.offset)).toEqual([0, 1, 2]);
    expect(fetchOffsets(fetch)).toEqual(['0', '1', '1']);
  });

  it('never steps past an offset the broker has not made stable, up to the deadline', async () => {
    const fetch = vi.fn().mockResolvedValue(fetchResponse([], 1));
    const { kafka } = fakeKafka({ fetch });

    expect(await readAll(reader(kafka), 1, Date.now() + 200, 3)).toEqual([]);
    expect(fetch.mock.calls.length).toBeGreaterThan(1);
    expect(new Set(fetchOffsets(fetch))).toEqual(new Set(['1']));
  });

  it('refreshes metadata and retries when leadership moved', async () => {
    const fetch = vi
      .fn()
      .mockRejectedValueOnce(protocolError('KafkaJSProtocolError', 'NOT_LEADER_FOR_PARTITION'))
      .mockRejectedValueOnce(Object.assign(new Error('closed'), { name: 'KafkaJSConnectionClosedError' }))
      .mockResolvedValueOnce(fetchResponse([message(0, 0, 0)], 1));
    const { kafka, cluster } = fakeKafka({ fetch });

    expect((await readAll(reader(kafka), 0)).map((r) => r.offset)).toEqual([0]);
    expect(cluster.refreshMetadata).toHaveBeenCalledTimes(2);
  });

  it('gives up at the deadline with our error', async () => {
    const fetch = vi
      .fn()
      .mockRejectedValue(
        Object.assign(new Error('refused'), { name: 'KafkaJSConnectionError', broker: 'b:9092' }),
      );
    const { kafka } = fakeKafka({ fetch });

    await expect(readAll(reader(kafka), 0, Date.now() + 250)).rejects.toBeInstanceOf(KafkaUnreachableError);
  });

  it('reports an offset out of range with the partition range', async () => {
    const fetch = vi.fn().mockRejectedValue(protocolError('KafkaJSOffsetOutOfRange', 'OFFSET_OUT_OF_RANGE'));
    const listOffsets = vi.fn(async (request: unknown) => {
      const timestamp = (request as { topics: { partitions: { timestamp: number }[] }[] }).topics[0]!
        .partitions[0]!.timestamp;
      return {
        responses: [
          { topic: 't', partitions: [{ partition: 0, errorCode: 0, offset: timestamp === -2 ? '5' : '9' }] },
        ],
      };
    });
    const { kafka } = fakeKafka({ fetch, listOffsets });

    const err = await readAll(reader(kafka), 1).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(OffsetOutOfRangeError);
    expect(err).toMatchObject({ offset: 1, range: { startOffset: 5, endOffset: 9 } });
  });
});
