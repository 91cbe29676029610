import type { Kafka } from 'kafkajs';
import { describe, expect, it, vi } from 'vitest';
import { FencedError } from '../../../src/errors.ts';
import { defaultSettings } from '../../../src/kafka/client-settings.ts';
import { KafkaOperationError } from '../../../src/kafka/errors.ts';
import { KafkaTransactionalWriter } from '../../../src/kafka/transactional-writer.ts';
import { fakeEndpoint } from './worker-values.ts';

function kafkaError(type: string, message = `${type}!`) {
  return Object.assign(new Error(message), { name: 'KafkaJSProtocolError', type, retriable: false });
}

/** kafkajs producers whose transactions end as `outcomes` says, one outcome per commit or abort. */
function fakeKafka(outcomes: (Error | undefined)[]) {
  const producers: {
    transactionalId: string;
    transactionTimeout?: number;
    disconnect: ReturnType<typeof vi.fn>;
  }[] = [];
  const aborts: ReturnType<typeof vi.fn>[] = [];
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
          return { sendBatch: vi.fn(async () => []), commit: end, abort };
        }),
      };
      producers.push(producer);
      return producer;
    },
  };
  return { kafka: kafka as unknown as Kafka, producers, aborts };
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
});
