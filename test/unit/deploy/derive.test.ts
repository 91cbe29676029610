import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBundle } from '../../../src/config/bundle.ts';
import { builtinRegistry } from '../../../src/connectors/builtins.ts';
import { deriveManifest } from '../../../src/deploy/derive.ts';
import { scanEnvironment } from '../../../src/deploy/environment.ts';
import { regexNamePattern } from '../../../src/deploy/permissions.ts';
import { createKafkaClients, withClientOverrides } from '../../../src/kafka/index.ts';
import { writeBundle } from '../../support/bundle-fixture.ts';

const IAM_WORKER =
  'bootstrap.servers=b-1.example:9098\nsecurity.protocol=SASL_SSL\nsasl.mechanism=AWS_MSK_IAM\naws.region=eu-west-1\n';

function manifestOf(files: Record<string, string>, name: string, tasks = 1) {
  const dir = writeBundle(files);
  const bundle = loadBundle(dir, { registry: builtinRegistry(), env: { KAFKA_PASSWORD: 'p' } });
  const c = bundle.connector(name);
  const { consumerSettings } = createKafkaClients(withClientOverrides(bundle.worker, c.overrides, c.file));
  return deriveManifest(bundle, name, { tasks, requiredEnvironment: [], consumer: consumerSettings });
}

const datagen = (extra = '') => `name=gen\nconnector.class=datagen\nkafka.topic=orders\n${extra}`;
const dynamoSink = (extra = '') =>
  `name=tbl\nconnector.class=dynamodb-sink\ntopics=a,b\ntable.name.format=kafka_\${topic}\n${extra}`;

