import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompressionTypes } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigInvalidError, type ConfigProblem } from '../../../src/errors.ts';
import { clientSettings } from '../../../src/kafka/client-settings.ts';
import { type Problem, resolveConnection } from '../../../src/kafka/connection.ts';
import {
  checkClientOverrides,
  checkKafkaClientConfig,
  createKafkaClients,
  withClientOverrides,
} from '../../../src/kafka/index.ts';
import { connectionValues, kafkaWorker, scramJaas } from './worker-values.ts';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const dir = mkdtempSync(join(tmpdir(), 'connect-fn-kafka-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function connect(values: Parameters<typeof connectionValues>[0], env: Record<string, string> = {}) {
  const problems: Problem[] = [];
  const connection = resolveConnection(connectionValues(values), env, problems);
  return { connection, problems };
}

describe('connections from the worker keys', () => {
  it('connects in plain text by default', () => {
    const { connection, problems } = connect({ 'bootstrap.servers': ['a:9092', 'b:9092'] });

    expect(problems).toEqual([]);
    expect(connection).toMatchObject({ brokers: ['a:9092', 'b:9092'], ssl: undefined, sasl: undefined });
    expect(connection.endpoint).toMatchObject({ securityProtocol: 'PLAINTEXT', mechanism: undefined });
  });

  it.each([
    ['SCRAM-SHA-512', 'scram-sha-512', 'org.apache.kafka.common.security.scram.ScramLoginModule'],
    ['SCRAM-SHA-256', 'scram-sha-256', 'org.apache.kafka.common.security.scram.ScramLoginModule'],
    ['PLAIN', 'plain', 'org.apache.kafka.common.security.plain.PlainLoginModule'],
  ] as const)('takes %s credentials from sasl.jaas.config', (mechanism, kafkajs, module) => {
    const { connection, problems } = connect({
      'security.protocol': 'SASL_SSL',
      'sasl.mechanism': mechanism,
      'sasl.jaas.config': `${module} required username="svc" password="pa\\"ss";`,
    });

    expect(problems).toEqual([]);
    expect(connection.sasl).toEqual({ mechanism: kafkajs, username: 'svc', password: 'pa"ss' });
    expect(connection.ssl).toEqual({ rejectUnauthorized: true });
    expect(connection.endpoint).toMatchObject({ securityProtocol: 'SASL_SSL', mechanism, username: 'svc' });
    expect(connection.endpoint.redactor.text('x pa"ss y')).toBe('x [hidden] y');
  });

  it('reports a JAAS line for the wrong mechanism, a missing password, or bad syntax, without the line', () => {
    const scram = 'SASL_PLAINTEXT' as const;
    const wrongModule = connect({
      'security.protocol': scram,
      'sasl.mechanism': 'SCRAM-SHA-512',
      'sasl.jaas.config':
        'org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="secret-1";',
    });
    const noPassword = connect({
      'security.protocol': scram,
      'sasl.mechanism': 'PLAIN',
      'sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required username="u";',
    });
    const badSyntax = connect({
      'security.protocol': scram,
      'sasl.mechanism': 'SCRAM-SHA-256',
      'sasl.jaas.config': scramJaas('u', 'secret-3').replace(';', ''),
    });

    expect(wrongModule.problems).toEqual([
      {
        key: 'sasl.jaas.config',
        expected: expect.stringContaining(
          'SCRAM-SHA-512 needs org.apache.kafka.common.security.scram.ScramLoginModule',
        ),
      },
    ]);
    expect(noPassword.problems[0]?.expected).toContain('both username and password');
    expect(badSyntax.problems[0]?.expected).toContain('expected an option name or ";" at the end');
    expect(JSON.stringify([wrongModule, noPassword, badSyntax].map((r) => r.problems))).not.toMatch(
      /secret-\d/,
    );
  });

  it('signs MSK IAM tokens for aws.region, or AWS_REGION, and needs one of them', () => {
    const iam = { 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'AWS_MSK_IAM' } as const;

    const fromKey = connect({ ...iam, 'aws.region': 'eu-west-1' });
    const fromEnv = connect({ ...iam, 'sasl.mechanism': 'OAUTHBEARER' }, { AWS_REGION: 'us-east-2' });
    const none = connect(iam);

    expect(fromKey.connection.sasl).toMatchObject({
      mechanism: 'oauthbearer',
      oauthBearerProvider: expect.any(Function),
    });
    expect(fromEnv.connection.sasl).toMatchObject({ mechanism: 'oauthbearer' });
    expect(none.problems).toEqual([
      { key: 'aws.region', expected: expect.stringContaining('AWS region for AWS_MSK_IAM') },
    ]);
  });

  it('reads PEM trust and key stores from files or inline, and can skip host name checks', () => {
    const ca = join(dir, 'ca.pem');
    const keystore = join(dir, 'client.pem');
    writeFileSync(ca, PEM);
    writeFileSync(keystore, `${PEM}-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n`);

    const files = connect({
      'security.protocol': 'SSL',
      'ssl.truststore.location': ca,
      'ssl.keystore.location': keystore,
      'ssl.key.password': 'key-pass',
      'ssl.endpoint.identification.algorithm': '',
    });
    const inline = connect({
      'security.protocol': 'SSL',
      'ssl.truststore.certificates': PEM,
      'ssl.keystore.certificate.chain': PEM,
      'ssl.keystore.key': 'KEY',
    });

    expect(files.problems).toEqual([]);
    const ssl = files.connection.ssl as Record<string, unknown>;
    expect(ssl).toMatchObject({ ca: PEM, passphrase: 'key-pass', rejectUnauthorized: true });
    expect(ssl.cert).toContain('BEGIN PRIVATE KEY');
    expect(ssl.key).toBe(ssl.cert);
    expect((ssl.checkServerIdentity as () => unknown)()).toBeUndefined();
    expect(inline.connection.ssl).toEqual({ rejectUnauthorized: true, ca: PEM, cert: PEM, key: 'KEY' });
  });

  it('reports unreadable or non-PEM store files and half a key store', () => {
    const notPem = join(dir, 'truststore.jks');
    writeFileSync(notPem, 'binary');

    const { problems } = connect({
      'security.protocol': 'SSL',
      'ssl.truststore.location': notPem,
      'ssl.keystore.certificate.chain': PEM,
    });
    const missing = connect({ 'security.protocol': 'SSL', 'ssl.keystore.location': join(dir, 'nope.pem') });

    expect(problems).toEqual([
      { key: 'ssl.truststore.location', expected: 'a PEM file (-----BEGIN ...)', got: notPem },
      { key: 'ssl.keystore.key', expected: expect.stringContaining('set together with') },
    ]);
    expect(missing.problems).toEqual([
      { key: 'ssl.keystore.location', expected: 'a readable PEM file (ENOENT)', got: join(dir, 'nope.pem') },
    ]);
  });
});

describe('producer.*, consumer.* and admin.* overrides', () => {
  function settings<K extends 'producer' | 'consumer' | 'admin'>(kind: K, overrides: Record<string, string>) {
    const problems: Problem[] = [];
    const warnings: Problem[] = [];
    return { settings: clientSettings(kind, overrides, problems, warnings), problems, warnings };
  }

  it('maps the producer keys it supports', () => {
    const { settings: s, problems } = settings('producer', {
      acks: 'all',
      'enable.idempotence': 'true',
      'compression.type': 'gzip',
      'max.request.size': '2097152',
      'request.timeout.ms': '5000',
      retries: '3',
      'retry.backoff.ms': '50',
      'client.id': 'orders-producer',
      'transaction.timeout.ms': '30000',
      'max.in.flight.requests.per.connection': '1',
    });

    expect(problems).toEqual([]);
    expect(s).toMatchObject({
      compression: CompressionTypes.GZIP,
      maxRequestBytes: 2_097_152,
      requestTimeoutMs: 5000,
      clientId: 'orders-producer',
      transactionTimeoutMs: 30_000,
      maxInFlightRequests: 1,
      retry: { retries: 3, initialRetryTime: 50 },
    });
  });

  it('names unknown keys, values that break the guarantees, and codecs it does not bundle', () => {
    const { problems } = settings('producer', {
      acks: '1',
      'enable.idempotence': 'false',
      'compression.type': 'snappy',
      'max.in.flight.requests.per.connection': '6',
      linger: '5',
      retries: 'many',
    });

    expect(problems.map((p) => p.key)).toEqual([
      'producer.acks',
      'producer.enable.idempotence',
      'producer.compression.type',
      'producer.max.in.flight.requests.per.connection',
      'producer.linger',
      'producer.retries',
    ]);
    expect(problems[2]).toMatchObject({ expected: expect.stringContaining('snappy'), got: 'snappy' });
    expect(problems[4]?.expected).toContain('a producer setting connect-fn supports (');
  });

  it('accepts keys that mean nothing here with a warning that says why', () => {
    const { problems, warnings } = settings('producer', { 'linger.ms': '5', 'batch.size': '16384' });
    const consumer = settings('consumer', { 'session.timeout.ms': '10000', 'fetch.max.wait.ms': '500' });

    expect(problems).toEqual([]);
    expect(warnings.map((w) => w.key)).toEqual(['producer.linger.ms', 'producer.batch.size']);
    expect(consumer.warnings[0]?.expected).toContain('without joining a consumer group');
  });

  it('maps consumer keys, and only reads committed data', () => {
    const ok = settings('consumer', {
      'auto.offset.reset': 'earliest',
      'max.poll.records': '100',
      'max.partition.fetch.bytes': '65536',
      'isolation.level': 'read_committed',
    });
    const uncommitted = settings('consumer', { 'isolation.level': 'read_uncommitted' });

    expect(ok.settings).toMatchObject({
      autoOffsetReset: 'earliest',
      maxPollRecords: 100,
      partitionFetchMaxBytes: 65_536,
    });
    expect(uncommitted.problems).toEqual([
      {
        key: 'consumer.isolation.level',
        expected: expect.stringContaining('read_committed'),
        got: 'read_uncommitted',
      },
    ]);
  });
});

describe('createKafkaClients', () => {
  it('lists every problem of every client kind in one ConfigInvalidError that holds no secret', () => {
    const worker = kafkaWorker(
      'a:9092',
      {
        'security.protocol': 'SASL_PLAINTEXT',
        'sasl.mechanism': 'SCRAM-SHA-512',
        'sasl.jaas.config': 'ScramLoginModule required username="u" password="top-secret-pw"',
      },
      {
        producer: { acks: '0', 'security.protocol': 'SASL_TLS' },
        consumer: { 'group.id': 'mine' },
        admin: { 'sasl.jaas.config': 'nonsense password="admin-secret-pw"' },
      },
    );

    const failure = (() => {
      try {
        createKafkaClients(worker);
      } catch (err) {
        return err;
      }
    })();

    expect(failure).toBeInstanceOf(ConfigInvalidError);
    const problems = (failure as ConfigInvalidError).problems;
    expect(problems.map((p: ConfigProblem) => [p.file, p.key])).toEqual([
      ['worker.properties', 'producer.security.protocol'],
      ['worker.properties', 'sasl.jaas.config'],
      ['worker.properties', 'producer.acks'],
      ['worker.properties', 'consumer.group.id'],
      ['worker.properties', 'admin.sasl.jaas.config'],
    ]);
    expect((failure as Error).message).not.toMatch(/top-secret-pw|admin-secret-pw/);
  });

  it('takes connection overrides per client kind', () => {
    const worker = kafkaWorker(
      'a:9092',
      {},
      { producer: { 'bootstrap.servers': 'p:9092', 'security.protocol': 'SSL' } },
    );

    const clients = createKafkaClients(worker);

    expect(clients.producerEndpoint).toMatchObject({ brokers: ['p:9092'], securityProtocol: 'SSL' });
    expect(checkKafkaClientConfig(worker).problems).toEqual([]);
  });
});

describe("a connector's client overrides", () => {
  it('apply on top of the worker: the connector wins, other keys stay the worker', () => {
    const worker = kafkaWorker(
      'b:9092',
      {},
      { consumer: { 'max.poll.records': '100', 'fetch.max.bytes': '1000' } },
    );

    const merged = withClientOverrides(
      worker,
      { consumer: { 'max.poll.records': '7' } },
      'connectors/s.properties',
    );
    const settings = createKafkaClients(merged).consumerSettings;

    expect(settings.maxPollRecords).toBe(7);
    expect(settings.fetchMaxBytes).toBe(1000);
    expect(withClientOverrides(worker, {}, 'connectors/s.properties')).toBe(worker);
  });

  it("are checked on their own, named <kind>.override.<key> in the connector's file", () => {
    const worker = kafkaWorker('b:9092', {}, { consumer: { 'auto.offset.reset': 'bogus-but-not-ours' } });

    const { problems } = checkClientOverrides(
      worker,
      { consumer: { 'max.poll.records': 'many' }, producer: { acks: 'all' } },
      'connectors/s.properties',
    );

    expect(problems.map((p) => [p.file, p.key])).toEqual([
      ['connectors/s.properties', 'consumer.override.max.poll.records'],
    ]);
  });
});
