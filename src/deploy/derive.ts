/**
 * Derives a connector's deployment manifest (./manifest.ts), all but its `artifact`, from a validated
 * bundle: what the function is (kind, trigger, schedule, tasks, memory, timeout), what it touches (topics,
 * offsets, tables) and the permissions that follow (./permissions.ts). Every value is the one the runtime
 * reads from the same keys, so the infrastructure and the function cannot disagree:
 *
 * - `function.timeoutSeconds` is `invocation.timeout.ms` rounded up: that key is the function timeout, and
 *   the cycle stops `invocation.safety.margin.ms` before it;
 * - `function.memoryMb` is the connector's `function.memory.mb`;
 * - a triggered sink's event source mapping reads as the scheduled cycle would: group `connect-<name>`,
 *   batches of `consumer.max.poll.records`, starting where `consumer.auto.offset.reset` says.
 *
 * Throws `ConfigInvalidError`, naming the file and key, for what a deployment cannot express (a name with a
 * `.`, which cannot name a function; a triggered sink on `topics.regex` or with `auto.offset.reset=none`; see
 * also ./permissions.ts).
 *
 * @example
 * ```ts
 * const manifest = deriveManifest(bundle, 'orders', { tasks: 2, requiredEnvironment: ['KAFKA_BROKERS'], consumer });
 * manifest.function.timeoutSeconds; // 60 for invocation.timeout.ms=60000
 * ```
 * @module
 */
import type { Bundle } from '../config/bundle.ts';
import type { ConnectorConfig } from '../config/connector-config.ts';
import { ConfigInvalidError, type ConfigProblem } from '../errors.ts';
import type { ConnectorManifest, EventSourceManifest } from './manifest.ts';
import { MANIFEST_VERSION } from './manifest.ts';
import { derivePermissions, streamsTable } from './permissions.ts';

export type DerivedManifest = Omit<ConnectorManifest, 'artifact'>;

export interface DeriveOptions {
  /** The task count the connector splits into (its `taskConfigs`, at most `tasks.max`). */
  readonly tasks: number;
  /** The `${env:...}` variables the worker and the connector's file reference (./environment.ts). */
  readonly requiredEnvironment: readonly string[];
  /**
   * The connector's consumer settings as the Kafka layer reads them (`consumer.*` and
   * `consumer.override.*`): a triggered sink's event source mapping takes them over.
   */
  readonly consumer: ConsumerReading;
}

/** The consumer settings a Kafka event source mapping takes over. */
export interface ConsumerReading {
  readonly maxPollRecords: number;
  readonly autoOffsetReset: 'earliest' | 'latest' | 'none';
}

type ClientKind = 'producer' | 'consumer' | 'admin';

/** Every Kafka client a function may open (offsets are read with a consumer, topics checked with an admin). */
const KINDS: readonly ClientKind[] = ['producer', 'consumer', 'admin'];

/** The largest batch a Kafka event source mapping takes. */
const MAX_MAPPING_BATCH = 10_000;

/** What a source writes to, by plugin: the topic its config names. */
const SOURCE_TOPICS: Readonly<Record<string, (config: ConnectorConfig['config']) => string[]>> = {
  'file-source': (config) => [String(config.topic)],
  datagen: (config) => [String(config['kafka.topic'])],
  'dynamodb-streams': (config) => [
    String(config['topic.format']).split('${table}').join(streamsTable(config)),
  ],
};

function invalid(problem: ConfigProblem): never {
  throw new ConfigInvalidError([problem]);
}

/** A Lambda function's name: the connector's `name` names its function. */
const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** The connection of the Kafka client of `kind`: the worker's, with `<kind>.*` and the connector's overrides. */
function effective(bundle: Bundle, connector: ConnectorConfig, kind: ClientKind) {
  const values = bundle.worker.values;
  const overrides = { ...bundle.worker.clients[kind], ...connector.overrides[kind] };
  const protocol = overrides['security.protocol'] ?? values['security.protocol'];
  const mechanism = overrides['sasl.mechanism'] ?? values['sasl.mechanism'];
  const sasl = protocol.startsWith('SASL');
  const tls = protocol === 'SSL' || protocol === 'SASL_SSL';
  const set = (...keys: string[]) =>
    keys.some((key) => (overrides[key] ?? (values as Record<string, unknown>)[key]) !== undefined);
  return {
    securityProtocol: protocol,
    saslMechanism: sasl ? mechanism : null,
    iam: sasl && (mechanism === 'AWS_MSK_IAM' || mechanism === 'OAUTHBEARER'),
    clientCertificate: tls && set('ssl.keystore.location', 'ssl.keystore.certificate.chain'),
    privateCa: tls && set('ssl.truststore.location', 'ssl.truststore.certificates'),
  };
}

