/**
 * The worker configuration (`worker.properties` / `worker.json`): settings shared by every connector of a
 * bundle, with Kafka Connect's names. Connect worker keys that mean nothing for a function (REST listeners,
 * plugin paths, group-membership timeouts, config and status topics) are accepted with a warning so a
 * `connect-distributed.properties` can be brought over as it is.
 * @module
 */
import { k } from './keys.ts';
import type { ReportProblem, ShowValue } from './registry.ts';
import type { ConfigSchema } from './validate-keys.ts';

export const CONVERTER_DEFAULTS = {
  'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
  'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
  'header.converter': 'org.apache.kafka.connect.storage.SimpleHeaderConverter',
} as const;

const REST_MODIFY_EXPECTED =
  'false: connect-fn has no mutable REST surface to enable (the status endpoint is read-only and answers ' +
  'writes with 403); change connectors by redeploying the bundle, and offsets with `connect-fn offsets alter|reset`';

export const workerKeys = {
  'bootstrap.servers': k.list('Kafka brokers to connect to, host:port, comma-separated.', {
    default: 'localhost:9092',
    nonEmpty: true,
  }),
  'security.protocol': k.enum(
    ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'],
    'Protocol used to talk to brokers.',
    {
      default: 'PLAINTEXT',
    },
  ),
  'sasl.mechanism': k.enum(
    ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'AWS_MSK_IAM', 'OAUTHBEARER'],
    'SASL mechanism when security.protocol is SASL_PLAINTEXT or SASL_SSL. AWS_MSK_IAM signs with the function role.',
    { default: 'PLAIN' },
  ),
  'sasl.jaas.config': k.optional(
    k.password('JAAS login line holding the SASL username and password, as in Connect (secret).'),
  ),
  'ssl.truststore.location': k.optional(
    k.string('PEM file of CA certificates to trust (default: the system CAs).'),
  ),
  'ssl.truststore.certificates': k.optional(k.password('CA certificates in PEM, inline.')),
  'ssl.keystore.location': k.optional(
    k.string('PEM file holding the client certificate chain and key (mutual TLS).'),
  ),
  'ssl.keystore.certificate.chain': k.optional(k.password('Client certificate chain in PEM, inline.')),
  'ssl.keystore.key': k.optional(k.password('Client private key in PEM, inline (secret).')),
  'ssl.key.password': k.optional(k.password('Password of an encrypted client private key (secret).')),
  'ssl.endpoint.identification.algorithm': k.enum(
    ['https', ''],
    'Verify the broker host name ("https") or not ("").',
    {
      default: 'https',
    },
  ),
  'key.converter': k.string('Converter for record keys; a connector may override it.', {
    default: CONVERTER_DEFAULTS['key.converter'],
  }),
  'value.converter': k.string('Converter for record values; a connector may override it.', {
    default: CONVERTER_DEFAULTS['value.converter'],
  }),
  'header.converter': k.string('Converter for header values; a connector may override it.', {
    default: CONVERTER_DEFAULTS['header.converter'],
  }),
  'group.id': k.string('Namespace for transactional ids (`<group.id>-<connector>-<task>`).', {
    default: 'connect-fn',
    nonEmpty: true,
  }),
  'offset.storage': k.enum(
    ['kafka', 'dynamodb', 'file'],
    'Where offsets are stored (KIP-304). `file` is for local runs; it is the default when the worker sets `offset.storage.file.filename`, as a Connect standalone worker file does (with a warning).',
    {
      default: 'kafka',
    },
  ),
  'offset.storage.topic': k.topic("Kafka Connect's offsets topic, shared with Connect for migrations.", {
    default: 'connect-offsets',
  }),
  'offset.storage.partitions': k.int('Partitions of the offsets topic when it is created.', {
    default: 25,
    min: 1,
  }),
  'offset.storage.replication.factor': k.int(
    'Replication factor of the offsets topic when it is created; -1 = broker default.',
    {
      default: 3,
      min: -1,
    },
  ),
  'offset.storage.table': k.string('DynamoDB table holding offsets and leases (offset.storage=dynamodb).', {
    default: 'connect-fn-offsets',
    nonEmpty: true,
  }),
  'offset.storage.file.filename': k.string('JSON file holding offsets (offset.storage=file).', {
    default: '.connect-fn/offsets.json',
    nonEmpty: true,
  }),
  // LONG in Connect's WorkerConfig.
  'offset.flush.interval.ms': k.long(
    "Sink connectors: commit offsets (after a flush) at most this often within an invocation, and at its end; 0 = after every batch (connect-fn's default; Connect's is 60000). Sources commit every batch.",
    { default: 0, min: 0 },
  ),
  'exactly.once.source.support': k.enum(
    ['enabled', 'disabled'],
    'Exactly-once delivery for source connectors (KIP-618): each batch and its offsets in one Kafka transaction. Needs offset.storage=kafka.',
    { default: 'disabled' },
  ),
  'config.providers': k.list(
    'The config providers the bundle may use, as in Connect; unset, the built-ins env, file and dir (without parameters).',
    { default: '' },
  ),
  'aws.region': k.optional(
    k.string("AWS region for DynamoDB and MSK IAM (default: the function's AWS_REGION)."),
  ),
  'dynamodb.endpoint': k.optional(k.url('DynamoDB endpoint override, for DynamoDB Local.')),
  'rest.modify.enable': k.custom(
    'boolean',
    'Accepted only as false.',
    REST_MODIFY_EXPECTED,
    (raw) => (raw.trim().toLowerCase() === 'false' ? false : undefined),
    { default: false },
  ),
} as const;

