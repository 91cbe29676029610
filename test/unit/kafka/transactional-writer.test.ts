import type { Kafka } from 'kafkajs';
import { describe, expect, it, vi } from 'vitest';
import { FencedError } from '../../../src/errors.ts';
import { defaultSettings } from '../../../src/kafka/client-settings.ts';
import { KafkaAuthorizationError, KafkaOperationError } from '../../../src/kafka/errors.ts';
import { KafkaTransactionalWriter } from '../../../src/kafka/transactional-writer.ts';
import { fakeEndpoint } from './worker-values.ts';

function kafkaError(type: string, message = `${type}!`) {
  return Object.assign(new Error(message), { name: 'KafkaJSProtocolError', type, retriable: false });
}

/**
 * kafkajs producers whose transactions end as `outcomes` says, one outcome per commit or abort; each
 * `sendOffsets` call is recorded and answers as `sendOffsetsOutcomes` says (success when it runs out).
 */
function fakeKafka(outcomes: (Error | undefined)[], sendOffsetsOutcomes: (Error | undefined)[] = []) {
  const producers: {
    transactionalId: string;
    transactionTimeout?: number;
    disconnect: ReturnType<typeof vi.fn>;
  }[] = [];
  const aborts: ReturnType<typeof vi.fn>[] = [];
  const sentOffsets: unknown[] = [];
  const kafka = {
    producer(config: {
      transactionalId: string;
      transactionTimeout?: number;
      idempotent: boolean;
      maxInFlightRequests: number;
    }) {
      expect(config).toMatchObject({ idempotent: true, maxInFlightRequests: 1 });
      const end = async () => {
        const outcome = outcomes.shift();
        if (outcome !== undefined) throw outcome;
      };
      const producer = {
        transactionalId: config.transactionalId,
        ...(config.transactionTimeout === undefined ? {} : { transactionTimeout: config.transactionTimeout }),
        connect: vi.fn(async () => undefined),
        disconnect: vi.fn(async () => undefined),
        transaction: vi.fn(async () => {
          const abort = vi.fn(end);
          aborts.push(abort);
          const sendOffsets = async (request: unknown) => {
            sentOffsets.push(request);
            const outcome = sendOffsetsOutcomes.shift();
            if (outcome !== undefined) throw outcome;
          };
          return { sendBatch: vi.fn(async () => []), commit: end, abort, sendOffsets };
        }),
      };
      producers.push(producer);
      return producer;
    },
  };
  return { kafka: kafka as unknown as Kafka, producers, aborts, sentOffsets };
}

function writer(
  kafka: Kafka,
  options: { transactionTimeoutMs?: number } = {},
  settings = defaultSettings().producer,
) {
  const endpoint = fakeEndpoint();
  return new KafkaTransactionalWriter({ kafka, settings, endpoint }, 'connect-fn-orders-0', options);
}

