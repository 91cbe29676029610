/**
 * The client factory: Kafka clients for one bundle, from the worker's Connect-named keys
 * (connection.ts) and its `producer.*` / `consumer.*` / `admin.*` overrides (client-settings.ts).
 *
 * Everything is checked when the factory is built, once per cold start: a bad key fails with one
 * `ConfigInvalidError` listing every problem, ignored keys come back as `warnings`. Clients connect lazily
 * and each owns its connections; `close()` them at the end of an invocation.
 *
 * @example
 * ```ts
 * const clients = createKafkaClients(bundle.worker, { clientId: `connect-fn-${connector}` }); // module scope
 * const writer = clients.transactionalWriter(transactionalIdFor(groupId, connector, task));
 * const sinkOffsets = clients.sinkOffsetStore({ groupId, transactionTimeoutMs }); // offset.storage=kafka
 * ```
 * @module
 */
import { Kafka } from 'kafkajs';
import { ConfigInvalidError, type ConfigProblem } from '../errors.ts';
import {
  type AdminSettings,
  type ClientKind,
  type ConsumerSettings,
  clientSettings,
  type ProducerSettings,
} from './client-settings.ts';
import { type ConnectionValues, type Problem, resolveConnection, withOverrides } from './connection.ts';
import { KafkaGroupOffsetStore } from './group-offsets.ts';
import type { Endpoint } from './kafka-failure.ts';
import { type KafkaLogSink, kafkaLogOptions } from './kafka-log.ts';
import type { MskTokenSigner } from './msk-iam.ts';
import { GrouplessPartitionReader } from './partition-reader.ts';
import { IdempotentRecordWriter } from './record-writer.ts';
import { TopicAdmin } from './topic-admin.ts';
import { KafkaTransactionalWriter, type TransactionalWriterOptions } from './transactional-writer.ts';

/** The worker configuration the clients come from; `Bundle.worker` is one. */
export interface KafkaWorkerConfig {
  /** The worker file, for problems (default `worker`). */
  readonly file?: string;
  readonly values: ConnectionValues;
  /** `producer.*`, `consumer.*`, `admin.*` with the prefix removed. */
  readonly clients: Readonly<Partial<Record<ClientKind, Readonly<Record<string, string>>>>>;
}

export interface KafkaClientsOptions {
  /** kafkajs `clientId` (a `<kind>.client.id` override wins); default `connect-fn`. */
  readonly clientId?: string;
  /** For `AWS_REGION` (MSK IAM); default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** kafkajs' warnings and errors, redacted; dropped when absent. */
  readonly log?: KafkaLogSink;
  /** Signs MSK IAM tokens (./msk-iam-signer.ts); needed only when the bundle authenticates with IAM. */
  readonly mskIamSigner?: MskTokenSigner;
}

/** A connection (a kafkajs `Kafka`) plus the settings of one kind of client. */
interface KindSetup<S> {
  readonly settings: S;
  readonly endpoint: Endpoint;
  readonly kafka: () => Kafka;
}

/** The sink offsets store of `offset.storage=kafka`: Connect's consumer group `connect-<connector>`. */
export interface SinkOffsetStoreOptions {
  /** The worker's `group.id`: the prefix of the tasks' transactional ids (not the consumer group). */
  readonly groupId: string;
  /**
   * The transaction timeout of the commits (the connector's invocation timeout), unless the worker sets
   * `producer.transaction.timeout.ms`: a transaction a killed invocation left open is aborted after it.
   */
  readonly transactionTimeoutMs?: number;
}

export interface KafkaClients {
  /** Accepted keys that have no effect, each with the reason. */
  readonly warnings: readonly ConfigProblem[];
  /** The consumer settings (`auto.offset.reset`, `max.poll.records`, ...) for sink cycles. */
  readonly consumerSettings: ConsumerSettings;
  /** Where producers connect and how, as error messages describe it. */
  readonly producerEndpoint: Endpoint;
  /** Where reads go (`consumer.*` overrides applied), for messages. */
  readonly consumerEndpoint: Endpoint;
  recordWriter(): IdempotentRecordWriter;
  transactionalWriter(
    transactionalId: string,
    options?: TransactionalWriterOptions,
  ): KafkaTransactionalWriter;
  partitionReader(): GrouplessPartitionReader;
  topicAdmin(): TopicAdmin;
  /** Sink offsets in Connect's consumer group; each session has its own producer and admin. */
  sinkOffsetStore(options: SinkOffsetStoreOptions): KafkaGroupOffsetStore;
}

/**
 * `<group.id>-<connector>-<task>`: KIP-618's transactional id of a source task; a sink task's offset commits
 * use the same form (a source and a sink connector never share a name).
 */
export function transactionalIdFor(groupId: string, connector: string, task: number): string {
  return `${groupId}-${connector}-${task}`;
}

function setup<K extends ClientKind>(
  kind: K,
  worker: KafkaWorkerConfig,
  options: KafkaClientsOptions,
  problems: Problem[],
  warnings: Problem[],
) {
  const overrides = worker.clients[kind] ?? {};
  const values = withOverrides(worker.values, overrides, `${kind}.`, problems);
  const connectionProblems: Problem[] = [];
  const connection = resolveConnection(
    values,
    options.env ?? process.env,
    connectionProblems,
    options.mskIamSigner,
  );
  // A problem with an overridden key is the override's: name it `<kind>.<key>`.
  for (const p of connectionProblems) {
    problems.push(p.key in overrides ? { ...p, key: `${kind}.${p.key}` } : p);
  }
  const settings = clientSettings(kind, overrides, problems, warnings);
  let kafka: Kafka | undefined;
  const create = () =>
    new Kafka({
      clientId: settings.clientId ?? options.clientId ?? 'connect-fn',
      brokers: connection.brokers,
      ...(connection.ssl === undefined ? {} : { ssl: connection.ssl }),
      ...(connection.sasl === undefined ? {} : { sasl: connection.sasl }),
      connectionTimeout: settings.connectionTimeoutMs ?? 3_000,
      requestTimeout: settings.requestTimeoutMs ?? 30_000,
      retry: settings.retry,
      ...kafkaLogOptions(options.log, connection.endpoint.redactor),
    });
  const setupOfKind: KindSetup<ReturnType<typeof clientSettings<K>>> = {
    settings,
    endpoint: connection.endpoint,
    kafka: () => (kafka ??= create()),
  };
  return setupOfKind;
}

