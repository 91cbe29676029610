/**
 * The exactly-once DynamoDB sink under `kill -9` (issue 5, "Reliability"): 20+ kills, each invocation a
 * `connect-fn run` child of a scheduled `dynamodb-sink` (delivery.guarantee=exactly-once,
 * offset.storage=kafka, one task reading both partitions) over a fresh 2-partition topic of records
 * `{"p":<partition>,"seq":<n>}` (the record at offset n carries seq n), into a fresh table keyed by the
 * record's Kafka partition and offset, with a fresh table of EOS offset items; then the task runs to the end.
 *
 * Half the rounds kill at the n-th TransactWriteItems (before it is sent, once it is sent, once it is
 * answered); the other half after a random delay from the first transaction (the first put).
 *
 * The children are separate processes, so the SDK middleware of the integration test cannot see them: the
 * phase probe records them instead (FAULT_TXN_FILE, ./support/phase-probe.mjs), from the child, at the HTTP
 * level: every TransactWriteItems request's actions before its bytes go out, and its answer's status before
 * the client sees it. A 200 is a committed transaction. A request without an answer (the child died with it
 * in flight) may or may not have been applied; which, follows from the offset items' chain: every
 * transaction carries `kafka_offset = :expected → :next` of its partition (`attribute_not_exists` for the
 * first), the stored offset only grows, so at most one committed transaction starts from each stored value,
 * and the committed transactions of a partition form one chain 0 → end. At each link the committed (200)
 * transaction from there is taken, or else — the offset did move on, so one in-flight one was applied — the
 * unanswered one from there.
 *
 * What must hold (what is asserted):
 * - the chain of each partition runs from nothing to the partition's end, every link either answered 200 or
 *   the single unanswered candidate, and no transaction answered 200 is off the chain (two committed from
 *   one offset would be a double commit);
 * - every committed transaction's puts are exactly the records [expected, next) of its partition, its items'
 *   values those records' (`p`, `seq`), its offset update's `sk` the topic-partition of its puts;
 * - hence each record's (topic, partition, offset) is in exactly one committed transaction (counted, too);
 * - the table holds exactly one item per record, with its value, and nothing else; each EOS offset item is
 *   the partition's end.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  GetItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { localAws } from '../stack/env.ts';
import { scanItems } from '../support/dynamodb-scan.ts';
import type { ProbeEvent } from './support/invocation.ts';
import { type KillProfile, type KillReport, runKillRounds, runToCompletion } from './support/kill-rounds.ts';
import {
  BundleDir,
  FaultStack,
  formatCounts,
  scenarioSeed,
  seededRandom,
  WORKER_COMMON,
} from './support/scenario.ts';
import { cleanSinkEnd, produceSequences } from './support/sink-scenario.ts';

const KILLS = 20;
const MAX_ROUNDS = 32;
/** Every other round is a targeted kill. */
const TARGETED_SHARE = 2;
/** `consumer.max.poll.records`: one put (a transaction or two, one per partition it holds). */
const MAX_POLL = 20;
const PER_INVOCATION = 200;
const PER_PARTITION = 2_000;
const PARTITIONS = 2;
const TRANSACT = 'TransactWriteItems';

let stack: FaultStack;
let dynamo: DynamoDBClient;
const tables: string[] = [];

beforeAll(async () => {
  stack = await FaultStack.open();
  dynamo = new DynamoDBClient({ ...localAws, endpoint: stack.dynamodbEndpoint });
});

afterAll(async () => {
  for (const table of tables) {
    await dynamo?.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
  }
  dynamo?.destroy();
  await stack?.close();
});

