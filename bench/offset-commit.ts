/**
 * Offset commit latency, Kafka store against DynamoDB store (issue 3, benchmark 2): one task's session of
 * each store, built the way the function builds it (`src/app/offset-store.ts`: the Kafka store on the
 * bench's compacted offsets topic, the DynamoDB store on DynamoDB Local, table created if missing, the
 * task's lease taken by `open`), commits one source partition's offset over and over through
 * `OffsetSession.commit` — what an at-least-once cycle does after each batch.
 *
 * - Kafka: one offset record produced by the idempotent writer, acks=all, awaited;
 * - DynamoDB: one TransactWriteItems (the lease check plus the offset put), awaited.
 *
 * Each round commits once per store, the order swapped every round, after {@link WARM_UP_COMMITS} rounds
 * that are not counted. No target: the ratio shows what the lease-checked DynamoDB commit costs against
 * a Kafka produce on the same machine (both servers are local JVMs, so network latency is not in it).
 *
 * Run: `npx tsx bench/offset-commit.ts [--runs 300]`, or `npm run bench -- --only offset-commit`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinParts } from '../src/app/builtin-parts.ts';
import { type OffsetStoreChoice, openOffsetStore } from '../src/app/offset-store.ts';
import { loadBundle } from '../src/config/bundle.ts';
import { builtinRegistry } from '../src/connectors/builtins.ts';
import { createKafkaClients } from '../src/kafka/index.ts';
import type { OffsetSession } from '../src/runtime/ports.ts';
import { writeDatagenBundle } from './lib/datagen-bundle.ts';
import { type Benchmark, compared, type ResultRow, runIfMain } from './lib/result.ts';
import type { BenchStack } from './lib/stack.ts';
import { median, percentile } from './lib/stats.ts';
import { formatTable, ms } from './lib/table.ts';

const NAME = 'offset-commit';
const WARM_UP_COMMITS = 20;
const OFFSETS_TOPIC = 'connect-fn-bench-offsets';
const ENV = { LOG_LEVEL: 'warn' };

interface Store {
  readonly name: 'kafka' | 'dynamodb';
  readonly choice: OffsetStoreChoice;
  readonly session: OffsetSession;
  readonly latenciesMs: number[];
}

/** The store of a one-connector bundle whose worker file picks it, as the function would open it. */
async function openStore(
  name: Store['name'],
  dir: string,
  stack: BenchStack,
  connector: string,
): Promise<Store> {
  const bundleDir = writeDatagenBundle({
    dir: join(dir, name),
    brokers: stack.kafkaBrokers,
    connector,
    topic: `${connector}-data`,
    exactlyOnce: false,
    offsetsTopic: OFFSETS_TOPIC,
    ...(name === 'dynamodb' ? { dynamodbEndpoint: stack.dynamodbEndpoint } : {}),
    maxRecords: 1,
    recordBytes: 0,
  });
  const bundle = loadBundle(bundleDir, { registry: builtinRegistry(), env: ENV });
  const kafka = createKafkaClients(bundle.worker, { clientId: `connect-fn-bench-${name}`, env: ENV });
  const choice = await openOffsetStore(bundle, kafka, builtinParts.offsetStores, {
    createTable: true,
    env: ENV,
  });
  const session = await choice.store.open(connector, 0);
  return { name, choice, session, latenciesMs: [] };
}

async function commitOnce(store: Store, sequence: number): Promise<number> {
  const startMs = performance.now();
  await store.session.commit([{ partition: { task: 0 }, offset: { sequence } }]);
  return performance.now() - startMs;
}

function detail(stores: readonly Store[], runs: number): string[] {
  const head = ['store', 'p50', 'p90', 'p99', 'max', 'mean'];
  const cells = stores.map((s) => {
    const l = s.latenciesMs;
    return [
      s.name,
      ms(median(l)),
      ms(percentile(l, 90)),
      ms(percentile(l, 99)),
      ms(Math.max(...l)),
      ms(l.reduce((a, b) => a + b, 0) / l.length),
    ];
  });
  return [
    `${runs} commits of one partition's offset per store (+${WARM_UP_COMMITS} warm-up), latency in ms`,
    ...formatTable(head, cells),
  ];
}

function rows(kafka: Store, dynamodb: Store, runs: number): ResultRow[] {
  const notes = `OffsetSession.commit of 1 partition, ${runs} commits; ratio = DynamoDB / Kafka`;
  return (
    [
      ['p50', 50],
      ['p99', 99],
    ] as const
  ).map(([label, p]) =>
    compared(
      `${NAME}: dynamodb store vs kafka store, ${label}`,
      percentile(dynamodb.latenciesMs, p),
      'ms',
      { name: `kafka store, ${label}`, value: percentile(kafka.latenciesMs, p) },
      notes,
    ),
  );
}

export const offsetCommit: Benchmark = {
  name: NAME,
  defaultRuns: 300,
  async run({ runs, log, stack }) {
    const running = await stack();
    const dir = mkdtempSync(join(tmpdir(), 'connect-fn-offset-commit-bench-'));
    const connector = `bench-commit-${Date.now().toString(36)}`;
    const stores: Store[] = [];
    try {
      stores.push(await openStore('kafka', dir, running, connector));
      stores.push(await openStore('dynamodb', dir, running, connector));
      for (let round = 0; round < WARM_UP_COMMITS + runs; round++) {
        const order = round % 2 === 0 ? stores : [...stores].reverse();
        for (const store of order) {
          const latencyMs = await commitOnce(store, round + 1);
          if (round >= WARM_UP_COMMITS) store.latenciesMs.push(latencyMs);
        }
      }
      for (const line of detail(stores, runs)) log(line);
      const [kafka, dynamodb] = stores as [Store, Store];
      return rows(kafka, dynamodb, runs);
    } finally {
      for (const store of stores) {
        await store.session.close().catch(() => undefined);
        await store.choice.close();
      }
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

await runIfMain(import.meta.filename, offsetCommit);