describe('deriveManifest', () => {
  it('derives a scheduled source: topic, schedule, function settings, offsets topic', () => {
    const m = manifestOf(
      {
        'connectors/gen.properties': datagen(
          'schedule=rate(5 minutes)\ninvocation.timeout.ms=120400\nfunction.memory.mb=1024\n',
        ),
      },
      'gen',
      3,
    );
    expect(m).toMatchObject({
      connector: 'gen',
      plugin: 'datagen',
      kind: 'source',
      trigger: 'schedule',
      schedule: 'rate(5 minutes)',
      tasks: 3,
      topics: ['orders'],
      offsets: { storage: 'kafka', topic: 'connect-offsets', table: null },
      eventSource: null,
      kafka: { securityProtocol: 'PLAINTEXT', saslMechanism: null, iam: false },
      permissions: [],
    });
    expect(m.function).toEqual({
      handler: 'index.handler',
      runtime: 'nodejs22.x',
      architecture: 'arm64',
      memoryMb: 1024,
      timeoutSeconds: 121,
      environment: { CONNECT_FN_CONNECTOR: 'gen', NODE_OPTIONS: '--enable-source-maps' },
      requiredEnvironment: [],
    });
  });

  it('names the topic of each source kind', () => {
    const file = manifestOf(
      { 'connectors/f.properties': 'name=f\nconnector.class=FileStreamSource\nfile=/x\ntopic=lines\n' },
      'f',
    );
    expect(file.topics).toEqual(['lines']);
    const streams = manifestOf(
      {
        'connectors/s.properties':
          'name=s\nconnector.class=dynamodb-streams\ndynamodb.stream.arn=arn:aws:dynamodb:eu-west-1:1:table/users/stream/2024\ntopic.format=cdc.${table}\n',
      },
      's',
    );
    expect(streams.topics).toEqual(['cdc.users']);
    expect(streams.permissions).toEqual([
      expect.objectContaining({
        service: 'dynamodb-streams',
        tables: ['users'],
        actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
      }),
    ]);
  });

  it('derives a triggered sink: the event source mapping reads as the scheduled cycle would', () => {
    const m = manifestOf(
      {
        'worker.properties': 'consumer.max.poll.records=200\n',
        'connectors/s.properties':
          'name=snk\nconnector.class=FileStreamSink\nfile=/tmp/o\ntopics=t1,t2\ntrigger=kafka\nconsumer.override.auto.offset.reset=latest\n',
      },
      'snk',
      4,
    );
    expect(m).toMatchObject({ trigger: 'kafka', schedule: null, tasks: 1, topics: ['t1', 't2'] });
    expect(m.eventSource).toEqual({
      topics: ['t1', 't2'],
      consumerGroupId: 'connect-snk',
      batchSize: 200,
      startingPosition: 'LATEST',
    });
  });

  it('refuses what an event source mapping cannot express, naming the key', () => {
    const sink = (extra: string) => ({
      'connectors/s.properties': `name=snk\nconnector.class=FileStreamSink\nfile=/tmp/o\ntrigger=kafka\n${extra}`,
    });
    expect(() => manifestOf(sink('topics.regex=t.*\n'), 'snk')).toThrow(/topics\.regex.*named topics/s);
    expect(() => manifestOf(sink('topics=t\nconsumer.override.auto.offset.reset=none\n'), 'snk')).toThrow(
      /consumer\.override\.auto\.offset\.reset/,
    );
    expect(() => manifestOf(sink('topics=t\nconsumer.override.max.poll.records=10001\n'), 'snk')).toThrow(
      /max\.poll\.records/,
    );
  });

  it('grants the DynamoDB offsets table only the actions the store uses', () => {
    const files = (connector: string) => ({
      'worker.properties': 'offset.storage=dynamodb\noffset.storage.table=offs\n',
      'connectors/c.properties': connector,
    });
    const source = manifestOf(files(datagen()), 'gen');
    expect(source.offsets).toEqual({ storage: 'dynamodb', topic: null, table: 'offs' });
    expect(source.permissions).toEqual([
      expect.objectContaining({
        service: 'dynamodb',
        tables: ['offs'],
        actions: [
          'dynamodb:BatchGetItem',
          'dynamodb:ConditionCheckItem',
          'dynamodb:DeleteItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
        ],
      }),
    ]);
    const triggered = manifestOf(
      files('name=snk\nconnector.class=FileStreamSink\nfile=/o\ntopics=t\ntrigger=kafka\n'),
      'snk',
    );
    expect(triggered.permissions).toEqual([]);
  });

  it("expands a DynamoDB sink's table.name.format over its topics", () => {
    const m = manifestOf({ 'connectors/t.properties': dynamoSink() }, 'tbl');
    expect(m.permissions).toEqual([
      expect.objectContaining({
        service: 'dynamodb',
        tables: ['kafka_a', 'kafka_b'],
        actions: ['dynamodb:BatchWriteItem', 'dynamodb:DescribeTable', 'dynamodb:PutItem'],
      }),
    ]);
    const eos = manifestOf(
      {
        'connectors/t.properties': dynamoSink(
          'delivery.guarantee=exactly-once\nexactly.once.offsets.table=eos\nbehavior.on.null.values=delete\n',
        ),
      },
      'tbl',
    );
    expect(eos.permissions.map((p) => [p.actions, 'tables' in p ? p.tables : []])).toEqual([
      [
        ['dynamodb:DeleteItem', 'dynamodb:DescribeTable', 'dynamodb:PutItem'],
        ['kafka_a', 'kafka_b'],
      ],
      [['dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:UpdateItem'], ['eos']],
    ]);
  });

  it('refuses a DynamoDB sink whose tables cannot be named (topics.regex with ${topic})', () => {
    const files = {
      'connectors/t.properties':
        'name=tbl\nconnector.class=dynamodb-sink\ntopics.regex=orders-.*\ntable.name.format=kafka_${topic}\n',
    };
    expect(() => manifestOf(files, 'tbl')).toThrow(/table\.name\.format/);
  });

  it('grants MSK IAM actions on the cluster, topics, group and transactional ids the connector uses', () => {
    const source = manifestOf(
      {
        'worker.properties': `${IAM_WORKER}exactly.once.source.support=enabled\ngroup.id=cf\n`,
        'connectors/c.properties': datagen(),
      },
      'gen',
    );
    expect(source.kafka).toEqual({
      securityProtocol: 'SASL_SSL',
      saslMechanism: 'AWS_MSK_IAM',
      iam: true,
      clientCertificate: false,
      privateCa: false,
    });
    const kafka = source.permissions.filter((p) => p.service === 'kafka-cluster');
    expect(kafka.map((p) => [p.resource, p.names, p.actions])).toEqual([
      [
        'cluster',
        [],
        ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster', 'kafka-cluster:WriteDataIdempotently'],
      ],
      ['topic', ['orders'], ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData']],
      [
        'topic',
        ['connect-offsets'],
        [
          'kafka-cluster:CreateTopic',
          'kafka-cluster:DescribeTopic',
          'kafka-cluster:ReadData',
          'kafka-cluster:WriteData',
        ],
      ],
      [
        'transactional-id',
        ['cf-gen-*'],
        ['kafka-cluster:AlterTransactionalId', 'kafka-cluster:DescribeTransactionalId'],
      ],
    ]);
    for (const p of source.permissions) expect(p.reason).not.toBe('');

    const sink = manifestOf(
      {
        'worker.properties': IAM_WORKER,
        'connectors/s.properties':
          'name=snk\nconnector.class=FileStreamSink\nfile=/o\ntopics.regex=orders-.*\n',
      },
      'snk',
    );
    expect(
      sink.permissions.map((p) => [
        p.service === 'kafka-cluster' ? p.resource : '',
        'names' in p ? p.names : [],
      ]),
    ).toEqual([
      ['cluster', []],
      ['topic', ['orders-*']],
      ['group', ['connect-snk']],
      ['transactional-id', ['connect-fn-snk-*']],
    ]);
  });

  it('lists no MSK IAM permission without IAM', () => {
    const m = manifestOf(
      {
        'worker.properties':
          'security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="${env:KAFKA_PASSWORD}";\n',
        'connectors/c.properties': datagen(),
      },
      'gen',
    );
    expect(m.kafka).toEqual({
      securityProtocol: 'SASL_SSL',
      saslMechanism: 'SCRAM-SHA-512',
      iam: false,
      clientCertificate: false,
      privateCa: false,
    });
    expect(m.permissions).toEqual([]);
  });

  it('tells a client certificate (ssl.keystore.*) and a private CA (ssl.truststore.*) apart, over TLS only', () => {
    const tls = (worker: string) =>
      manifestOf({ 'worker.properties': worker, 'connectors/c.properties': datagen() }, 'gen').kafka;
    const pem = '-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----';
    const client = join(mkdtempSync(join(tmpdir(), 'connect-fn-tls-')), 'client.pem');
    writeFileSync(client, `${pem.replaceAll('\\n', '\n')}\n`);
    expect(tls(`security.protocol=SSL\nssl.keystore.location=${client}\n`)).toMatchObject({
      clientCertificate: true,
      privateCa: false,
    });
    expect(tls(`security.protocol=SSL\nssl.truststore.certificates=${pem}\n`)).toMatchObject({
      clientCertificate: false,
      privateCa: true,
    });
    expect(tls('security.protocol=SSL\n')).toMatchObject({ clientCertificate: false, privateCa: false });
    rmSync(dirname(client), { recursive: true, force: true });
  });
});

describe('regexNamePattern', () => {
  it("keeps the regex's literal beginning", () => {
    expect(regexNamePattern('orders')).toBe('orders');
    expect(regexNamePattern('orders-.*')).toBe('orders-*');
    expect(regexNamePattern('orders-\\d+')).toBe('orders-*');
    expect(regexNamePattern('orderx?s')).toBe('order*');
    expect(regexNamePattern('a+b')).toBe('a*');
    expect(regexNamePattern('orders|users')).toBe('*');
    expect(regexNamePattern('(a|b)c')).toBe('*');
    expect(regexNamePattern('.*')).toBe('*');
  });
});

describe('scanEnvironment', () => {
  it("lists each file's env references and stands unset ones for themselves", () => {
    const dir = writeBundle({
      'worker.properties':
        'bootstrap.servers=${env:BROKERS}\nconfig.providers=e,f\nconfig.providers.e.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider\nconfig.providers.f.class=file\n',
      'connectors/a.properties': 'name=a\nx=${e:SECRET_A}\ny=${f:/etc/x.properties:k}\n',
      'connectors/b.properties': 'name=b\n',
    });
    const scanned = scanEnvironment(dir, { SECRET_A: 's' });
    expect(Object.fromEntries(scanned.byFile)).toEqual({
      'worker.properties': [],
      'connectors/a.properties': ['SECRET_A'],
      'connectors/b.properties': [],
    });
    expect(scanned.unset).toEqual([]);
    expect(scanned.fileReferences).toEqual([
      { file: 'worker.properties', key: 'bootstrap.servers', text: '${env:BROKERS}' }, // env is not declared
      { file: 'connectors/a.properties', key: 'y', text: '${f:/etc/x.properties:k}' },
    ]);
    const builtins = writeBundle({ 'worker.properties': 'bootstrap.servers=${env:BROKERS}\n' });
    const plain = scanEnvironment(builtins, {});
    expect(plain.unset).toEqual(['BROKERS']);
    expect(plain.validationEnv.BROKERS).toBe('${env:BROKERS}');
  });
});
