/**
 * Connect's `producer.*`, `consumer.*` and `admin.*` worker keys, mapped onto kafkajs. Every key is one
 * of: mapped (it changes what the client does), fixed (only the value connect-fn's guarantees need is
 * accepted), ignored (accepted with a warning that says why it means nothing here), or unknown (an error
 * naming the key). Connection keys (`producer.sasl.jaas.config`, ...) are handled by connection.ts.
 * @module
 */
import { CompressionTypes, type RetryOptions } from 'kafkajs';
import { isSecretKeyName } from '../secret-keys.ts';
import { isConnectionKey, type Problem } from './connection.ts';

export type ClientKind = 'producer' | 'consumer' | 'admin';

/** Settings every client kind takes. */
export interface CommonSettings {
  clientId?: string;
  requestTimeoutMs?: number;
  connectionTimeoutMs?: number;
  metadataMaxAgeMs?: number;
  retry: Required<
    Pick<RetryOptions, 'retries' | 'initialRetryTime' | 'maxRetryTime' | 'factor' | 'multiplier'>
  >;
}

export interface ProducerSettings extends CommonSettings {
  compression: CompressionTypes;
  /** Upper bound of record bytes per produce request; larger sends are split (`max.request.size`). */
  maxRequestBytes: number;
  maxInFlightRequests?: number;
  transactionTimeoutMs?: number;
}

export interface ConsumerSettings extends CommonSettings {
  fetchMaxBytes: number;
  partitionFetchMaxBytes: number;
  autoOffsetReset: 'earliest' | 'latest' | 'none';
  maxPollRecords: number;
}

export type AdminSettings = CommonSettings;

interface Settings {
  producer: ProducerSettings;
  consumer: ConsumerSettings;
  admin: AdminSettings;
}

/**
 * Retries are finite on purpose: kafkajs' idempotent default is unbounded, and an invocation has a
 * deadline. 100 ms doubling to 2 s, 8 retries: about 8 s of trying before an error (Connect's 2-minute
 * delivery timeout outlives most Lambda budgets).
 */
const DEFAULT_RETRY = { retries: 8, initialRetryTime: 100, maxRetryTime: 2_000, factor: 0.2, multiplier: 2 };
/**
 * Producers start at 20 ms, as Java's transaction manager does for CONCURRENT_TRANSACTIONS: the first send
 * of a transaction usually meets the previous one's markers still being written. Measured against the
 * local broker: 100 ms made that send take 105-155 ms, 20 ms makes it 35-45 ms. Two more retries keep
 * the total time about the same (~8 s).
 */
const PRODUCER_RETRY = { ...DEFAULT_RETRY, retries: 10, initialRetryTime: 20 };

export function defaultSettings(): Settings {
  const common = (): CommonSettings => ({ retry: { ...DEFAULT_RETRY } });
  return {
    producer: {
      retry: { ...PRODUCER_RETRY },
      compression: CompressionTypes.None,
      maxRequestBytes: 1_048_576,
    },
    consumer: {
      ...common(),
      fetchMaxBytes: 52_428_800,
      partitionFetchMaxBytes: 1_048_576,
      // Kafka Connect's sink consumers default to earliest (the plain consumer's default is latest).
      autoOffsetReset: 'earliest',
      maxPollRecords: 500,
    },
    admin: common(),
  };
}

type Apply<S> = (raw: string, settings: S) => string | undefined;
type Rule<S> = { readonly apply: Apply<S> } | { readonly ignored: string };

/** Kafka's INT keys are 32-bit Java ints. */
const INT_MAX = 2_147_483_647;
/** For Kafka's LONG keys: a JavaScript number holds integers exactly only up to 2^53 - 1. */
const LONG_MAX = Number.MAX_SAFE_INTEGER;

/** An integer key (an INT unless `max` says otherwise): `set` stores the parsed value. */
function int<S>(min: number, set: (settings: S, n: number) => void, max = INT_MAX): Rule<S> {
  const note =
    max === INT_MAX
      ? ' (a 32-bit int, as in Kafka)'
      : max === LONG_MAX
        ? ' (2^53 - 1 is the largest integer connect-fn holds exactly)'
        : '';
  const expected = `an integer from ${min} to ${max}${note}`;
  return {
    apply(raw, settings) {
      const n = Number(raw.trim());
      if (!/^[+-]?\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) return expected;
      set(settings, n);
      return undefined;
    },
  };
}

/** A key with only some values accepted, and nothing to store. */
function oneOf<S>(allowed: readonly string[], expected: string): Rule<S> {
  return { apply: (raw) => (allowed.includes(raw.trim().toLowerCase()) ? undefined : expected) };
}

const commonRules: Record<string, Rule<CommonSettings>> = {
  'client.id': {
    apply(raw, s) {
      s.clientId = raw.trim();
      return undefined;
    },
  },
  'request.timeout.ms': int(1, (s, n) => {
    s.requestTimeoutMs = n;
  }),
  'socket.connection.setup.timeout.ms': int(
    1,
    (s, n) => {
      s.connectionTimeoutMs = n;
    },
    LONG_MAX,
  ),
  'metadata.max.age.ms': int(
    0,
    (s, n) => {
      s.metadataMaxAgeMs = n;
    },
    LONG_MAX,
  ),
  retries: int(0, (s, n) => {
    s.retry.retries = n;
  }),
  'retry.backoff.ms': int(
    0,
    (s, n) => {
      s.retry.initialRetryTime = n;
    },
    LONG_MAX,
  ),
  'retry.backoff.max.ms': int(
    1,
    (s, n) => {
      s.retry.maxRetryTime = n;
    },
    LONG_MAX,
  ),
  'connections.max.idle.ms': { ignored: 'an invocation opens its connections and closes them when it ends' },
  'reconnect.backoff.ms': { ignored: 'reconnects follow retry.backoff.ms' },
  'reconnect.backoff.max.ms': { ignored: 'reconnects follow retry.backoff.max.ms' },
  'send.buffer.bytes': { ignored: 'socket buffers are left to the operating system' },
  'receive.buffer.bytes': { ignored: 'socket buffers are left to the operating system' },
};

