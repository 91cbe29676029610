/**
 * What a fault scenario needs around its child processes: a bundle in a temp dir (unique topic, connector
 * and offsets location), the data topic read back read_committed with the group-less reader and counted
 * per task, the committed offsets as the stores hold them, and where a kill landed.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import {
  createKafkaClients,
  type GrouplessPartitionReader,
  type KafkaClients,
} from '../../../src/kafka/index.ts';
import { KafkaOffsetStore } from '../../../src/offsets/index.ts';
import { localAws, stackEnv } from '../../stack/env.ts';
import { whileCoordinatorMoves } from '../../support/coordinator-retry.ts';
import { kafkaWorker } from '../../unit/kafka/worker-values.ts';
import type { ProbeEvent } from './invocation.ts';

export type Guarantee = 'exactly-once' | 'at-least-once';

/** The DynamoDB table of every at-least-once scenario (connector names keep them apart). */
export const OFFSETS_TABLE = 'connect-fn-faults-offsets';

export type Properties = Readonly<Record<string, string | number>>;

export interface BundleSpec {
  readonly guarantee: Guarantee;
  /** Prefix of the connector and topic names; a unique suffix is added. */
  readonly prefix: string;
  /** datagen and `invocation.*` keys (merged over the defaults below). */
  readonly connector: Properties;
  /** Worker keys merged over the guarantee's defaults. */
  readonly worker?: Properties;
}

/** The names a bundle gets: its connector and data topic, with a unique suffix. */
export interface BundleNames {
  readonly id: string;
  readonly connector: string;
  readonly topic: string;
}

/**
 * A bundle in a temp dir: worker.properties + connectors/<name>.properties, rewritable with changed keys
 * (same name and topic: the same connector). What the source and the sink scenarios' bundles share.
 */
export abstract class BundleDir {
  /** The unique suffix of its names. */
  readonly id: string;
  readonly dir: string;
  readonly connector: string;
  readonly topic: string;
  #connectorProps: Properties;
  #workerProps: Properties;

  protected constructor(
    prefix: string,
    props: (names: BundleNames) => { readonly connector: Properties; readonly worker: Properties },
  ) {
    const id = randomUUID().slice(0, 8);
    this.id = id;
    this.connector = `${prefix}-${id}`;
    this.topic = `faults-${prefix}-${id}`;
    this.dir = mkdtempSync(join(tmpdir(), `connect-fn-faults-${prefix}-`));
    mkdirSync(join(this.dir, 'connectors'));
    const initial = props({ id, connector: this.connector, topic: this.topic });
    this.#connectorProps = { name: this.connector, ...initial.connector };
    this.#workerProps = initial.worker;
    this.#write();
  }