interface Setups {
  readonly producer: KindSetup<ProducerSettings>;
  readonly consumer: KindSetup<ConsumerSettings>;
  readonly admin: KindSetup<AdminSettings>;
  readonly problems: ConfigProblem[];
  readonly warnings: ConfigProblem[];
}

function setupAll(worker: KafkaWorkerConfig, options: KafkaClientsOptions): Setups {
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const producer = setup('producer', worker, options, problems, warnings);
  const consumer = setup('consumer', worker, options, problems, warnings);
  const admin = setup('admin', worker, options, problems, warnings);
  const file = worker.file ?? 'worker';
  // The worker's own connection keys are checked once per client kind: report each problem once.
  const dedupe = (list: Problem[]) => [
    ...new Map(list.map((p) => [JSON.stringify(p), { file, ...p }])).values(),
  ];
  return { producer, consumer, admin, problems: dedupe(problems), warnings: dedupe(warnings) };
}

/** Every problem and warning of the worker's Kafka keys, without connecting (for `connect-fn validate`). */
export function checkKafkaClientConfig(
  worker: KafkaWorkerConfig,
  options: KafkaClientsOptions = {},
): { problems: ConfigProblem[]; warnings: ConfigProblem[] } {
  const { problems, warnings } = setupAll(worker, options);
  return { problems, warnings };
}

/** A connector's `producer.override.*`, `consumer.override.*`, `admin.override.*`, prefixes removed. */
export type ClientOverrides = Readonly<Partial<Record<ClientKind, Readonly<Record<string, string>>>>>;

/**
 * The worker's Kafka settings with a connector's client overrides on top (Connect's
 * `<kind>.override.*`, allowed by its default `connector.client.config.override.policy=All`); problems of
 * the result are reported in `file`, the connector's.
 */
export function withClientOverrides(
  worker: KafkaWorkerConfig,
  overrides: ClientOverrides,
  file: string,
): KafkaWorkerConfig {
  const kinds: readonly ClientKind[] = ['producer', 'consumer', 'admin'];
  const has = kinds.some((kind) => Object.keys(overrides[kind] ?? {}).length > 0);
  if (!has) return worker;
  const clients: Partial<Record<ClientKind, Readonly<Record<string, string>>>> = {};
  for (const kind of kinds) clients[kind] = { ...worker.clients[kind], ...overrides[kind] };
  return { ...worker, file, clients };
}

/**
 * The problems and warnings of a connector's client overrides alone, named `<kind>.override.<key>` in the
 * connector's `file` (the worker's own keys are checked once, with the worker).
 */
export function checkClientOverrides(
  worker: KafkaWorkerConfig,
  overrides: ClientOverrides,
  file: string,
  options: KafkaClientsOptions = {},
): { problems: ConfigProblem[]; warnings: ConfigProblem[] } {
  const merged = withClientOverrides(worker, overrides, file);
  if (merged === worker) return { problems: [], warnings: [] };
  const { problems, warnings } = setupAll(merged, options);
  const own = (list: ConfigProblem[]) =>
    list.flatMap((p) => {
      const dot = p.key.indexOf('.');
      const kind = p.key.slice(0, dot) as ClientKind;
      const key = p.key.slice(dot + 1);
      if (dot < 0 || overrides[kind]?.[key] === undefined) return [];
      return [{ ...p, file, key: `${kind}.override.${key}` }];
    });
  return { problems: own(problems), warnings: own(warnings) };
}

/** Builds the factory; throws `ConfigInvalidError` listing every problem of the worker's Kafka keys. */
export function createKafkaClients(
  worker: KafkaWorkerConfig,
  options: KafkaClientsOptions = {},
): KafkaClients {
  const { producer, consumer, admin, problems, warnings } = setupAll(worker, options);
  if (problems.length > 0) throw new ConfigInvalidError(problems);
  const producerContext = () => ({
    kafka: producer.kafka(),
    settings: producer.settings,
    endpoint: producer.endpoint,
  });
  const adminContext = () => ({ kafka: admin.kafka(), settings: admin.settings, endpoint: admin.endpoint });
  return {
    warnings,
    consumerSettings: consumer.settings,
    producerEndpoint: producer.endpoint,
    consumerEndpoint: consumer.endpoint,
    recordWriter: () => new IdempotentRecordWriter(producerContext()),
    transactionalWriter: (id, writerOptions) =>
      new KafkaTransactionalWriter(producerContext(), id, writerOptions),
    partitionReader: () =>
      new GrouplessPartitionReader({
        kafka: consumer.kafka(),
        settings: consumer.settings,
        endpoint: consumer.endpoint,
      }),
    topicAdmin: () => new TopicAdmin(adminContext()),
    sinkOffsetStore: ({ groupId, transactionTimeoutMs }) =>
      new KafkaGroupOffsetStore({
        newWriter: (connector, task) =>
          new KafkaTransactionalWriter(
            producerContext(),
            transactionalIdFor(groupId, connector, task),
            transactionTimeoutMs === undefined ? {} : { transactionTimeoutMs },
          ),
        admin: adminContext(),
      }),
  };
}