describe('KafkaTransactionalWriter (kafkajs faked)', () => {
  it.each([
    ['INVALID_PRODUCER_EPOCH', kafkaError('INVALID_PRODUCER_EPOCH')],
    ['PRODUCER_FENCED', kafkaError('PRODUCER_FENCED')],
    [
      'code 90, which kafkajs 2.2.4 does not know',
      kafkaError('KAFKAJS_UNKNOWN_ERROR_CODE', 'Unknown error code 90'),
    ],
  ])('maps %s to FencedError, then refuses every call', async (_, error) => {
    const { kafka } = fakeKafka([error]);
    const w = writer(kafka);
    const txn = await w.begin();

    await expect(txn.commit()).rejects.toBeInstanceOf(FencedError);
    await expect(w.begin()).rejects.toThrow(/transactional id connect-fn-orders-0 was fenced/);
    await w.close();
  });

  it('replaces its producer after a commit that failed for another reason', async () => {
    const { kafka, producers } = fakeKafka([kafkaError('COORDINATOR_NOT_AVAILABLE'), undefined]);
    const w = writer(kafka);

    const first = await w.begin();
    await expect(first.commit()).rejects.toBeInstanceOf(KafkaOperationError);
    const second = await w.begin();
    await second.commit();
    await w.close();

    expect(producers).toHaveLength(2);
    expect(producers[0]!.disconnect).toHaveBeenCalled();
  });

  it('aborts an open transaction when closed', async () => {
    const { kafka, producers, aborts } = fakeKafka([]);
    const w = writer(kafka);
    await w.begin();

    await w.close();

    expect(aborts[0]).toHaveBeenCalledTimes(1);
    expect(producers[0]!.disconnect).toHaveBeenCalled();
    await expect(w.begin()).rejects.toThrow('closed');
  });

  it("gives its producer the caller's transaction timeout, unless the worker sets one", async () => {
    const cases = [
      { options: {}, settings: defaultSettings().producer, expected: undefined },
      { options: { transactionTimeoutMs: 15_000 }, settings: defaultSettings().producer, expected: 15_000 },
      {
        options: { transactionTimeoutMs: 15_000 },
        settings: { ...defaultSettings().producer, transactionTimeoutMs: 90_000 },
        expected: 90_000,
      },
    ];
    for (const { options, settings, expected } of cases) {
      const { kafka, producers } = fakeKafka([undefined]);
      const w = writer(kafka, options, settings);
      await (await w.begin()).commit();
      await w.close();
      expect(producers[0]!.transactionTimeout).toBe(expected);
    }
  });

  describe('sendOffsets', () => {
    it("sends kafkajs' shape: per topic, offsets as strings, the last offset of a partition given twice", async () => {
      // Prepare
      const { kafka, sentOffsets } = fakeKafka([undefined]);
      const w = writer(kafka);
      const txn = await w.begin();
      // Act
      await txn.sendOffsets('connect-s3', [
        { topic: 'a', partition: 0, offset: 5 },
        { topic: 'b', partition: 2, offset: 0 },
        { topic: 'a', partition: 1, offset: 7 },
        { topic: 'a', partition: 0, offset: 6 },
      ]);
      await txn.commit();
      await w.close();
      // Assess
      expect(sentOffsets).toEqual([
        {
          consumerGroupId: 'connect-s3',
          topics: [
            {
              topic: 'a',
              partitions: [
                { partition: 0, offset: '6' },
                { partition: 1, offset: '7' },
              ],
            },
            { topic: 'b', partitions: [{ partition: 2, offset: '0' }] },
          ],
        },
      ]);
    });

    it('retries CONCURRENT_TRANSACTIONS (kafkajs does not) until the previous transaction completed', async () => {
      // Prepare: the broker still completes the previous transaction for two tries
      const concurrent = () => kafkaError('CONCURRENT_TRANSACTIONS');
      const { kafka, sentOffsets } = fakeKafka([undefined], [concurrent(), concurrent()]);
      const w = writer(kafka);
      const txn = await w.begin();
      // Act
      await txn.sendOffsets('connect-s3', [{ topic: 'a', partition: 0, offset: 1 }]);
      await txn.commit();
      await w.close();
      // Assess
      expect(sentOffsets).toHaveLength(3);
    });

    it('gives up on CONCURRENT_TRANSACTIONS after 10 tries with a retriable error', async () => {
      vi.useFakeTimers();
      try {
        // Prepare: kafkajs marks CONCURRENT_TRANSACTIONS retriable
        const answers = Array.from({ length: 20 }, () =>
          Object.assign(kafkaError('CONCURRENT_TRANSACTIONS'), { retriable: true }),
        );
        const { kafka, sentOffsets } = fakeKafka([], answers);
        const txn = await writer(kafka).begin();
        // Act
        const outcome = txn
          .sendOffsets('connect-s3', [{ topic: 'a', partition: 0, offset: 1 }])
          .catch((e) => e);
        await vi.runAllTimersAsync();
        // Assess
        const err = await outcome;
        expect(err).toBeInstanceOf(KafkaOperationError);
        expect(err).toMatchObject({ retriable: true });
        expect(String(err)).toMatch(/sending offsets of group connect-s3/);
        expect(sentOffsets).toHaveLength(10);
      } finally {
        vi.useRealTimers();
      }
    });

    it('maps a fenced producer to FencedError without retrying, then refuses every call', async () => {
      // Prepare
      const { kafka, sentOffsets } = fakeKafka([], [kafkaError('INVALID_PRODUCER_EPOCH')]);
      const w = writer(kafka);
      const txn = await w.begin();
      // Act
      const err = await txn
        .sendOffsets('connect-s3', [{ topic: 'a', partition: 0, offset: 1 }])
        .catch((e) => e);
      // Assess
      expect(err).toBeInstanceOf(FencedError);
      expect(sentOffsets).toHaveLength(1);
      await expect(txn.commit()).rejects.toBeInstanceOf(FencedError);
      await expect(w.begin()).rejects.toBeInstanceOf(FencedError);
      await w.close();
    });

    it('fails at once for an error no retry can help, leaving the transaction to abort', async () => {
      // Prepare
      const denied = kafkaError('GROUP_AUTHORIZATION_FAILED');
      const { kafka, sentOffsets, aborts } = fakeKafka([undefined], [denied]);
      const w = writer(kafka);
      const txn = await w.begin();
      // Act
      const err = await txn
        .sendOffsets('connect-s3', [{ topic: 'a', partition: 0, offset: 1 }])
        .catch((e) => e);
      await txn.abort();
      // Assess
      expect(err).toBeInstanceOf(KafkaAuthorizationError);
      expect(sentOffsets).toHaveLength(1);
      expect(aborts[0]).toHaveBeenCalledTimes(1);
      await w.close();
    });

    it('refuses an offset that is not an integer >= 0 before sending anything', async () => {
      const { kafka, sentOffsets } = fakeKafka([]);
      const txn = await writer(kafka).begin();

      await expect(txn.sendOffsets('g', [{ topic: 'a', partition: 0, offset: -1 }])).rejects.toThrow(
        RangeError,
      );
      await expect(txn.sendOffsets('g', [{ topic: 'a', partition: 0, offset: 1.5 }])).rejects.toThrow(
        RangeError,
      );
      expect(sentOffsets).toEqual([]);
    });
  });
});