/** Which key set a consumer setting: the connector's override, or the worker's. */
function consumerKey(bundle: Bundle, connector: ConnectorConfig, key: string) {
  return connector.overrides.consumer[key] === undefined
    ? { file: bundle.worker.file, key: `consumer.${key}` }
    : { file: connector.file, key: `consumer.override.${key}` };
}

function eventSource(
  bundle: Bundle,
  connector: ConnectorConfig,
  topics: string[],
  settings: ConsumerReading,
): EventSourceManifest {
  if (connector.common['topics.regex'] !== undefined) {
    invalid({
      file: connector.file,
      key: 'topics.regex',
      expected: 'topics with trigger=kafka: an event source mapping subscribes to named topics, not a regex',
    });
  }
  if (settings.maxPollRecords > MAX_MAPPING_BATCH) {
    invalid({
      ...consumerKey(bundle, connector, 'max.poll.records'),
      expected: `at most ${MAX_MAPPING_BATCH} with trigger=kafka (the largest batch of an event source mapping)`,
      got: String(settings.maxPollRecords),
    });
  }
  if (settings.autoOffsetReset === 'none') {
    invalid({
      ...consumerKey(bundle, connector, 'auto.offset.reset'),
      expected: 'earliest or latest with trigger=kafka (an event source mapping starts at one of them)',
      got: 'none',
    });
  }
  return {
    topics,
    consumerGroupId: `connect-${connector.name}`,
    batchSize: settings.maxPollRecords,
    startingPosition: settings.autoOffsetReset === 'latest' ? 'LATEST' : 'TRIM_HORIZON',
  };
}

function topicsOf(connector: ConnectorConfig): string[] {
  if (connector.kind === 'sink') return [...(connector.common.topics ?? [])];
  const topics = SOURCE_TOPICS[connector.plugin];
  if (topics === undefined) {
    invalid({
      file: connector.file,
      key: 'connector.class',
      expected: 'a source connector connect-fn package knows the topics of',
      got: connector.className,
    });
  }
  return topics(connector.config);
}

/** The manifest of connector `name` of `bundle`, without its artifact. */
export function deriveManifest(bundle: Bundle, name: string, options: DeriveOptions): DerivedManifest {
  const connector = bundle.connector(name);
  if (!FUNCTION_NAME.test(connector.name)) {
    invalid({
      file: connector.file,
      key: 'name',
      expected:
        'a name that can name a Lambda function: letters, digits, "-" and "_" (Kafka Connect also allows ".", Lambda does not)',
      got: connector.name,
    });
  }
  const w = bundle.worker.values;
  const trigger = connector.kind === 'sink' ? connector.common.trigger : 'schedule';
  const topics = topicsOf(connector);
  const client = effective(bundle, connector, connector.kind === 'source' ? 'producer' : 'consumer');
  const storage = w['offset.storage'];
  return {
    manifestVersion: MANIFEST_VERSION,
    connector: connector.name,
    plugin: connector.plugin,
    connectorClass: connector.className,
    kind: connector.kind,
    trigger,
    schedule: trigger === 'schedule' ? connector.common.schedule.expression : null,
    tasks: trigger === 'kafka' ? 1 : options.tasks,
    topics,
    topicsRegex: connector.common['topics.regex'] ?? null,
    function: {
      handler: 'index.handler',
      runtime: 'nodejs22.x',
      architecture: 'arm64',
      memoryMb: connector.common['function.memory.mb'],
      timeoutSeconds: Math.ceil(connector.common['invocation.timeout.ms'] / 1000),
      environment: { CONNECT_FN_CONNECTOR: connector.name, NODE_OPTIONS: '--enable-source-maps' },
      requiredEnvironment: [...options.requiredEnvironment],
    },
    kafka: {
      securityProtocol: client.securityProtocol,
      saslMechanism: client.saslMechanism,
      iam: client.iam,
      clientCertificate: client.clientCertificate,
      privateCa: client.privateCa,
    },
    offsets: {
      storage,
      topic: storage === 'kafka' && connector.kind === 'source' ? w['offset.storage.topic'] : null,
      table: storage === 'dynamodb' ? w['offset.storage.table'] : null,
    },
    eventSource: trigger === 'kafka' ? eventSource(bundle, connector, topics, options.consumer) : null,
    permissions: derivePermissions({
      worker: bundle.worker,
      connector,
      trigger,
      topics,
      iam: KINDS.some((kind) => effective(bundle, connector, kind).iam),
    }),
  };
}