const COMPRESSION: Readonly<Record<string, CompressionTypes>> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
};

const producerRules: Record<string, Rule<ProducerSettings>> = {
  acks: oneOf(['all', '-1'], 'all (or -1): connect-fn producers are idempotent and wait for every replica'),
  'enable.idempotence': oneOf(['true'], 'true: connect-fn producers are always idempotent'),
  'compression.type': {
    apply(raw, s) {
      const codec = COMPRESSION[raw.trim().toLowerCase()];
      if (codec === undefined)
        return 'none or gzip (snappy, lz4 and zstd need codecs connect-fn does not bundle)';
      s.compression = codec;
      return undefined;
    },
  },
  'max.request.size': int(1024, (s, n) => {
    s.maxRequestBytes = n;
  }),
  'max.in.flight.requests.per.connection': int(
    1,
    (s, n) => {
      s.maxInFlightRequests = n;
    },
    5,
  ),
  'transaction.timeout.ms': int(1, (s, n) => {
    s.transactionTimeoutMs = n;
  }),
  'batch.size': {
    ignored: 'each send of a cycle is already one batch per partition, split at max.request.size',
  },
  'linger.ms': { ignored: 'each send of a cycle is already one batch: there is nothing to wait for' },
  'buffer.memory': { ignored: 'records are not buffered beyond the batch being sent' },
  'max.block.ms': { ignored: 'sends are bounded by request.timeout.ms and retries' },
  'delivery.timeout.ms': {
    ignored: 'sends are bounded by request.timeout.ms, retries and retry.backoff.max.ms',
  },
  'key.serializer': { ignored: 'the connector converters produce the bytes (Connect overrides it too)' },
  'value.serializer': { ignored: 'the connector converters produce the bytes (Connect overrides it too)' },
};

const NO_GROUP = 'connect-fn reads partitions without joining a consumer group';
const NO_WAIT = 'reads take what is there up to the end of the partition and never wait for more';
const consumerRules: Record<string, Rule<ConsumerSettings>> = {
  'fetch.max.bytes': int(1, (s, n) => {
    s.fetchMaxBytes = n;
  }),
  'max.partition.fetch.bytes': int(1, (s, n) => {
    s.partitionFetchMaxBytes = n;
  }),
  'max.poll.records': int(1, (s, n) => {
    s.maxPollRecords = n;
  }),
  'isolation.level': oneOf(['read_committed'], 'read_committed: connect-fn never reads aborted records'),
  'auto.offset.reset': {
    apply(raw, s) {
      const v = raw.trim().toLowerCase();
      if (v !== 'earliest' && v !== 'latest' && v !== 'none') return 'earliest, latest or none';
      s.autoOffsetReset = v;
      return undefined;
    },
  },
  'fetch.min.bytes': { ignored: NO_WAIT },
  'fetch.max.wait.ms': { ignored: NO_WAIT },
  'enable.auto.commit': { ignored: 'connect-fn commits offsets itself, after delivery' },
  'auto.commit.interval.ms': { ignored: 'connect-fn commits offsets itself, after delivery' },
  'session.timeout.ms': { ignored: NO_GROUP },
  'heartbeat.interval.ms': { ignored: NO_GROUP },
  'max.poll.interval.ms': { ignored: NO_GROUP },
  'partition.assignment.strategy': { ignored: NO_GROUP },
  'group.instance.id': { ignored: NO_GROUP },
  'check.crcs': { ignored: 'kafkajs does not check record CRCs' },
  'client.rack': { ignored: 'reads go to partition leaders' },
  'key.deserializer': { ignored: 'the connector converters read the bytes (Connect overrides it too)' },
  'value.deserializer': { ignored: 'the connector converters read the bytes (Connect overrides it too)' },
};

const RULES: { [K in ClientKind]: Record<string, Rule<Settings[K]>> } = {
  producer: { ...commonRules, ...producerRules },
  consumer: { ...commonRules, ...consumerRules },
  admin: commonRules,
};

/**
 * The settings of one client kind from its overrides (prefix removed). Unknown keys and bad values become
 * problems, ignored keys warnings; connection keys are skipped (see connection.ts).
 */
export function clientSettings<K extends ClientKind>(
  kind: K,
  overrides: Readonly<Record<string, string>>,
  problems: Problem[],
  warnings: Problem[],
): Settings[K] {
  const settings = defaultSettings()[kind];
  const rules: Record<string, Rule<Settings[K]>> = RULES[kind];
  for (const [key, raw] of Object.entries(overrides)) {
    if (isConnectionKey(key)) continue;
    const rule = rules[key];
    const shown = `${kind}.${key}`;
    if (rule === undefined) {
      const known = Object.keys(rules).filter((k) => !('ignored' in rules[k]!));
      problems.push({
        key: shown,
        expected: `a ${kind} setting connect-fn supports (${known.join(', ')}, or a connection key)`,
      });
    } else if ('ignored' in rule) {
      warnings.push({ key: shown, expected: `ignored: ${rule.ignored}` });
    } else {
      const expected = rule.apply(raw, settings);
      if (expected !== undefined) {
        problems.push({ key: shown, expected, ...(isSecretKeyName(key) ? {} : { got: raw }) });
      }
    }
  }
  return settings;
}
