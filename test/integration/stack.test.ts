import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ConfigResourceTypes, Kafka, logLevel, Partitioners } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stackCommand } from '../../src/cli/stack-command.ts';
import { readState } from '../../src/stack/background.ts';
import { startStack } from '../../src/stack/index.ts';
import { isAlive } from '../../src/stack/jvm-process.ts';
import { probeDynamoDb, probeKafka } from '../../src/stack/readiness.ts';
import { localAws, stackEnv } from '../stack/env.ts';

const run = promisify(execFile);
const REPO_ROOT = join(import.meta.dirname, '..', '..');

function kafkaClient(brokers: string): Kafka {
  return new Kafka({ clientId: 'stack-test', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
}

describe('the local stack', () => {
  it('round-trips messages through a real Kafka topic', async () => {
    const kafka = kafkaClient(stackEnv().kafkaBrokers);
    const topic = `stack-test-${randomUUID()}`;
    const admin = kafka.admin();
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    const consumer = kafka.consumer({ groupId: `stack-test-${randomUUID()}` });
    await admin.connect();
    await producer.connect();
    await consumer.connect();
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      const sent = ['alpha', 'beta', 'gamma'].map((value, i) => ({ key: `k${i}`, value }));
      await producer.send({ topic, messages: sent });

      const received: { key: string; value: string; offset: string }[] = [];
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      const allReceived = new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async ({ message }) => {
            received.push({
              key: message.key?.toString() ?? '',
              value: message.value?.toString() ?? '',
              offset: message.offset,
            });
            if (received.length === sent.length) resolve();
          },
        });
      });
      await allReceived;

      expect(received).toEqual([
        { key: 'k0', value: 'alpha', offset: '0' },
        { key: 'k1', value: 'beta', offset: '1' },
        { key: 'k2', value: 'gamma', offset: '2' },
      ]);
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
      await admin.disconnect();
    }
  });

  it("keeps Kafka's default 3 s initial rebalance delay on the broker it starts", async (context) => {
    if (!stackEnv().started.kafka) context.skip('KAFKA_BROKERS names a broker this stack did not start');
    const admin = kafkaClient(stackEnv().kafkaBrokers).admin();
    await admin.connect();
    try {
      const { resources } = await admin.describeConfigs({
        resources: [
          { type: ConfigResourceTypes.BROKER, name: '1', configNames: ['group.initial.rebalance.delay.ms'] },
        ],
        includeSynonyms: false,
      });

      expect(resources[0]?.configEntries[0]?.configValue).toBe('3000');
    } finally {
      await admin.disconnect();
    }
  });

  it('stores and reads back an item in DynamoDB', async () => {
    const client = new DynamoDBClient({ ...localAws, endpoint: stackEnv().dynamodbEndpoint });
    const table = `stack-test-${randomUUID()}`;
    try {
      await client.send(
        new CreateTableCommand({
          TableName: table,
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      await client.send(
        new PutItemCommand({
          TableName: table,
          Item: { pk: { S: 'orders' }, offset: { S: '{"position":42}' } },
        }),
      );

      const { Item } = await client.send(
        new GetItemCommand({ TableName: table, Key: { pk: { S: 'orders' } }, ConsistentRead: true }),
      );

      expect(Item).toEqual({ pk: { S: 'orders' }, offset: { S: '{"position":42}' } });
    } finally {
      client.destroy();
    }
  });

  it('uses KAFKA_BROKERS and DYNAMODB_ENDPOINT as given, without starting anything or needing Java', async () => {
    const { kafkaBrokers, dynamodbEndpoint } = stackEnv();
    const env = { KAFKA_BROKERS: kafkaBrokers, DYNAMODB_ENDPOINT: dynamodbEndpoint, PATH: '' };

    const stack = await startStack({ env, log: () => undefined });
    await stack.stop();

    expect(stack).toMatchObject({ kafkaBrokers, dynamodbEndpoint, started: [], rootDir: undefined });
    await probeKafka(kafkaBrokers, { createTopic: false, timeoutMs: 5_000 }); // stop() left it alone
  });
});

describe('connect-fn stack up|env|down (background mode)', () => {
  const saved = {
    KAFKA_BROKERS: process.env.KAFKA_BROKERS,
    DYNAMODB_ENDPOINT: process.env.DYNAMODB_ENDPOINT,
    CONNECT_FN_STATE_DIR: process.env.CONNECT_FN_STATE_DIR,
  };
  let stateDir: string;

  beforeAll(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'connect-fn-stack-state-'));
    // The global setup exports its own stack's addresses; background mode must start its own.
    delete process.env.KAFKA_BROKERS;
    delete process.env.DYNAMODB_ENDPOINT;
    process.env.CONNECT_FN_STATE_DIR = stateDir;
  });

  afterAll(async () => {
    await stackCommand(['down'], { out: () => undefined, err: () => undefined });
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    rmSync(stateDir, { recursive: true, force: true });
  });

  async function cli(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await stackCommand(args, { out: (line) => out.push(line), err: (line) => err.push(line) });
    return { code, out, err };
  }

  it('starts a stack that outlives the CLI, reuses it, repeats its env, and stops it', async () => {
    const { stdout } = await run(process.execPath, ['bin/connect-fn.mjs', 'stack', 'up'], {
      cwd: REPO_ROOT,
      env: { ...process.env, CONNECT_FN_STATE_DIR: stateDir },
      timeout: 120_000,
    });
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^KAFKA_BROKERS=127\.0\.0\.1:\d+$/),
      expect.stringMatching(/^DYNAMODB_ENDPOINT=http:\/\/127\.0\.0\.1:\d+$/),
    ]);
    const kafkaBrokers = lines[0]!.slice('KAFKA_BROKERS='.length);
    const dynamodbEndpoint = lines[1]!.slice('DYNAMODB_ENDPOINT='.length);
    // The CLI process has exited; the services still answer.
    await probeKafka(kafkaBrokers, { createTopic: true, timeoutMs: 5_000 });
    await probeDynamoDb(dynamodbEndpoint, 5_000);

    const second = await cli('up');
    expect(second).toMatchObject({ code: 0, out: lines });
    expect(second.err.join('\n')).toContain('reusing the running stack');
    expect(await cli('env')).toMatchObject({ code: 0, out: lines });

    const state = (await readState(stateDir))!;
    const down = await cli('down');

    expect(down.code).toBe(0);
    expect(state.services.map((s) => isAlive(s.pid))).toEqual([false, false]);
    expect(existsSync(state.rootDir!)).toBe(false);
    await expect(probeDynamoDb(dynamodbEndpoint, 2_000)).rejects.toThrow();
    await expect(probeKafka(kafkaBrokers, { createTopic: false, timeoutMs: 2_000 })).rejects.toThrow();
    expect(await cli('down')).toMatchObject({ code: 0, err: ['no stack running; nothing to stop'] });
    expect(await cli('env')).toMatchObject({ code: 1, out: [] });
  });

  it('replaces a stack whose broker died', async () => {
    const first = await cli('up');
    const before = (await readState(stateDir))!;
    const kafkaPid = before.services.find((s) => s.name === 'kafka')!.pid;
    process.kill(kafkaPid, 'SIGKILL');
    await vi.waitFor(() => expect(isAlive(kafkaPid)).toBe(false)); // SIGKILL is delivered asynchronously

    const env = await cli('env');
    const second = await cli('up');
    const after = (await readState(stateDir))!;

    expect(first.code).toBe(0);
    expect(env.code).toBe(1);
    expect(second.code).toBe(0);
    expect(second.err.join('\n')).toContain('stale stack state');
    expect(second.out).not.toEqual(first.out);
    expect(before.services.map((s) => isAlive(s.pid))).toEqual([false, false]);
    expect(after.services.map((s) => isAlive(s.pid))).toEqual([true, true]);
    await probeKafka(after.kafkaBrokers, { createTopic: false, timeoutMs: 5_000 });
  });

  it('answers a usage error with exit code 2', async () => {
    expect((await cli('up', '--db-path')).code).toBe(2);
    expect((await cli('sideways')).code).toBe(2);
  });
});
