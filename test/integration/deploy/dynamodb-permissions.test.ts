/**
 * The DynamoDB permissions of a manifest cover every call the function makes: each connector that talks to
 * DynamoDB runs, as `connect-fn run` runs it, against DynamoDB Local through a recording proxy that notes
 * each request's IAM action and table (the items of a TransactWriteItems one by one, as IAM authorizes
 * them); every noted call must be granted by the manifest derived from the same bundle.
 */
import { randomUUID } from 'node:crypto';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type DynamoDBClient, PutItemCommand, type ScalarAttributeType } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSinkFunction } from '../../../src/app/sink-function.ts';
import { createSourceFunction } from '../../../src/app/source-function.ts';
import { loadBundle } from '../../../src/config/bundle.ts';
import { builtinRegistry } from '../../../src/connectors/builtins.ts';
import { deriveManifest } from '../../../src/deploy/derive.ts';
import type { Permission } from '../../../src/deploy/manifest.ts';
import { createKafkaClients } from '../../../src/kafka/index.ts';
import { localContext } from '../../../src/lambda/lambda-context.ts';
import { stackEnv } from '../../stack/env.ts';
import { writeBundle } from '../../support/bundle-fixture.ts';
import { kafkaWorker } from '../../unit/kafka/worker-values.ts';
import { createTable, localDynamoDb } from '../connectors/dynamodb-support.ts';
import { freshTopic, rawAdmin, utf8 } from '../kafka/support.ts';

/** One IAM authorization a request needs. */
interface Call {
  readonly service: 'dynamodb' | 'dynamodb-streams';
  readonly action: string;
  /** Undefined where the request names no table (GetRecords takes an iterator). */
  readonly table: string | undefined;
}

const TRANSACT_ACTIONS: Readonly<Record<string, string>> = {
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  ConditionCheck: 'ConditionCheckItem',
};

/** What `target` (`DynamoDB_20120810.GetItem`) with `body` needs authorized. */
function callsOf(target: string, body: Record<string, unknown>): Call[] {
  const [api = '', operation = ''] = target.split('.');
  if (api.startsWith('DynamoDBStreams')) {
    const arn = typeof body.StreamArn === 'string' ? body.StreamArn : undefined;
    const table = arn === undefined ? undefined : /:table\/([^/]+)\//.exec(arn)?.[1];
    return [{ service: 'dynamodb-streams', action: `dynamodb:${operation}`, table }];
  }
  if (operation === 'TransactWriteItems') {
    return (body.TransactItems as Record<string, { TableName: string }>[]).flatMap((item) =>
      Object.entries(item).map(([kind, action]) => ({
        service: 'dynamodb' as const,
        action: `dynamodb:${TRANSACT_ACTIONS[kind] ?? kind}`,
        table: action.TableName,
      })),
    );
  }
  if (operation === 'BatchGetItem' || operation === 'BatchWriteItem') {
    return Object.keys(body.RequestItems as object).map((table) => ({
      service: 'dynamodb' as const,
      action: `dynamodb:${operation}`,
      table,
    }));
  }
  return [{ service: 'dynamodb', action: `dynamodb:${operation}`, table: body.TableName as string }];
}