const IGNORED_REASON = {
  rest: 'connect-fn has no REST listener; the status endpoint is deployed as its own read-only function',
  plugins: 'connectors are bundled into the function at build time',
  group: 'connect-fn functions never join a Connect worker group, so there is nothing to rebalance',
  storage:
    'connect-fn has no config or status topic: configuration is the bundle, status comes from invocations',
  flush: 'offsets are committed as part of each batch, never waited for separately',
} as const;

export const workerSchema: ConfigSchema<typeof workerKeys> = {
  keys: workerKeys,
  prefixes: [
    {
      prefix: 'config.providers.',
      doc: 'Declared config providers: `<name>.class` and `<name>.param.<key>`.',
    },
    { prefix: 'producer.', doc: 'Kafka producer settings for every connector (Connect `producer.*`).' },
    { prefix: 'consumer.', doc: 'Kafka consumer settings for every connector (Connect `consumer.*`).' },
    { prefix: 'admin.', doc: 'Kafka admin client settings (Connect `admin.*`).' },
    { prefix: 'key.converter.', doc: 'Settings of the worker key converter.' },
    { prefix: 'value.converter.', doc: 'Settings of the worker value converter.' },
    { prefix: 'header.converter.', doc: 'Settings of the worker header converter.' },
  ],
  ignored: {
    'sasl.client.callback.handler.class':
      'connect-fn signs MSK IAM tokens itself (sasl.mechanism=AWS_MSK_IAM or OAUTHBEARER)',
    'sasl.login.callback.handler.class':
      'connect-fn signs MSK IAM tokens itself (sasl.mechanism=AWS_MSK_IAM or OAUTHBEARER)',
    'plugin.path': IGNORED_REASON.plugins,
    'plugin.discovery': IGNORED_REASON.plugins,
    listeners: IGNORED_REASON.rest,
    'rest.port': IGNORED_REASON.rest,
    'rest.host.name': IGNORED_REASON.rest,
    'rest.advertised.host.name': IGNORED_REASON.rest,
    'rest.advertised.port': IGNORED_REASON.rest,
    'rest.advertised.listener': IGNORED_REASON.rest,
    'config.storage.topic': IGNORED_REASON.storage,
    'config.storage.replication.factor': IGNORED_REASON.storage,
    'status.storage.topic': IGNORED_REASON.storage,
    'status.storage.replication.factor': IGNORED_REASON.storage,
    'status.storage.partitions': IGNORED_REASON.storage,
    'offset.flush.timeout.ms': IGNORED_REASON.flush,
    'session.timeout.ms': IGNORED_REASON.group,
    'heartbeat.interval.ms': IGNORED_REASON.group,
    'rebalance.timeout.ms': IGNORED_REASON.group,
    'scheduled.rebalance.max.delay.ms': IGNORED_REASON.group,
    'connect.protocol': IGNORED_REASON.group,
    'worker.sync.timeout.ms': IGNORED_REASON.group,
    'task.shutdown.graceful.timeout.ms': 'an invocation stops at its own deadline (invocation.* keys)',
  },
};

/** Worker cross-key rules. A value of another key than the one reported appears only through `show`. */
export function checkWorker(
  values: Readonly<Record<string, unknown>>,
  report: ReportProblem,
  show: ShowValue,
): void {
  const shown = (key: string) => show(key, String(values[key]));
  if (values['exactly.once.source.support'] === 'enabled' && values['offset.storage'] !== 'kafka') {
    report({
      key: 'exactly.once.source.support',
      expected: 'offset.storage=kafka (offsets must share the transaction with the records)',
      got: `${shown('exactly.once.source.support')} with offset.storage=${shown('offset.storage')}`,
    });
  }
  const protocol = String(values['security.protocol']);
  if (
    protocol.startsWith('SASL') &&
    values['sasl.mechanism'] !== 'AWS_MSK_IAM' &&
    // OAUTHBEARER is how MSK IAM is configured in Connect; connect-fn signs the token itself.
    values['sasl.mechanism'] !== 'OAUTHBEARER' &&
    values['sasl.jaas.config'] === undefined
  ) {
    report({
      key: 'sasl.jaas.config',
      expected: `required with security.protocol=${shown('security.protocol')} and sasl.mechanism=${shown('sasl.mechanism')}`,
    });
  }
}
