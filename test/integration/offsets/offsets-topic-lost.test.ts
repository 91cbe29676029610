/**
 * A deleted offsets topic must not silently start an exactly-once source over (issue 10, defect 4: 150
 * records for 100). The source function end to end against the real broker: a connector's first cold start
 * creates its missing offsets topic and runs; once the topic is deleted, the next cold start finds the
 * connector's transactional ids on the broker and fails with OffsetsLostError, writing nothing.
 */
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSourceFunction, type SourceFunction } from '../../../src/app/source-function.ts';
import { localContext } from '../../../src/lambda/lambda-context.ts';
import { stackEnv } from '../../stack/env.ts';
import { writeBundle } from '../../support/bundle-fixture.ts';

const opened: SourceFunction[] = [];
afterEach(async () => {
  for (const fn of opened.splice(0)) await fn.close();
});

let admin: Admin;
beforeAll(async () => {
  const kafka = new Kafka({ brokers: stackEnv().kafkaBrokers.split(','), logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();
});
afterAll(async () => {
  await admin?.disconnect();
});

/** A cold start of the source function of `bundleDir` (a new one each call, as a new Lambda instance). */
function coldStart(bundleDir: string, connector: string): SourceFunction {
  const env = { ...process.env, KAFKA_BROKERS: stackEnv().kafkaBrokers, LOG_LEVEL: 'error' };
  const fn = createSourceFunction({ bundleDir, connector, env, logSink: () => {} });
  opened.push(fn);
  return fn;
}

const invoke = (fn: SourceFunction) =>
  fn.handler({ task: 0 }, localContext('test', 30_000)).then(
    (summary) => ({ summary, error: undefined }),
    (error: { summary?: { error?: { code: string; message: string; retriable: boolean } } }) => ({
      summary: undefined,
      error: error.summary?.error,
    }),
  );

/** The number of committed records in partition 0 of `topic`: its high watermark less the commit markers. */
async function committedRecords(topic: string, transactions: number): Promise<number> {
  const [partition] = await admin.fetchTopicOffsets(topic);
  return Number(partition?.high ?? 0) - transactions;
}

async function topicExists(topic: string): Promise<boolean> {
  return (await admin.listTopics()).includes(topic);
}

/** An exactly-once datagen connector of 100 records, offsets in its own offsets topic. */
function exactlyOnceBundle(id: string) {
  const offsetsTopic = `offsets-lost-${id}`;
  const dataTopic = `orders-lost-${id}`;
  const dir = writeBundle({
    'worker.properties':
      'bootstrap.servers=${env:KAFKA_BROKERS}\nkey.converter=string\nvalue.converter=json\n' +
      'value.converter.schemas.enable=false\nexactly.once.source.support=enabled\n' +
      `offset.storage.topic=${offsetsTopic}\noffset.storage.replication.factor=1\noffset.storage.partitions=1\n`,
    'connectors/gen.properties': `name=gen-${id}\nconnector.class=datagen\nkafka.topic=${dataTopic}\niterations=100\nbatch.size=100\n`,
  });
  return { dir, offsetsTopic, dataTopic, connector: `gen-${id}` };
}

describe('a missing offsets topic', () => {
  it('is created for a connector that never ran; once deleted, the next cold start fails with OffsetsLostError and writes nothing', async () => {
    // Prepare: a brand-new exactly-once connector, its offsets topic missing
    const id = Math.random().toString(36).slice(2, 8);
    const { dir, offsetsTopic, dataTopic, connector } = exactlyOnceBundle(id);
    expect(await topicExists(offsetsTopic)).toBe(false);
    // Act: it creates the topic and runs (one transaction of 100 records)
    const first = await invoke(coldStart(dir, connector));
    // Assess
    expect(first.error).toBeUndefined();
    expect(first.summary).toMatchObject({ records: 100, stopReason: 'idle' });
    expect(await topicExists(offsetsTopic)).toBe(true);

    // Prepare: the offsets topic is deleted
    await admin.deleteTopics({ topics: [offsetsTopic] });
    await vi.waitFor(async () => expect(await topicExists(offsetsTopic)).toBe(false), { timeout: 30_000 });
    // Act: a new cold start, twice (the first failure must not have created the topic)
    const fn = coldStart(dir, connector);
    const second = await invoke(fn);
    const third = await invoke(fn);
    // Assess: nothing written again; the topic not recreated; a clear, non-retriable error
    expect(await committedRecords(dataTopic, 1)).toBe(100);
    expect(await topicExists(offsetsTopic)).toBe(false);
    for (const failed of [second, third]) {
      expect(failed.error).toMatchObject({ code: 'CONNECT_FN_OFFSETS_LOST', retriable: false });
      expect(failed.error?.message).toContain(`offsets topic ${offsetsTopic} does not exist`);
      expect(failed.error?.message).toContain(`connect-fn-${connector}-0`);
    }
  });
});