async function createTable(prefix: string, keys: readonly [string, 'N' | 'S'][]): Promise<string> {
  const table = `${prefix}-${randomUUID().slice(0, 8)}`;
  await dynamo.send(
    new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: keys.map(([name, type]) => ({ AttributeName: name, AttributeType: type })),
      KeySchema: keys.map(([name], i) => ({ AttributeName: name, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  tables.push(table);
  return table;
}

/** A scheduled exactly-once dynamodb-sink bundle: topic → `table`, offset items in `offsetsTable`. */
class DynamoSinkBundle extends BundleDir {
  readonly partitions = PARTITIONS;

  constructor(table: string, offsetsTable: string) {
    super('ddb-sink-kill', ({ topic }) => ({
      worker: { ...WORKER_COMMON, 'offset.storage': 'kafka', 'consumer.max.poll.records': MAX_POLL },
      connector: {
        'connector.class': 'dynamodb-sink',
        topics: topic,
        'table.name.format': table,
        'aws.dynamodb.endpoint': '${env:DYNAMODB_ENDPOINT}',
        'aws.dynamodb.pk.hash': 'partition',
        'aws.dynamodb.pk.sort': 'offset',
        'delivery.guarantee': 'exactly-once',
        'exactly.once.offsets.table': offsetsTable,
        'tasks.max': 1,
        'invocation.max.records': PER_INVOCATION,
        schedule: 'rate(1 minute)',
      },
    }));
  }
}

/** Where a random kill landed, from the child's DynamoDB transactions. */
function ddbPhaseAtKill(events: readonly ProbeEvent[], printedSummary: boolean): string {
  if (printedSummary) return 'after-summary';
  let phase = 'startup';
  for (const { kind, name } of events) {
    if (name !== TRANSACT) continue;
    if (kind === 'hreq') phase = 'TransactWriteItems-in-flight';
    else if (kind === 'hres') phase = 'after-TransactWriteItems';
  }
  return phase;
}

const ddbKillProfile: KillProfile = {
  targets: [
    { name: 'before-TransactWriteItems', killAt: (n) => `before:hreq:${TRANSACT}:${n}` },
    { name: 'TransactWriteItems-sent', killAt: (n) => `after:hreq:${TRANSACT}:${n}` },
    { name: 'TransactWriteItems-answered', killAt: (n) => `after:hres:${TRANSACT}:${n}` },
  ],
  phaseAtKill: ddbPhaseAtKill,
  clean: cleanSinkEnd,
  // Random delays count from the first put's transaction.
  activeFrom: (event) => event.kind === 'hreq' && event.name === TRANSACT,
};

interface TxnPut {
  readonly table: string;
  readonly partition: number;
  readonly offset: number;
  readonly p: number;
  readonly seq: number;
}
interface TxnUpdate {
  readonly table: string;
  readonly sk: string;
  readonly expected: number | null;
  readonly next: number;
}
interface Txn {
  readonly id: string;
  readonly puts: readonly TxnPut[];
  readonly deletes: readonly unknown[];
  readonly updates: readonly TxnUpdate[];
  readonly unparsed?: boolean;
  status?: number | null | undefined;
}

function readTxns(file: string): Txn[] {
  const byId = new Map<string, Txn>();
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const record = JSON.parse(line) as Txn & { ev: string };
    if (record.ev === 'sent') byId.set(record.id, { ...record, puts: record.puts ?? [] });
    else {
      const txn = byId.get(record.id);
      if (txn !== undefined) txn.status = record.status;
    }
  }
  return [...byId.values()];
}

interface ChainCheck {
  /** Transactions answered 200. */
  answered: number;
  /** Links taken from an unanswered (in-flight at a kill) transaction. */
  inferred: number;
  /** Unanswered transactions not applied (the chain went on from the same offset without them). */
  unappliedInFlight: number;
  /** Transactions answered with anything else (refused by the condition: a stale offset). */
  refused: number;
  /** Per partition: the transactions of its chain. */
  links: number[];
  /** Per partition and offset: in how many committed transactions the record is. */
  copies: number[][];
  problems: string[];
}

/** Builds each partition's chain of committed transactions and checks it (see the module doc). */
function checkChains(txns: readonly Txn[], topic: string, table: string, offsetsTable: string): ChainCheck {
  const check: ChainCheck = {
    answered: 0,
    inferred: 0,
    unappliedInFlight: 0,
    refused: 0,
    links: [],
    copies: Array.from({ length: PARTITIONS }, () => Array.from({ length: PER_PARTITION }, () => 0)),
    problems: [],
  };
  const bySk = new Map<string, Txn[]>();
  for (const txn of txns) {
    if (txn.unparsed === true || txn.updates.length !== 1 || txn.deletes.length !== 0) {
      check.problems.push(`transaction ${txn.id}: not one offset update and puts: ${JSON.stringify(txn)}`);
      continue;
    }
    if (txn.status === 200) check.answered++;
    else if (txn.status !== undefined) check.refused++;
    const sk = txn.updates[0]!.sk;
    bySk.set(sk, [...(bySk.get(sk) ?? []), txn]);
  }
  const onChain = new Set<Txn>();
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const sk = `#eos#${JSON.stringify({ kafka_topic: topic, kafka_partition: partition })}`;
    const all = bySk.get(sk) ?? [];
    let at: number | null = null;
    let links = 0;
    while (at !== PER_PARTITION) {
      const from = all.filter((t) => t.updates[0]!.expected === at && t.status !== undefined);
      const committed = from.filter((t) => t.status === 200);
      const inFlight = all.filter((t) => t.updates[0]!.expected === at && t.status === undefined);
      let link: Txn | undefined;
      if (committed.length > 1) {
        check.problems.push(`partition ${partition}: ${committed.length} transactions committed from ${at}`);
        link = committed[0];
      } else if (committed.length === 1) {
        link = committed[0];
        check.unappliedInFlight += inFlight.length;
      } else {
        const nexts = new Set(inFlight.map((t) => t.updates[0]!.next));
        if (nexts.size === 1) {
          // The offset moved on from `at` and no answered transaction moved it: the in-flight one did
          // (several with the same range are one transaction sent again: only one can have matched).
          link = inFlight[0];
          check.inferred++;
          check.unappliedInFlight += inFlight.length - 1;
        } else {
          check.problems.push(
            `partition ${partition}: the chain stops at ${at} (${inFlight.length} in-flight candidates)`,
          );
          break;
        }
      }
      const { expected, next, table: updateTable } = link!.updates[0]!;
      onChain.add(link!);
      links++;
      const start = expected ?? 0;
      const offsets = link!.puts.map((put) => put.offset).sort((a, b) => a - b);
      const range = Array.from({ length: next - start }, (_, i) => start + i);
      if (updateTable !== offsetsTable || JSON.stringify(offsets) !== JSON.stringify(range)) {
        check.problems.push(
          `partition ${partition}: transaction ${link!.id} (${expected} -> ${next}) puts ${offsets.join(',')}`,
        );
      }
      for (const put of link!.puts) {
        if (
          put.table !== table ||
          put.partition !== partition ||
          put.p !== partition ||
          put.seq !== put.offset
        ) {
          check.problems.push(`transaction ${link!.id}: wrong put ${JSON.stringify(put)}`);
          continue;
        }
        if (put.offset >= 0 && put.offset < PER_PARTITION) check.copies[partition]![put.offset]!++;
      }
      if (next <= start) {
        check.problems.push(`partition ${partition}: transaction ${link!.id} goes from ${at} to ${next}`);
        break;
      }
      at = next;
    }
    check.links.push(links);
  }
  for (const txn of txns) {
    if (txn.status === 200 && !onChain.has(txn)) {
      check.problems.push(`transaction ${txn.id} committed off the chain: ${JSON.stringify(txn.updates)}`);
    }
  }
  return check;
}

async function eosOffsets(offsetsTable: string, connector: string, topic: string) {
  return Promise.all(
    Array.from({ length: PARTITIONS }, async (_, partition) => {
      const sk = `#eos#${JSON.stringify({ kafka_topic: topic, kafka_partition: partition })}`;
      const { Item } = await dynamo.send(
        new GetItemCommand({
          TableName: offsetsTable,
          Key: { pk: { S: connector }, sk: { S: sk } },
          ConsistentRead: true,
        }),
      );
      return Item?.kafka_offset?.N === undefined ? undefined : Number(Item.kafka_offset.N);
    }),
  );
}

function describeKills(report: KillReport): string {
  return (
    `rounds=${report.rounds} kills=${report.kills} not-killed=${report.completed}; random-delay kills: ` +
    `${formatCounts(report.random) || 'none'}; targeted kills: ${formatCounts(report.targeted) || 'none'}; ` +
    `random delays within ${Math.round(report.activeMs)} ms of the first transaction`
  );
}

describe('scheduled exactly-once DynamoDB sink: kill -9 around TransactWriteItems, then run to completion', () => {
  it('offset.storage=kafka (1 task, 2 partitions): every item once with its value, every record in exactly one committed transaction', async ({
    expect,
  }) => {
    const started = Date.now();
    const seed = scenarioSeed();
    const table = await createTable('faults-ddb-sink', [
      ['partition', 'N'],
      ['offset', 'N'],
    ]);
    const offsetsTable = await createTable('faults-ddb-sink-eos', [
      ['pk', 'S'],
      ['sk', 'S'],
    ]);
    const bundle = stack.track(new DynamoSinkBundle(table, offsetsTable));
    await stack.kafka.createTopic(bundle.topic, PARTITIONS);
    await produceSequences(stack, bundle, PER_PARTITION);

    // The children's environment, plus where the probe records their transactions.
    const txnFile = join(tmpdir(), `connect-fn-faults-txns-${bundle.id}.jsonl`);
    const childStack = Object.create(stack, {
      childEnv: { get: () => ({ ...stack.childEnv, FAULT_TXN_FILE: txnFile }) },
    }) as FaultStack;

    try {
      const report = await runKillRounds({
        stack: childStack,
        bundle,
        profile: ddbKillProfile,
        random: seededRandom(seed),
        kills: KILLS,
        maxRounds: MAX_ROUNDS,
        targetedShare: TARGETED_SHARE,
        batchesPerInvocation: PER_INVOCATION / MAX_POLL,
      });
      await runToCompletion(childStack, bundle, report.failures, {
        connector: { 'invocation.max.records': 1_000_000 },
        worker: { 'consumer.max.poll.records': 500 },
      });

      const txns = readTxns(txnFile);
      const chains = checkChains(txns, bundle.topic, table, offsetsTable);
      const copies = chains.copies.flat();
      const once = copies.filter((n) => n === 1).length;
      const never = copies.filter((n) => n === 0).length;
      const more = copies.filter((n) => n > 1).length;
      const items = await scanItems(dynamo, table);
      const seen = new Set<string>();
      const badItems: string[] = [];
      for (const item of items) {
        const { partition = -1, offset = -1, p, seq } = item as Partial<Record<string, number>>;
        const key = `${partition}:${offset}`;
        const ok =
          Number.isInteger(partition) &&
          Number.isInteger(offset) &&
          partition >= 0 &&
          partition < PARTITIONS &&
          offset >= 0 &&
          offset < PER_PARTITION &&
          p === partition &&
          seq === offset &&
          Object.keys(item).length === 4 &&
          !seen.has(key);
        if (!ok) badItems.push(JSON.stringify(item));
        seen.add(key);
      }
      const stored = await eosOffsets(offsetsTable, bundle.connector, bundle.topic);
      const group = await stack.kafka.groupOffsets(`connect-${bundle.connector}`, bundle.topic);
      console.log(
        `[faults] dynamodb sink exactly-once kill -9, offset.storage=kafka, 1 task, ${PARTITIONS} partitions x ` +
          `${PER_PARTITION}, max.poll.records=${MAX_POLL}: seed=${seed} ${describeKills(report)}; ` +
          `transactions recorded ${txns.length}: answered 200 ${chains.answered}, refused ${chains.refused}, ` +
          `in flight at a kill ${txns.filter((t) => t.status === undefined).length} (applied ${chains.inferred}, ` +
          `not applied ${chains.unappliedInFlight}); chain links per partition ${chains.links.join('/')}; ` +
          `records in exactly one committed transaction ${once}/${copies.length}, in none ${never}, in more ` +
          `${more}; items ${items.length} (bad ${badItems.length}); EOS offsets ${stored.join('/')}; group ` +
          `offsets ${[...group.values()].join('/')}; problems ${chains.problems.length}; ` +
          `${Math.round((Date.now() - started) / 1000)} s; rounds ${report.trace.join(' ')}`,
      );

      expect(report.failures).toEqual([]);
      expect(report.kills).toBeGreaterThanOrEqual(KILLS);
      expect(report.targeted['TransactWriteItems-sent'] ?? 0).toBeGreaterThan(0);
      expect(chains.problems).toEqual([]);
      expect({ once, never, more }).toEqual({ once: PARTITIONS * PER_PARTITION, never: 0, more: 0 });
      expect(badItems).toEqual([]);
      expect(items.length).toBe(PARTITIONS * PER_PARTITION);
      expect(stored).toEqual(Array.from({ length: PARTITIONS }, () => PER_PARTITION));
    } finally {
      rmSync(txnFile, { force: true });
    }
  });
});