/** An HTTP proxy to DynamoDB Local that notes the calls of every request it forwards. */
async function recordingProxy(target: URL) {
  const calls: Call[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      calls.push(...callsOf(String(req.headers['x-amz-target']), JSON.parse(body.toString('utf8') || '{}')));
      const forward = request(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 500, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', (err) => res.destroy(err));
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The calls no permission of `permissions` grants. */
function ungranted(calls: readonly Call[], permissions: readonly Permission[]): Call[] {
  return calls.filter(
    (call) =>
      !permissions.some(
        (p) =>
          p.service === call.service &&
          p.actions.includes(call.action) &&
          (call.table === undefined || p.tables.includes(call.table)),
      ),
  );
}

let proxy: Awaited<ReturnType<typeof recordingProxy>>;
let db: DynamoDBClient;
beforeAll(async () => {
  proxy = await recordingProxy(new URL(stackEnv().dynamodbEndpoint));
  db = localDynamoDb();
});
afterAll(async () => {
  db?.destroy();
  await proxy?.close();
});

const env = () => ({
  ...process.env,
  KAFKA_BROKERS: stackEnv().kafkaBrokers,
  PROXY: proxy.url,
  LOG_LEVEL: 'error',
});

const offsetsKeys: [string, ScalarAttributeType][] = [
  ['pk', 'S'],
  ['sk', 'S'],
];

/** A worker keeping offsets in `table`, through the proxy. */
const worker = (table: string) =>
  `bootstrap.servers=\${env:KAFKA_BROKERS}\noffset.storage=dynamodb\noffset.storage.table=${table}\ndynamodb.endpoint=\${env:PROXY}\nkey.converter=org.apache.kafka.connect.storage.StringConverter\nvalue.converter=org.apache.kafka.connect.json.JsonConverter\nvalue.converter.schemas.enable=false\n`;

/** Runs `invocations` of connector `name` of `files` and returns the calls it made and its permissions. */
async function callsAndPermissions(files: Record<string, string>, name: string, invocations: number) {
  const dir = writeBundle(files);
  const bundle = loadBundle(dir, { registry: builtinRegistry(), env: env() });
  const kind = bundle.connector(name).kind;
  const options = { bundleDir: dir, connector: name, env: env(), logSink: () => {} };
  const fn = kind === 'source' ? createSourceFunction(options) : createSinkFunction(options);
  const from = proxy.calls.length;
  const summaries = [];
  try {
    for (let i = 0; i < invocations; i++)
      summaries.push(await fn.handler({ task: 0 }, localContext(name, 30_000)));
  } finally {
    await fn.close();
  }
  const manifest = deriveManifest(bundle, name, {
    tasks: 1,
    requiredEnvironment: [],
    consumer: { maxPollRecords: 500, autoOffsetReset: 'earliest' },
  });
  return { calls: proxy.calls.slice(from), permissions: manifest.permissions, summaries };
}

/** A fresh topic `<prefix>-<uuid>`. */
async function newTopic(prefix: string): Promise<string> {
  const admin = await rawAdmin();
  try {
    return await freshTopic(admin, prefix);
  } finally {
    await admin.disconnect();
  }
}

/** JSON records keyed `k-<i>` into a fresh topic; every third one a tombstone. */
async function topicWithRecords(n: number): Promise<string> {
  const topic = await newTopic('perm');
  const writer = createKafkaClients(kafkaWorker(stackEnv().kafkaBrokers)).recordWriter();
  try {
    await writer.send(
      Array.from({ length: n }, (_, i) => ({
        topic,
        partition: 0,
        key: utf8(`k-${i % 4}`),
        value: i % 3 === 2 ? null : utf8(JSON.stringify({ amount: i })),
        headers: [],
      })),
    );
    return topic;
  } finally {
    await writer.close();
  }
}

const unique = () => randomUUID().slice(0, 8);

describe('DynamoDB permissions of a manifest, against what the function calls', () => {
  it('a source with offsets in DynamoDB: lease, reads and commits', async () => {
    const offsets = await createTable(db, 'perm-offs', offsetsKeys);
    const topic = await newTopic('perm-gen');
    const name = `gen-${unique()}`;
    const { calls, permissions, summaries } = await callsAndPermissions(
      {
        'worker.properties': worker(offsets),
        'connectors/gen.properties': `name=${name}\nconnector.class=datagen\nkafka.topic=${topic}\niterations=30\ninvocation.max.records=20\n`,
      },
      name,
      2,
    );
    expect(summaries.map((s) => s.records)).toEqual([20, 10]);
    expect(new Set(calls.map((c) => c.action))).toEqual(
      new Set([
        'dynamodb:UpdateItem',
        'dynamodb:BatchGetItem',
        'dynamodb:ConditionCheckItem',
        'dynamodb:PutItem',
      ]),
    );
    expect(ungranted(calls, permissions)).toEqual([]);
  });

  for (const guarantee of ['at-least-once', 'exactly-once']) {
    it(`a ${guarantee} DynamoDB sink with offsets in DynamoDB, deleting on tombstones`, async () => {
      const offsets = await createTable(db, 'perm-offs', offsetsKeys);
      const target = await createTable(db, 'perm-target', [['id', 'S']]);
      const topic = await topicWithRecords(12);
      const name = `tbl-${unique()}`;
      const eos = guarantee === 'exactly-once' ? `exactly.once.offsets.table=${offsets}\n` : '';
      const { calls, permissions, summaries } = await callsAndPermissions(
        {
          'worker.properties': worker(offsets),
          'connectors/tbl.properties': `name=${name}\nconnector.class=dynamodb-sink\ntopics=${topic}\ntable.name.format=${target}\naws.dynamodb.endpoint=\${env:PROXY}\naws.dynamodb.pk.hash=key:id\naws.dynamodb.pk.sort=\nbehavior.on.null.values=delete\ndelivery.guarantee=${guarantee}\n${eos}`,
        },
        name,
        2,
      );
      expect(summaries.map((s) => s.records)).toEqual([12, 0]);
      const used = new Set(calls.map((c) => `${c.action} ${c.table}`));
      expect(used).toContain(`dynamodb:DescribeTable ${target}`);
      expect(used).toContain(
        guarantee === 'exactly-once' ? `dynamodb:DeleteItem ${target}` : `dynamodb:BatchWriteItem ${target}`,
      );
      expect(ungranted(calls, permissions)).toEqual([]);
    });
  }

  it("a DynamoDB Streams source: the table's stream, shards and records", async () => {
    const offsets = await createTable(db, 'perm-offs', offsetsKeys);
    const table = await createTable(db, 'perm-cdc', [['pk', 'S']], { stream: true });
    for (let i = 0; i < 5; i++) {
      await db.send(new PutItemCommand({ TableName: table, Item: { pk: { S: `item-${i}` } } }));
    }
    const topic = await newTopic('perm-changes');
    const name = `cdc-${unique()}`;
    const { calls, permissions, summaries } = await callsAndPermissions(
      {
        'worker.properties': worker(offsets),
        'connectors/cdc.properties': `name=${name}\nconnector.class=dynamodb-streams\ndynamodb.table=${table}\ndynamodb.service.endpoint=\${env:PROXY}\ntopic.format=${topic}\nkey.converter=json\nkey.converter.schemas.enable=false\n`,
      },
      name,
      1,
    );
    expect(summaries.map((s) => s.records)).toEqual([5]);
    expect(new Set(calls.filter((c) => c.service === 'dynamodb-streams').map((c) => c.action))).toEqual(
      new Set(['dynamodb:DescribeStream', 'dynamodb:GetShardIterator', 'dynamodb:GetRecords']),
    );
    expect(ungranted(calls, permissions)).toEqual([]);
  });
});
