import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FencedError } from '../../../src/errors.ts';
import { createKafkaClients, type KafkaClients, transactionalIdFor } from '../../../src/kafka/index.ts';
import { stackEnv } from '../../stack/env.ts';
import { kafkaWorker } from '../../unit/kafka/worker-values.ts';
import { freshTopic, inSeconds, rawAdmin, readAll, record, settledEnd, values } from './support.ts';

describe('KafkaTransactionalWriter against the real broker', () => {
  let admin: Admin;
  let clients: KafkaClients;

  beforeAll(async () => {
    admin = await rawAdmin();
    clients = createKafkaClients(kafkaWorker(stackEnv().kafkaBrokers));
  });

  afterAll(async () => {
    await admin.disconnect();
  });

  /** The committed values of partition 0, once no transaction is pending any more. */
  async function committedValues(topic: string) {
    const reader = clients.partitionReader();
    try {
      await settledEnd(reader, topic);
      return values(await readAll(reader, { topic, partition: 0, fromOffset: 0, deadlineMs: inSeconds(10) }));
    } finally {
      await reader.close();
    }
  }

  it('fences an older writer with the same transactional id: its commit throws and its records stay invisible', async () => {
    const topic = await freshTopic(admin, 'txn-fence');
    const id = transactionalIdFor('connect-fn', `fence-${topic}`, 0);
    const older = clients.transactionalWriter(id);
    const newer = clients.transactionalWriter(id);
    try {
      const olderTxn = await older.begin();
      await olderTxn.send([record(topic, 'zombie-1'), record(topic, 'zombie-2')]);

      const newerTxn = await newer.begin(); // InitProducerId bumps the epoch: the older writer is fenced
      await newerTxn.send([record(topic, 'current-1')]);
      await newerTxn.commit();
      const olderCommit = await olderTxn.commit().then(
        () => undefined,
        (err: unknown) => err,
      );

      expect(olderCommit).toBeInstanceOf(FencedError);
      expect((olderCommit as FencedError).code).toBe('CONNECT_FN_FENCED');
      await expect(older.begin()).rejects.toBeInstanceOf(FencedError);
      expect(await committedValues(topic)).toEqual(['current-1']);
    } finally {
      await older.close();
      await newer.close();
    }
  });

  it('fences an older writer that sends after the newer one began', async () => {
    const topic = await freshTopic(admin, 'txn-fence-send');
    const id = transactionalIdFor('connect-fn', `fence-send-${topic}`, 1);
    const older = clients.transactionalWriter(id);
    const newer = clients.transactionalWriter(id);
    try {
      const olderTxn = await older.begin();
      await olderTxn.send([record(topic, 'before')]);
      await newer.begin();

      await expect(olderTxn.send([record(topic, 'after')])).rejects.toBeInstanceOf(FencedError);
      await expect(olderTxn.abort()).rejects.toBeInstanceOf(FencedError);
      expect(await committedValues(topic)).toEqual([]);
    } finally {
      await older.close();
      await newer.close();
    }
  });

  it('makes aborted records invisible to read_committed readers', async () => {
    const topic = await freshTopic(admin, 'txn-abort');
    const writer = clients.transactionalWriter(transactionalIdFor('connect-fn', `abort-${topic}`, 0));
    try {
      const aborted = await writer.begin();
      await aborted.send([record(topic, 'aborted-1'), record(topic, 'aborted-2')]);
      await aborted.abort();
      const committed = await writer.begin();
      await committed.send([record(topic, 'committed')]);
      await committed.commit();

      expect(await committedValues(topic)).toEqual(['committed']);
    } finally {
      await writer.close();
    }
  });

  it('runs transactions back to back (the broker may still be completing the previous one)', async () => {
    const topic = await freshTopic(admin, 'txn-many', 3);
    const writer = clients.transactionalWriter(transactionalIdFor('connect-fn', `many-${topic}`, 0));
    try {
      for (let i = 0; i < 10; i += 1) {
        const txn = await writer.begin();
        await txn.send([0, 1, 2].map((p) => record(topic, `t${i}-p${p}`, p)));
        await txn.send([record(topic, `t${i}-second-send`, i % 3)]);
        await txn.commit();
      }
      const reader = clients.partitionReader();
      const counts = await Promise.all(
        [0, 1, 2].map(async (partition) => {
          await settledEnd(reader, topic, partition);
          const batches = await readAll(reader, {
            topic,
            partition,
            fromOffset: 0,
            deadlineMs: inSeconds(10),
          });
          return batches.flat().length;
        }),
      );
      await reader.close();

      expect(counts.reduce((a, b) => a + b, 0)).toBe(40);
    } finally {
      await writer.close();
    }
  });

  it('aborts an open transaction on close, so readers are not held up by it', async () => {
    const topic = await freshTopic(admin, 'txn-close');
    const writer = clients.transactionalWriter(transactionalIdFor('connect-fn', `close-${topic}`, 0));
    const open = await writer.begin();
    await open.send([record(topic, 'left-open')]);

    await writer.close();
    const reader = clients.partitionReader();
    const end = await settledEnd(reader, topic);
    await reader.close();

    expect(end).toBe(2); // the record and the abort marker: the last stable offset moved past both
    expect(await committedValues(topic)).toEqual([]);
  });

  it('lets the broker abort a transaction left open for longer than its transaction timeout', async () => {
    const topic = await freshTopic(admin, 'txn-timeout');
    // As a killed invocation leaves it: open, with a record in it, never committed, aborted or closed.
    const killed = clients.transactionalWriter(transactionalIdFor('connect-fn', `timeout-${topic}`, 0), {
      transactionTimeoutMs: 1_000,
    });
    const open = await killed.begin();
    await open.send([record(topic, 'left-open')]);
    const reader = clients.partitionReader();
    try {
      expect((await reader.endOffsets(topic, [0])).get(0)).toBe(0);
      // The broker looks for timed-out transactions every 10 s (its default): with kafkajs' default
      // timeout of 60 s the last stable offset would stay at 0 for the whole wait.
      await vi.waitFor(
        async () => {
          const high = (await admin.fetchTopicOffsets(topic)).find((p) => p.partition === 0)?.high;
          expect(high).toBe('2'); // the record and the abort marker
          expect((await reader.endOffsets(topic, [0])).get(0)).toBe(2);
        },
        { timeout: 25_000, interval: 200 },
      );
      expect(await committedValues(topic)).toEqual([]);
    } finally {
      await reader.close();
      await killed.close();
    }
  }, 40_000);
});
