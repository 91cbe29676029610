/**
 * The "Connect still runs the connector" guard against a Kafka 4.x broker and a member of KIP-848's
 * consumer group protocol (`group.protocol=consumer`, as a Kafka Connect 4.x sink may be configured): such
 * a group is `Dead` with no members to DescribeGroups, so a guard built on DescribeGroups alone let the
 * scheduled sink commit over the member's offset. The broker is started here, on its own ports, from the
 * stack code (the shared stack's broker is 3.9, which has no KIP-848 groups by default).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSinkFunction } from '../../../src/app/sink-function.ts';
import { localContext } from '../../../src/lambda/lambda-context.ts';
import { type RunningKafka, startKafkaBroker } from '../../../src/stack/index.ts';
import { writeBundle } from '../../support/bundle-fixture.ts';
import { whileCoordinatorMoves } from '../../support/coordinator-retry.ts';
import { Kip848Member } from '../../support/kip848-member.ts';
import { freshTopic } from './support.ts';

/** The Kafka 4 release the issue was found on. */
const KAFKA4_VERSION = '4.4.0';

let kafka4: RunningKafka;
let admin: Admin;

beforeAll(async () => {
  kafka4 = await startKafkaBroker({
    version: KAFKA4_VERSION,
    log: (line) => process.stderr.write(`[kafka ${KAFKA4_VERSION}] ${line}\n`),
  });
  const kafka = new Kafka({ brokers: [kafka4.brokers], logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer();
  await producer.connect();
  producerSend = async (topic, count) => {
    await producer.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ value: `r${i}` })) });
  };
  closeProducer = () => producer.disconnect();
}, 600_000);

afterAll(async () => {
  await closeProducer?.();
  await admin?.disconnect();
  await kafka4?.stop();
});

let producerSend: (topic: string, count: number) => Promise<void>;
let closeProducer: (() => Promise<void>) | undefined;

/** A scheduled FileStreamSink `name` of `topic` with offsets in group connect-<name> of the 4.x broker. */
function sinkFunction(name: string, topic: string) {
  const dir = writeBundle({
    'worker.properties': `bootstrap.servers=${kafka4.brokers}\noffset.storage=kafka\nkey.converter=org.apache.kafka.connect.storage.StringConverter\nvalue.converter=org.apache.kafka.connect.storage.StringConverter\n`,
    'connectors/sink.properties': `name=${name}\nconnector.class=FileStreamSink\nfile=out.txt\ntopics=${topic}\n`,
  });
  const fn = createSinkFunction({ bundleDir: dir, connector: name, env: process.env, logSink: () => {} });
  return { fn, file: join(dir, 'out.txt') };
}

function lines(file: string): string[] {
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
    : [];
}

/** Partition 0's committed offset in `groupId`, as an admin's OffsetFetch reads it (-1: none). */
async function committed(groupId: string, topic: string): Promise<number> {
  const [fetched] = await whileCoordinatorMoves(() => admin.fetchOffsets({ groupId, topics: [topic] }));
  return Number(fetched?.partitions.find((p) => p.partition === 0)?.offset ?? -1);
}

describe(`scheduled sink and a KIP-848 consumer group (Kafka ${KAFKA4_VERSION})`, () => {
  it('refuses to commit while a group.protocol=consumer member is in connect-<name>, and runs once it left', async () => {
    // Prepare: 5 records; a new-protocol member of connect-<name> that committed offset 2 and stays
    const topic = await freshTopic(admin, 'kip848');
    await producerSend(topic, 5);
    const name = `kip848-${Math.random().toString(36).slice(2, 8)}`;
    const groupId = `connect-${name}`;
    const member = await Kip848Member.join({
      javaPath: kafka4.javaPath,
      classpath: kafka4.classpath,
      brokers: kafka4.brokers,
      groupId,
      topic,
      offset: 2,
    });
    const { fn, file } = sinkFunction(name, topic);
    try {
      // Act
      const refused = await fn.handler({ task: 0 }, localContext('test', 30_000)).catch((e: unknown) => e);
      const memberSaw = await member.leave();
      // Assess: the member's offset is its own; nothing delivered; refused with the group named
      expect(memberSaw).toBe(2);
      expect(await committed(groupId, topic)).toBe(2);
      expect(lines(file)).toEqual([]);
      const failure = refused as { summary?: { error?: { code: string; message: string } } };
      expect(failure.summary?.error?.code).toBe('CONNECT_FN_KAFKA_GROUP_IN_USE');
      expect(failure.summary?.error?.message).toContain(`consumer group ${groupId} has 1 member`);

      // Act: the member has left; the group is an empty KIP-848 group, which ConsumerGroupDescribe proves
      const summary = await fn.handler({ task: 0 }, localContext('test', 30_000));
      // Assess: the sink continues from the member's position
      expect(summary.stopReason).not.toBe('error');
      expect(lines(file)).toEqual(['r2', 'r3', 'r4']);
    } finally {
      member.kill();
      await fn.close();
    }
  });
});
