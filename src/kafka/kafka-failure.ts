/**
 * Turns kafkajs errors into ours. kafkajs wraps the error that matters (`KafkaJSNumberOfRetriesExceeded`
 * → `KafkaJSProtocolError { type: 'SASL_AUTHENTICATION_FAILED' }`), so classification looks at the whole
 * `cause` chain. Every message names where we tried to go and how (`broker 10.0.0.1:9096 over SASL_SSL with
 * SCRAM-SHA-512 as "svc"`) and passes through the redactor, which hides every secret of the connection.
 * @module
 */
import type { Redactor } from '../config/redaction.ts';
import { ConnectFnError } from '../errors.ts';
import {
  KafkaAuthenticationError,
  KafkaAuthorizationError,
  KafkaOperationError,
  KafkaUnreachableError,
  TopicMissingError,
} from './errors.ts';

/** Where a client connects and how: everything an error message may say about it. */
export interface Endpoint {
  readonly brokers: readonly string[];
  readonly securityProtocol: string;
  /** The SASL mechanism, for SASL_* protocols. */
  readonly mechanism: string | undefined;
  /** The SASL user, when there is one (not a secret). */
  readonly username: string | undefined;
  /** Hides the connection's secrets (passwords, keys) in any text that reaches a message. */
  readonly redactor: Redactor;
}

/** What we know of one error in a kafkajs cause chain. */
interface KafkaErrorLink {
  readonly name: string;
  readonly message: string;
  readonly type: string | undefined;
  readonly broker: string | undefined;
  readonly retriable: boolean | undefined;
}

const AUTHENTICATION_TYPES = new Set([
  'SASL_AUTHENTICATION_FAILED',
  'UNSUPPORTED_SASL_MECHANISM',
  'ILLEGAL_SASL_STATE',
]);
const AUTHORIZATION_TYPES = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
]);
const UNREACHABLE_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
]);
const PROGRAMMER_ERRORS = new Set(['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError']);

function field(err: object, key: string): unknown {
  return (err as Record<string, unknown>)[key];
}

/** The error and its causes, outermost first (at most 8 deep; an aggregate's first error counts as its cause). */
export function errorChain(err: unknown): KafkaErrorLink[] {
  const links: KafkaErrorLink[] = [];
  let current: unknown = err;
  while (current instanceof Error && links.length < 8) {
    const type = field(current, 'type');
    const broker = field(current, 'broker');
    const retriable = field(current, 'retriable');
    links.push({
      name: current.name,
      message: current.message,
      type: typeof type === 'string' ? type : undefined,
      broker: typeof broker === 'string' ? broker : undefined,
      retriable: typeof retriable === 'boolean' ? retriable : undefined,
    });
    // kafkajs reports per-topic failures as an aggregate (`errors`) without a cause: follow the first.
    const errors = field(current, 'errors');
    const next = current.cause ?? (Array.isArray(errors) ? (errors[0] as unknown) : undefined);
    current = next === current ? undefined : next;
  }
  return links;
}

/** True when a Kafka error of one of `types` is anywhere in the chain. */
export function hasKafkaType(err: unknown, types: ReadonlySet<string>): boolean {
  return errorChain(err).some((link) => link.type !== undefined && types.has(link.type));
}

/** Failures worth fresh metadata and another try: leadership moved, a topic not ready yet, a lost connection. */
const TRANSIENT_TYPES: ReadonlySet<string> = new Set([
  'NOT_LEADER_FOR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'REPLICA_NOT_AVAILABLE',
  'KAFKA_STORAGE_ERROR',
  'OFFSET_NOT_AVAILABLE',
  'REQUEST_TIMED_OUT',
]);
const TRANSIENT_NAMES: ReadonlySet<string> = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSLockTimeout',
  'KafkaJSTopicMetadataNotLoaded',
]);

/** True when `err` (or a cause) is a failure that another try with fresh metadata may get past. */
export function isTransientKafkaError(err: unknown): boolean {
  return errorChain(err).some(
    (l) => TRANSIENT_NAMES.has(l.name) || (l.type !== undefined && TRANSIENT_TYPES.has(l.type)),
  );
}

/** `broker h:p over SASL_SSL with SCRAM-SHA-512 as "user"` (or `brokers a,b ...` when none is known). */
export function describeEndpoint(endpoint: Endpoint, broker?: string): string {
  const where = broker ?? endpoint.brokers.join(',');
  const noun = broker !== undefined || endpoint.brokers.length === 1 ? 'broker' : 'brokers';
  const how =
    endpoint.mechanism === undefined
      ? ` over ${endpoint.securityProtocol}`
      : ` over ${endpoint.securityProtocol} with SASL mechanism ${endpoint.mechanism}`;
  const who = endpoint.username === undefined ? '' : ` as user "${endpoint.username}"`;
  return `${noun} ${where}${how}${who}`;
}

/** The most specific message of the chain: the innermost, which kafkajs wrappers repeat anyway. */
function reason(links: readonly KafkaErrorLink[]): string {
  return links.at(-1)?.message ?? 'unknown error';
}

function withoutSecrets(err: unknown, redactor: Redactor): unknown {
  if (!(err instanceof Error)) return undefined;
  const text = errorChain(err)
    .map((l) => l.message)
    .join('\n');
  const leaks = redactor.text(text) !== text || redactor.text(err.stack ?? '') !== (err.stack ?? '');
  return leaks ? undefined : err;
}

/**
 * Our error for a failed kafkajs call. `action` reads as `producing to orders`, `reading orders-0`,
 * `connecting`. Our own errors and programmer errors pass through unchanged.
 */
export function kafkaFailure(err: unknown, endpoint: Endpoint, action: string, topic?: string): Error {
  if (err instanceof ConnectFnError) return err;
  if (err instanceof Error && PROGRAMMER_ERRORS.has(err.name)) return err;
  const links = errorChain(err);
  const broker = links.find((l) => l.broker !== undefined)?.broker;
  const where = describeEndpoint(endpoint, broker);
  const text = (message: string) => endpoint.redactor.text(message);
  const cause = withoutSecrets(err, endpoint.redactor);
  const options = cause === undefined ? {} : { cause };
  const types = new Set(links.flatMap((l) => (l.type === undefined ? [] : [l.type])));
  const is = (set: ReadonlySet<string>) => [...types].some((t) => set.has(t));

  if (links.some((l) => l.name === 'KafkaJSSASLAuthenticationError') || is(AUTHENTICATION_TYPES)) {
    return new KafkaAuthenticationError(text(`authentication failed at ${where}: ${reason(links)}`), options);
  }
  if (is(AUTHORIZATION_TYPES)) {
    return new KafkaAuthorizationError(
      text(`not authorized for ${action} at ${where}: ${reason(links)}`),
      options,
    );
  }
  if (topic !== undefined && types.has('UNKNOWN_TOPIC_OR_PARTITION')) {
    return new TopicMissingError(
      topic,
      text(
        `topic ${topic} does not exist at ${where} (and the broker does not create topics automatically, ` +
          'auto.create.topics.enable=false): create it first',
      ),
      options,
    );
  }
  if (links.some((l) => UNREACHABLE_NAMES.has(l.name))) {
    return new KafkaUnreachableError(
      text(`cannot reach ${where} while ${action}: ${reason(links)}`),
      options,
    );
  }
  const retriable = links.at(-1)?.retriable ?? false;
  return new KafkaOperationError(text(`${action} failed at ${where}: ${reason(links)}`), {
    ...options,
    retriable,
  });
}
