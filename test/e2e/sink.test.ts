/**
 * A sink connector's package under the Lambda runtime emulator: scheduled (EventBridge Scheduler input
 * `{"task": N}`; it reads the topic itself and commits to Kafka Connect's group `connect-<name>`) and
 * triggered (the events an MSK and a self-managed Kafka event source mapping send; it answers with the
 * partial batch response).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { KafkaRecord } from '../../src/runtime/ports.ts';
import {
  freshTopic,
  produceRecords as produce,
  rawAdmin,
  readPartitions,
  record,
} from '../integration/kafka/support.ts';
import { stackEnv } from '../stack/env.ts';
import { writeBundle } from '../support/bundle-fixture.ts';
import { whileCoordinatorMoves } from '../support/coordinator-retry.ts';
import { kafkaEventFrom } from '../support/kafka-events.ts';
import { reportColdStart, runPackaged, unique } from './support/e2e-fixture.ts';
import type { Invocation } from './support/lambda-emulator.ts';

const STRING_WORKER =
  'bootstrap.servers=${env:KAFKA_BROKERS}\noffset.storage=kafka\nkey.converter=string\nvalue.converter=string\n';
const JSON_WORKER =
  'bootstrap.servers=${env:KAFKA_BROKERS}\noffset.storage=kafka\nkey.converter=string\nvalue.converter=json\nvalue.converter.schemas.enable=false\n';

let admin: Admin;
let outDir: string;
beforeAll(async () => {
  admin = await rawAdmin();
});
afterAll(async () => {
  await admin?.disconnect();
});
afterEach(() => {
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

/**
 * A bundle with one FileStreamSink `name` of `topic`, writing a file outside the function's directory
 * (as a function writes to /tmp: its code directory is read-only).
 */
function sinkBundle(name: string, topic: string, worker: string, extra = '') {
  outDir = mkdtempSync(join(tmpdir(), 'connect-fn-e2e-out-'));
  const file = join(outDir, 'out.txt');
  const dir = writeBundle({
    'worker.properties': worker,
    'connectors/sink.properties': `name=${name}\nconnector.class=FileStreamSink\nfile=${file}\ntopics=${topic}\n${extra}`,
  });
  return { dir, file };
}

function lines(file: string): string[] {
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
    : [];
}

/** Waits until group `connect-<connector>` shows `expected` for `topic` (by partition). */
async function expectGroupOffsets(connector: string, topic: string, expected: number[]): Promise<void> {
  await vi.waitFor(
    async () => {
      const [fetched] = await whileCoordinatorMoves(() =>
        admin.fetchOffsets({ groupId: `connect-${connector}`, topics: [topic] }),
      );
      const offsets = (fetched?.partitions ?? [])
        .sort((a, b) => a.partition - b.partition)
        .map((p) => Number(p.offset));
      expect(offsets).toEqual(expected);
    },
    { timeout: 10_000, interval: 20 },
  );
}

/** `count` values per partition of 2, `p<partition>-<i>`, interleaved. */
function records(topic: string, count: number, from = 0): KafkaRecord[] {
  return Array.from({ length: count }, (_, i) =>
    [0, 1].map((p) => record(topic, `p${p}-${from + i}`, p)),
  ).flat();
}

describe('scheduled sink, packaged, under the Lambda runtime emulator', () => {
  it('FileStreamSink: writes the topic to the file, commits to connect-<name>, and resumes there', async () => {
    // Prepare
    const topic = await freshTopic(admin, 'e2e-sink', 2);
    const name = `sink-${unique()}`;
    await produce(records(topic, 50));
    const { dir, file } = sinkBundle(name, topic, STRING_WORKER);
    const fn = await runPackaged(dir, name);
    // Act
    const first = await fn.invoke({ task: 0 });
    await produce(records(topic, 5, 50));
    const second = await fn.invoke({ task: 0 });
    // Assess
    expect(first).toMatchObject({
      status: 200,
      body: { connector: name, task: 0, kind: 'sink', records: 100, stopReason: 'idle' },
    });
    expect(second).toMatchObject({ status: 200, body: { records: 10, stopReason: 'idle' } });
    const written = lines(file);
    for (const p of [0, 1]) {
      expect(written.filter((l) => l.startsWith(`p${p}-`))).toEqual(
        Array.from({ length: 55 }, (_, i) => `p${p}-${i}`),
      );
    }
    expect(written).toHaveLength(110);
    await expectGroupOffsets(name, topic, [55, 55]);
    reportColdStart('scheduled sink (FileStreamSink)', first, second, fn.runtimeInitMs());
  });
});

describe('triggered sink, packaged, under the Lambda runtime emulator', () => {
  it('delivers an MSK event and a self-managed Kafka event and answers with no batch item failures', async () => {
    // Prepare
    const topic = await freshTopic(admin, 'e2e-trigger', 2);
    const name = `trigger-${unique()}`;
    await produce(records(topic, 20));
    const read = await readPartitions(topic, [0, 1]);
    const { dir, file } = sinkBundle(name, topic, STRING_WORKER, 'trigger=kafka\n');
    const fn = await runPackaged(dir, name);
    const inOrder = read.map((r) => Buffer.from(r.value ?? []).toString('utf8'));
    const invocations: Invocation[] = [];
    for (const [n, source] of (['aws:kafka', 'SelfManagedKafka'] as const).entries()) {
      // Act
      const event = kafkaEventFrom(read, source, { bootstrapServers: stackEnv().kafkaBrokers });
      const invocation = await fn.invoke(event);
      invocations.push(invocation);
      // Assess: the partial batch response, and every record written, partitions in turn
      expect(invocation).toMatchObject({ status: 200, body: { batchItemFailures: [] } });
      expect(lines(file)).toEqual(Array.from({ length: n + 1 }, () => inOrder).flat());
    }
    const [cold, warm] = invocations;
    if (cold && warm) reportColdStart('triggered sink (FileStreamSink)', cold, warm, fn.runtimeInitMs());
  });

  it('names the record that is not JSON in batchItemFailures; the records before it are delivered', async () => {
    // Prepare: partition 0 offset 2 is not JSON
    const topic = await freshTopic(admin, 'e2e-trigger-bad', 2);
    const name = `trigger-bad-${unique()}`;
    const json = (p: number, i: number) => JSON.stringify({ p, i });
    const values = [[json(0, 0), json(0, 1), '{"p":0', json(0, 3)], [0, 1, 2].map((i) => json(1, i))];
    await produce(values.flatMap((vs, p) => vs.map((v) => record(topic, v, p))));
    const read = await readPartitions(topic, [0, 1]);
    const { dir, file } = sinkBundle(name, topic, JSON_WORKER, 'trigger=kafka\n');
    const fn = await runPackaged(dir, name);
    // Act
    const invocation = await fn.invoke(kafkaEventFrom(read, 'aws:kafka'));
    // Assess
    expect(invocation).toMatchObject({
      status: 200,
      body: { batchItemFailures: [{ itemIdentifier: { partition: `${topic}-0`, offset: 2 } }] },
    });
    expect(lines(file)).toEqual([json(0, 0), json(0, 1), ...[0, 1, 2].map((i) => json(1, i))]);
  });
});