  get tasks(): number {
    return Number(this.#connectorProps['tasks.max'] ?? 1);
  }

  protected get connectorProps(): Properties {
    return this.#connectorProps;
  }

  /** Rewrites the bundle with changed connector keys (same name, topic and offsets: the same connector). */
  update(connector: Properties = {}, worker: Properties = {}): void {
    this.#connectorProps = { ...this.#connectorProps, ...connector };
    this.#workerProps = { ...this.#workerProps, ...worker };
    this.#write();
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  #write(): void {
    writeFileSync(join(this.dir, 'worker.properties'), properties(this.#workerProps));
    writeFileSync(
      join(this.dir, 'connectors', `${this.connector}.properties`),
      properties(this.#connectorProps),
    );
  }
}

/** A datagen source bundle. */
export class ScenarioBundle extends BundleDir {
  readonly offsetsTopic: string;
  readonly guarantee: Guarantee;

  constructor(spec: BundleSpec) {
    const offsetsTopic = (id: string) => `faults-offsets-${spec.prefix}-${id}`;
    super(spec.prefix, ({ id, topic }) => ({
      worker: { ...workerDefaults(spec.guarantee, offsetsTopic(id)), ...spec.worker },
      connector: {
        'connector.class': 'datagen',
        'kafka.topic': topic,
        quickstart: 'orders',
        seed: 7,
        'record.bytes': 64,
        ...spec.connector,
      },
    }));
    this.offsetsTopic = offsetsTopic(this.id);
    this.guarantee = spec.guarantee;
  }

  /** The records each task generates over its life (`iterations` split as datagen splits it). */
  expectedPerTask(): number[] {
    const iterations = Number(this.connectorProps.iterations);
    const tasks = this.tasks;
    return Array.from(
      { length: tasks },
      (_, t) => Math.floor(iterations / tasks) + (t < iterations % tasks ? 1 : 0),
    );
  }
}

/** Every scenario's worker: the stack's broker, string keys, JSON values without schemas. */
export const WORKER_COMMON: Properties = {
  'bootstrap.servers': '${env:KAFKA_BROKERS}',
  'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
  'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
  'value.converter.schemas.enable': 'false',
};

function workerDefaults(guarantee: Guarantee, offsetsTopic: string): Properties {
  if (guarantee === 'exactly-once') {
    return {
      ...WORKER_COMMON,
      'offset.storage': 'kafka',
      'offset.storage.topic': offsetsTopic,
      // One partition: every task's offsets share it, as many connectors share connect-offsets' partitions.
      'offset.storage.partitions': 1,
      'offset.storage.replication.factor': 1,
      'exactly.once.source.support': 'enabled',
    };
  }
  return {
    ...WORKER_COMMON,
    'offset.storage': 'dynamodb',
    'dynamodb.endpoint': '${env:DYNAMODB_ENDPOINT}',
    'offset.storage.table': OFFSETS_TABLE,
  };
}

function properties(props: Properties): string {
  return `${Object.entries(props)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`;
}

/** A datagen record as read back: which task generated it and its sequence number. */
export interface DataRecord {
  readonly partition: number;
  readonly offset: number;
  readonly task: number;
  readonly sequence: number;
}

/** Per task: were sequences 0..expected-1 each delivered, and how often. */
export interface TaskTally {
  readonly task: number;
  readonly expected: number;
  readonly records: number;
  readonly distinct: number;
  /** Sequences in 0..expected-1 that never arrived. */
  readonly missing: number;
  readonly firstMissing: readonly number[];
  /** Records beyond the first copy of their sequence. */
  readonly duplicates: number;
  readonly duplicatedSequences: number;
  readonly maxCopies: number;
  /** Sequences outside 0..expected-1 (never generated). */
  readonly unexpected: number;
}

export function tally(records: readonly DataRecord[], expectedPerTask: readonly number[]): TaskTally[] {
  return expectedPerTask.map((expected, task) => {
    const copies = new Map<number, number>();
    let unexpected = 0;
    for (const r of records) {
      if (r.task !== task) continue;
      if (r.sequence < 0 || r.sequence >= expected) unexpected++;
      copies.set(r.sequence, (copies.get(r.sequence) ?? 0) + 1);
    }
    const firstMissing: number[] = [];
    let missing = 0;
    for (let s = 0; s < expected; s++) {
      if (copies.has(s)) continue;
      missing++;
      if (firstMissing.length < 10) firstMissing.push(s);
    }
    const counts = [...copies.values()];
    const records_ = counts.reduce((a, b) => a + b, 0);
    return {
      task,
      expected,
      records: records_,
      distinct: copies.size,
      missing,
      firstMissing,
      duplicates: records_ - copies.size,
      duplicatedSequences: counts.filter((c) => c > 1).length,
      maxCopies: Math.max(0, ...counts),
      unexpected,
    };
  });
}

/** Sequences of `task` in the order they were read, for checking contiguity. */
export function sequencesOf(records: readonly DataRecord[], task: number): number[] {
  return records
    .filter((r) => r.task === task)
    .map((r) => r.sequence)
    .sort((a, b) => a - b);
}

/** One Kafka cluster seen from the test process: topics made, read back and offsets looked up. */
export class KafkaView {
  readonly brokers: string;
  readonly clients: KafkaClients;
  readonly #admin: Admin;
  readonly #reader: GrouplessPartitionReader;

  private constructor(brokers: string, admin: Admin) {
    this.brokers = brokers;
    this.#admin = admin;
    this.clients = createKafkaClients(kafkaWorker(brokers), { clientId: 'connect-fn-faults' });
    this.#reader = this.clients.partitionReader();
  }

  static async open(brokers: string): Promise<KafkaView> {
    const kafka = new Kafka({
      clientId: 'connect-fn-faults-admin',
      brokers: brokers.split(','),
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    return new KafkaView(brokers, admin);
  }

  /**
   * Creates `topic` and waits until every partition has a leader. Not kafkajs' `waitForLeaders`: on a
   * loaded broker its metadata check can meet UNKNOWN_TOPIC_OR_PARTITION for the new topic and throw.
   */
  async createTopic(topic: string, partitions: number, configs: Readonly<Record<string, string>> = {}) {
    await this.#admin.createTopics({
      topics: [
        {
          topic,
          numPartitions: partitions,
          replicationFactor: 1,
          configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })),
        },
      ],
      waitForLeaders: false,
    });
    const until = Date.now() + 30_000;
    for (;;) {
      try {
        const metadata = await this.#admin.fetchTopicMetadata({ topics: [topic] });
        const led = metadata.topics[0]?.partitions.filter((p) => p.leader >= 0).length ?? 0;
        if (led === partitions) return;
      } catch (err) {
        if (Date.now() >= until) throw err;
      }
      if (Date.now() >= until) throw new Error(`topic ${topic} has no leader for every partition after 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * The committed offsets of consumer group `groupId` for `topic`'s partitions (OffsetFetch, no membership);
   * partitions without one are left out.
   */
  async groupOffsets(groupId: string, topic: string): Promise<Map<number, number>> {
    const [fetched] = await whileCoordinatorMoves(() =>
      this.#admin.fetchOffsets({ groupId, topics: [topic] }),
    );
    const out = new Map<number, number>();
    for (const { partition, offset } of fetched?.partitions ?? []) {
      if (Number(offset) >= 0) out.set(partition, Number(offset));
    }
    return out;
  }

  /** Each partition's high watermark (the offset the next record gets). */
  async highWatermarks(topic: string): Promise<Map<number, number>> {
    return new Map((await this.#admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
  }

  async topicExists(topic: string): Promise<boolean> {
    return (await this.#admin.listTopics()).includes(topic);
  }

  async partitionsOf(topic: string): Promise<number[]> {
    const metadata = await this.#admin.fetchTopicMetadata({ topics: [topic] });
    return (metadata.topics[0]?.partitions ?? []).map((p) => p.partitionId).sort((a, b) => a - b);
  }

  /**
   * Waits until no transaction is pending on `topic` (each partition's last stable offset has reached its
   * high watermark); false if one is still open after `timeoutMs`.
   */
  async settled(topic: string, timeoutMs = 15_000): Promise<boolean> {
    const partitions = await this.partitionsOf(topic);
    const until = Date.now() + timeoutMs;
    for (;;) {
      try {
        const high = new Map(
          (await this.#admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]),
        );
        const stable = await this.#reader.endOffsets(topic, partitions);
        if (partitions.every((p) => stable.get(p) === high.get(p))) return true;
      } catch (err) {
        // kafkajs' fetchTopicOffsets throws a TypeError when a partition's leader has no answer yet (a
        // broker just back from an outage): asked again, within the same bound.
        if (Date.now() >= until) throw err;
      }
      if (Date.now() >= until) return false;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Every committed datagen record of `topic` (read_committed, group-less), after pending transactions end. */
  async readTopic(topic: string): Promise<DataRecord[]> {
    const settled = await this.settled(topic);
    if (!settled) throw new Error(`${topic} still has an open transaction after 15 s`);
    const out: DataRecord[] = [];
    for (const partition of await this.partitionsOf(topic)) {
      const read = this.#reader.read({ topic, partition, fromOffset: 0, deadlineMs: Date.now() + 30_000 });
      for await (const batch of read) {
        for (const record of batch) {
          const value = JSON.parse(Buffer.from(record.value ?? new Uint8Array()).toString('utf8')) as {
            task: number;
            sequence: number;
          };
          out.push({ partition, offset: record.offset, task: value.task, sequence: value.sequence });
        }
      }
    }
    return out;
  }

  /** The next sequence of `task` in the bundle's Kafka offsets topic (read_committed). */
  async committedSequence(bundle: ScenarioBundle, task: number): Promise<number | undefined> {
    const admin = this.clients.topicAdmin();
    try {
      const store = await KafkaOffsetStore.create({
        topic: bundle.offsetsTopic,
        partitions: 1,
        replicationFactor: 1,
        admin,
        reader: this.#reader,
      });
      const session = await store.open(bundle.connector, task);
      const [offset] = await session.read([{ task }]);
      return offset === undefined ? undefined : Number(offset.sequence);
    } finally {
      await admin.close();
    }
  }

  async close(): Promise<void> {
    await this.#reader.close().catch(() => undefined);
    await this.#admin.disconnect().catch(() => undefined);
  }
}

/** The stack's Kafka and DynamoDB, seen from the test process. */
export class FaultStack {
  readonly kafka: KafkaView;
  readonly dynamodbEndpoint: string;
  readonly #dynamo: DynamoDBClient;
  readonly #bundles: { remove(): void }[] = [];

  private constructor(kafka: KafkaView, dynamodbEndpoint: string) {
    this.kafka = kafka;
    this.dynamodbEndpoint = dynamodbEndpoint;
    this.#dynamo = new DynamoDBClient({ ...localAws, endpoint: dynamodbEndpoint });
  }

  static async open(): Promise<FaultStack> {
    const env = stackEnv();
    return new FaultStack(await KafkaView.open(env.kafkaBrokers), env.dynamodbEndpoint);
  }

  /** The environment a child needs to reach the stack. */
  get childEnv(): Record<string, string> {
    return { KAFKA_BROKERS: this.kafka.brokers, DYNAMODB_ENDPOINT: this.dynamodbEndpoint };
  }

  /**
   * A bundle whose data topic exists on the stack's broker with `partitions` partitions (0: not created,
   * nor the offsets topic); its temp dir is removed by {@link close}.
   *
   * The offsets topic is created here too, as Connect creates it (compacted), so the scenarios exercise
   * the cycle, not the first invocation's topic creation: on a loaded machine that creation can fail
   * (`TopicAdmin.ensureTopic` uses kafkajs' `waitForLeaders`, see {@link KafkaView.createTopic}).
   */
  async bundle(spec: BundleSpec, partitions = 3): Promise<ScenarioBundle> {
    const bundle = new ScenarioBundle(spec);
    this.#bundles.push(bundle);
    if (partitions > 0) {
      await this.kafka.createTopic(bundle.topic, partitions);
      if (bundle.guarantee === 'exactly-once') {
        await this.kafka.createTopic(bundle.offsetsTopic, 1, { 'cleanup.policy': 'compact' });
      }
    }
    return bundle;
  }

  readTopic(topic: string): Promise<DataRecord[]> {
    return this.kafka.readTopic(topic);
  }

  /** Removes `bundle`'s temp dir in {@link close}. */
  track<B extends { remove(): void }>(bundle: B): B {
    this.#bundles.push(bundle);
    return bundle;
  }

  /** The `offset` attribute (compact JSON) of an item of the offsets table (strongly consistent). */
  async storedOffset(connector: string, sk: string): Promise<string | undefined> {
    const { Item } = await this.#dynamo.send(
      new GetItemCommand({
        TableName: OFFSETS_TABLE,
        Key: { pk: { S: connector }, sk: { S: sk } },
        ConsistentRead: true,
      }),
    );
    return Item?.offset?.S;
  }

  /**
   * The next sequence number the bundle's store holds for `task` (undefined: nothing committed); Kafka
   * offsets are read from `kafka` (default the stack's broker).
   */
  async committedSequence(
    bundle: ScenarioBundle,
    task: number,
    kafka: KafkaView = this.kafka,
  ): Promise<number | undefined> {
    if (bundle.guarantee === 'exactly-once') return kafka.committedSequence(bundle, task);
    const offset = await this.storedOffset(bundle.connector, JSON.stringify({ task }));
    return offset === undefined ? undefined : (JSON.parse(offset) as { sequence: number }).sequence;
  }

  async close(): Promise<void> {
    for (const bundle of this.#bundles.splice(0)) bundle.remove();
    await this.kafka.close();
    this.#dynamo.destroy();
  }
}

/** Where in the cycle a kill landed, from the child's last wire events before it died. */
export type Phase = 'startup' | 'after-poll' | 'mid-produce' | 'mid-commit' | 'after-summary';
export const PHASES: readonly Phase[] = [
  'startup',
  'after-poll',
  'mid-produce',
  'mid-commit',
  'after-summary',
];

/**
 * - startup: before the first batch went out (bundle, connections, fencing/lease, reading offsets, 1st poll);
 * - mid-produce: a batch's records (and, exactly-once, its offset records) being sent;
 * - mid-commit: the commit sent (EndTxn / the DynamoDB TransactWriteItems), not yet answered;
 * - after-poll: a commit answered, the next batch not yet sent (poll and convert run here);
 * - after-summary: the invocation had returned and printed its summary.
 */
export function phaseAtKill(events: readonly ProbeEvent[], printedSummary: boolean): Phase {
  if (printedSummary) return 'after-summary';
  let phase: Phase = 'startup';
  for (const { kind, name } of events) {
    if (kind === 'kreq' || kind === 'kres') {
      if (name === 'Produce' || name === 'AddPartitionsToTxn') phase = 'mid-produce';
      else if (name === 'EndTxn') phase = kind === 'kreq' ? 'mid-commit' : 'after-poll';
    } else if ((kind === 'hreq' || kind === 'hres') && name === 'TransactWriteItems') {
      phase = kind === 'hreq' ? 'mid-commit' : 'after-poll';
    }
  }
  return phase;
}

/** Counts per phase, for the one-line report. */
export function countPhases(phases: readonly Phase[]): Record<Phase, number> {
  const counts = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;
  for (const p of phases) counts[p]++;
  return counts;
}

/** `startup=3 after-poll=1 ...` without the zeros. */
export function formatCounts(counts: Readonly<Record<string, number>>): string {
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k}=${n}`)
    .join(' ');
}

/** A deterministic pseudo-random generator (mulberry32), seeded per scenario and printed for reruns. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The seed of a run: FAULTS_SEED when set (to replay a failure), else random. */
export function scenarioSeed(): number {
  const fromEnv = Number(process.env.FAULTS_SEED);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : Math.floor(Math.random() * 2 ** 31) + 1;
}
