/**
 * `connect-fn run` on a sink connector, in-process against the real broker: scheduled invocations
 * (`--invocations`, `--json`) and a Kafka event fed to the triggered handler (`--event FILE`).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { createKafkaClients, type KafkaClients } from '../../../src/kafka/index.ts';
import type { FetchedRecord, KafkaRecord } from '../../../src/runtime/ports.ts';
import { stackEnv } from '../../stack/env.ts';
import { writeBundle } from '../../support/bundle-fixture.ts';
import { testEnv } from '../../support/cli.ts';
import { kafkaEventFrom } from '../../support/kafka-events.ts';
import { kafkaWorker } from '../../unit/kafka/worker-values.ts';
import { freshTopic, inSeconds, rawAdmin, readAll, record } from '../kafka/support.ts';

let admin: Admin;
let clients: KafkaClients;
beforeAll(async () => {
  admin = await rawAdmin();
  clients = createKafkaClients(kafkaWorker(stackEnv().kafkaBrokers));
});
afterAll(async () => {
  await admin?.disconnect();
});

const unique = () => Math.random().toString(36).slice(2, 8);

/** `connect-fn ...argv` in-process, with the stack's addresses in the environment the bundle reads. */
async function runCli(...argv: string[]) {
  testEnv({
    KAFKA_BROKERS: stackEnv().kafkaBrokers,
    DYNAMODB_ENDPOINT: stackEnv().dynamodbEndpoint,
    LOG_LEVEL: 'error',
  });
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

async function produce(records: readonly KafkaRecord[]): Promise<void> {
  const writer = clients.recordWriter();
  try {
    await writer.send(records);
  } finally {
    await writer.close();
  }
}

async function readBack(topic: string, partitions: readonly number[]): Promise<FetchedRecord[]> {
  const reader = clients.partitionReader();
  try {
    const out: FetchedRecord[] = [];
    for (const partition of partitions) {
      const request = { topic, partition, fromOffset: 0, deadlineMs: inSeconds(10) };
      out.push(...(await readAll(reader, request)).flat());
    }
    return out;
  } finally {
    await reader.close();
  }
}

const lines = (file: string) => readFileSync(file, 'utf8').replace(/\n$/, '').split('\n');

/** A bundle with the JSON-valued FileStreamSink `name` of `topic` (→ out.txt) and a datagen source `gen`. */
function bundle(name: string, topic: string) {
  const dir = writeBundle({
    'worker.properties':
      'bootstrap.servers=${env:KAFKA_BROKERS}\nkey.converter=org.apache.kafka.connect.storage.StringConverter\n' +
      'value.converter=org.apache.kafka.connect.json.JsonConverter\nvalue.converter.schemas.enable=false\n',
    'connectors/sink.properties': `name=${name}\nconnector.class=FileStreamSink\nfile=out.txt\ntopics=${topic}\n`,
    'connectors/gen.properties': `name=gen-${name}\nconnector.class=datagen\nkafka.topic=gen-${topic}\niterations=1\n`,
  });
  return { dir, file: join(dir, 'out.txt') };
}

describe('connect-fn run <bundle> <sink>', () => {
  it('--invocations 2 --json: one summary per scheduled invocation, the second idle', async () => {
    // Prepare
    const topic = await freshTopic(admin, 'cli-sink', 2);
    const name = `cli-${unique()}`;
    await produce([0, 1, 2, 3, 4, 5].map((i) => record(topic, JSON.stringify({ i }), i % 2)));
    const { dir, file } = bundle(name, topic);
    // Act
    const run = await runCli('run', dir, name, '--invocations', '2', '--json');
    // Assess
    expect(run.err).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.out).toHaveLength(2);
    const [first, second] = run.out.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first).toMatchObject({ connector: name, task: 0, kind: 'sink', records: 6, stopReason: 'idle' });
    expect(second).toMatchObject({ connector: name, kind: 'sink', records: 0, stopReason: 'idle' });
    const written = lines(file);
    const ofPartition = (p: number) => written.filter((l) => (JSON.parse(l) as { i: number }).i % 2 === p);
    expect(ofPartition(0)).toEqual(['{"i":0}', '{"i":2}', '{"i":4}']);
    expect(ofPartition(1)).toEqual(['{"i":1}', '{"i":3}', '{"i":5}']);
    expect([...written].sort()).toEqual([0, 1, 2, 3, 4, 5].map((i) => `{"i":${i}}`));
  });

  it('--event FILE: feeds the Kafka event to the triggered handler; exit 1 and a retry line per failed partition', async () => {
    // Prepare: partition 1 offset 2 is not JSON
    const topic = await freshTopic(admin, 'cli-sink-event', 2);
    const name = `cli-event-${unique()}`;
    await produce([
      ...[0, 1, 2].map((i) => record(topic, `{"p":0,"i":${i}}`, 0)),
      ...['{"p":1,"i":0}', '{"p":1,"i":1}', 'not json', '{"p":1,"i":3}'].map((v) => record(topic, v, 1)),
    ]);
    const read = await readBack(topic, [0, 1]);
    const { dir, file } = bundle(name, topic);
    const failing = join(dir, 'failing-event.json');
    writeFileSync(failing, JSON.stringify(kafkaEventFrom(read, 'SelfManagedKafka')));
    const passing = join(dir, 'passing-event.json');
    writeFileSync(
      passing,
      JSON.stringify(
        kafkaEventFrom(
          read.filter((r) => r.partition === 0),
          'aws:kafka',
        ),
      ),
    );
    // Act
    const failed = await runCli('run', dir, name, '--event', failing);
    const afterFailed = lines(file);
    const passed = await runCli('run', dir, name, '--event', passing);
    // Assess
    expect(failed.code).toBe(1);
    expect(failed.out).toEqual([
      expect.stringMatching(new RegExp(`^#1 ${name}/0  5 records .* error .*CONNECT_FN_`)),
      `  retry ${topic}-1 from offset 2`,
    ]);
    expect(afterFailed).toEqual([
      '{"p":0,"i":0}',
      '{"p":0,"i":1}',
      '{"p":0,"i":2}',
      '{"p":1,"i":0}',
      '{"p":1,"i":1}',
    ]);
    expect(passed.code).toBe(0);
    expect(passed.out).toEqual([expect.stringMatching(new RegExp(`^#1 ${name}/0  3 records .* idle`))]);
    expect(lines(file).slice(afterFailed.length)).toEqual([
      '{"p":0,"i":0}',
      '{"p":0,"i":1}',
      '{"p":0,"i":2}',
    ]);
  });

  it('--event on a source connector is a usage error (exit 2)', async () => {
    const name = `cli-src-${unique()}`;
    const { dir } = bundle(name, 'unused');
    const event = join(dir, 'event.json');
    writeFileSync(event, JSON.stringify(kafkaEventFrom([], 'aws:kafka')));

    const run = await runCli('run', dir, `gen-${name}`, '--event', event);

    expect(run.code).toBe(2);
    expect(run.out).toEqual([]);
    expect(run.err.join('\n')).toMatch(
      `--event feeds a Kafka event to a sink connector; gen-${name} is a source`,
    );
  });
});
