/**
 * DynamoDB Local restarted during a scheduled DynamoDB sink run (issue 5, "Reliability"): the test starts
 * its own DynamoDB Local with `-dbPath` on a free port (./support/restartable-dynamodb.ts), and while the
 * sink function (createSinkFunction, in-process, one cold start for every invocation of a scenario) writes a
 * fresh 2-partition topic of records `{"p":<partition>,"seq":<n>}` (the record at offset n carries seq n)
 * into a fresh table keyed by the record's partition and offset, crashes it at the K-th write request
 * (BatchWriteItem, or TransactWriteItems for exactly-once): SIGSTOP as the request is handed to the SDK,
 * SIGKILL a second later, so the request is in flight when DynamoDB Local dies and the client sees its
 * connection reset; then starts it again on the same port and `-dbPath`. Both delivery guarantees, offsets
 * in Kafka (group `connect-<name>`; exactly-once also the `#eos#` offset items in the restarted DynamoDB).
 *
 * Two outages:
 * - one that outlasts the invocation (down until the invocation has returned): the invocation fails
 *   cleanly — it throws InvocationFailedError within its timeout, before its hard deadline, with the
 *   DynamoDB write error of the put (code CONNECT_FN_TASK_PUT, stage TASK_PUT, the message naming DynamoDB
 *   and the partition and offsets it could not write);
 * - a short one (down ~2 s, then the time DynamoDB Local takes to start): the invocation rides it out —
 *   the writers retry lost connections until the deadline — and ends idle with every record. (This test
 *   found that a reset connection, which the SDK names TimeoutError, was taken for the deadline and failed
 *   the put at once.)
 *
 * What must hold, besides:
 * - no unhandled rejection in the test process;
 * - every write DynamoDB Local acknowledged before the kill is in the table after the restart (`-dbPath`);
 * - right after the outage: the committed group offsets (and, exactly-once, the `#eos#` offset items) never
 *   pass a record whose item is not in the table; exactly-once, a partition's items are exactly the records
 *   below its offset item (items and offset move together);
 * - then invocations until one ends idle, each without error: every record's item exists with its value and
 *   nothing else is in the table; the group offsets (and the offset items) are at the end of the topic;
 *   exactly-once, every record is in exactly one committed transaction (the transactions recorded by a
 *   wrapper of the SDK client's `send`, chained per partition by the offset item's condition; a request
 *   whose answer was lost to the kill is taken as applied when the chain went on from its offset without
 *   another one).
 *
 * FAULTS_SEED=<n> replays the kill points.
 */
import {
  type AttributeValue,
  BatchWriteItemCommand,
  type BatchWriteItemCommandOutput,
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, type ExpectStatic, it } from 'vitest';
import { InvocationFailedError } from '../../handlers/function-common.ts';
import { createSinkFunction, type SinkFunction } from '../../handlers/sink-function.ts';
import { eosOffsetKey } from '../../src/connectors/dynamodb/transaction-writer.ts';
import { localContext } from '../../src/lambda/lambda-context.ts';
import { offsetsTableDefinition } from '../../src/offsets/index.ts';
import type { InvocationSummary } from '../../src/runtime/summary.ts';
import { localAws } from '../stack/env.ts';
import { scanItems } from '../support/dynamodb-scan.ts';
import { RestartableDynamoDb } from './support/restartable-dynamodb.ts';
import { BundleDir, FaultStack, scenarioSeed, seededRandom, WORKER_COMMON } from './support/scenario.ts';
import { produceSequences } from './support/sink-scenario.ts';

const PARTITIONS = 2;
const PER_PARTITION = 2_000;
const RECORDS = PARTITIONS * PER_PARTITION;
/** `consumer.max.poll.records`: one write request per put (at-least-once: 20 items < 25 per BatchWriteItem). */
const MAX_POLL = 20;
/** The kill lands at one of these write requests (of ~200): a few hundred items are in the table by then. */
const KILL_AT_WRITES = [8, 30] as const;
/**
 * Frozen (SIGSTOP) this long before the SIGKILL: the request is on the wire (in the kernel's buffers of a
 * JVM that answers nothing) when DynamoDB Local dies, also on a loaded machine.
 */
const FREEZE_MS = 1_000;
/**
 * The armed write waits this long before the freeze. DynamoDB Local acknowledges a TransactWriteItems
 * before it is durable: SIGKILLed right after the answer, it lost the transaction in 2 of 3 tries, never
 * after 50 ms or more (PutItem: never). Real DynamoDB does not; the scenario is about the function.
 */
const QUIET_MS = 300;
/**
 * The failing invocation's function timeout: reading (and the writers' retries) stop at 20 s (5 s safety
 * margin), the hard deadline is at 22.5 s; the crash lands within the first few seconds.
 */
const FAILING_TIMEOUT_MS = 25_000;
/** The outage it rides out: down this long, then the time DynamoDB Local takes to answer again. */
const SHORT_OUTAGE_MS = 2_000;
const RIDE_OUT_TIMEOUT_MS = 90_000;
const FOLLOW_UP_TIMEOUT_MS = 60_000;
const MAX_FOLLOW_UPS = 5;

type Guarantee = 'at-least-once' | 'exactly-once';

let stack: FaultStack;
let ddb: RestartableDynamoDb;
let client: DynamoDBClient;
let probe: WriteProbe;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  stack = await FaultStack.open();
  ddb = await RestartableDynamoDb.start((line) => process.stderr.write(`[ddb] ${line}\n`));
  client = new DynamoDBClient({ ...localAws, endpoint: ddb.endpoint });
  probe = new WriteProbe();
  probe.install();
});

afterAll(async () => {
  probe?.uninstall();
  client?.destroy();
  await ddb?.stop();
  await stack?.close();
  process.off('unhandledRejection', onUnhandled);
});

/** A scheduled dynamodb-sink bundle, one task reading both partitions, offsets in Kafka. */
class RestartBundle extends BundleDir {
  readonly partitions = PARTITIONS;

  constructor(guarantee: Guarantee, table: string, offsetsTable: string) {
    super(`ddb-restart-${guarantee === 'exactly-once' ? 'eos' : 'alo'}`, ({ topic }) => ({
      worker: { ...WORKER_COMMON, 'offset.storage': 'kafka', 'consumer.max.poll.records': MAX_POLL },
      connector: {
        'connector.class': 'dynamodb-sink',
        topics: topic,
        'table.name.format': table,
        'aws.dynamodb.endpoint': '${env:DYNAMODB_ENDPOINT}',
        'aws.dynamodb.pk.hash': 'partition',
        'aws.dynamodb.pk.sort': 'offset',
        'delivery.guarantee': guarantee,
        ...(guarantee === 'exactly-once' ? { 'exactly.once.offsets.table': offsetsTable } : {}),
        'tasks.max': 1,
        schedule: 'rate(1 minute)',
      },
    }));
  }
}

/** One TransactWriteItems the function sent, and what became of it. */
interface Txn {
  readonly partition: number;
  /** `:expected` of the offset item's condition; null for the first (`attribute_not_exists`). */
  readonly expected: number | null;
  readonly next: number;
  readonly puts: readonly { partition: number; offset: number; p: number; seq: number }[];
  /** committed: answered 200; refused: cancelled (not applied); unknown: no answer (the kill). */
  outcome?: 'committed' | 'refused' | 'unknown';
}

/**
 * Wraps `DynamoDBClient.prototype.send` in this process (the function's client is made inside the
 * connector, out of a test's reach): counts write requests, runs the armed action before the armed one
 * (after {@link QUIET_MS}), records the items of answered writes and every transaction with its outcome.
 * Passes every call through unchanged.
 */
class WriteProbe {
  writes = 0;
  readonly txns: Txn[] = [];
  /** `partition:offset` of the items of writes DynamoDB answered with success. */
  readonly acknowledged = new Set<string>();
  #armed: { readonly at: number; readonly fire: () => void } | undefined;
  #original: PropertyDescriptor | undefined;

  install(): void {
    this.#original = Object.getOwnPropertyDescriptor(DynamoDBClient.prototype, 'send');
    const send = DynamoDBClient.prototype.send as (...args: unknown[]) => Promise<unknown>;
    const probe = this;
    DynamoDBClient.prototype.send = function probedSend(this: DynamoDBClient, ...args: unknown[]) {
      const command = args[0];
      if (!(command instanceof BatchWriteItemCommand || command instanceof TransactWriteItemsCommand)) {
        return send.apply(this, args);
      }
      const fire = probe.#count();
      const sent = () => {
        const answer = send.apply(this, args);
        probe.#observe(command, answer);
        return answer;
      };
      if (fire === undefined) return sent();
      // The armed write: held for a quiet spell (what DynamoDB Local acknowledged becomes durable), then
      // `fire` (the freeze), then handed to the SDK.
      return new Promise((resolve) => setTimeout(resolve, QUIET_MS)).then(() => {
        fire();
        return sent();
      });
    } as DynamoDBClient['send'];
  }

  uninstall(): void {
    if (this.#original === undefined) delete (DynamoDBClient.prototype as { send?: unknown }).send;
    else Object.defineProperty(DynamoDBClient.prototype, 'send', this.#original);
  }

  /** Calls `fire` before the `n`-th write request from now is handed to the SDK. */
  arm(n: number, fire: () => void): void {
    this.#armed = { at: this.writes + n, fire };
  }

  get armed(): boolean {
    return this.#armed !== undefined;
  }

  disarm(): void {
    this.#armed = undefined;
  }

  /** Forgets what it saw (a new scenario: new table, new topic). */
  reset(): void {
    this.disarm();
    this.writes = 0;
    this.txns.length = 0;
    this.acknowledged.clear();
  }

  #observe(command: BatchWriteItemCommand | TransactWriteItemsCommand, answer: Promise<unknown>): void {
    if (command instanceof BatchWriteItemCommand) {
      const items = Object.values(command.input.RequestItems ?? {}).flatMap((requests) =>
        requests.map((r) => itemId(r.PutRequest?.Item)),
      );
      answer.then(
        (out) => {
          const unprocessed = (out as BatchWriteItemCommandOutput).UnprocessedItems ?? {};
          if (Object.keys(unprocessed).length === 0) for (const id of items) this.acknowledged.add(id);
        },
        () => undefined,
      );
    } else {
      const txn = parseTxn(command);
      this.txns.push(txn);
      answer.then(
        () => {
          txn.outcome = 'committed';
          for (const put of txn.puts) this.acknowledged.add(`${put.partition}:${put.offset}`);
        },
        (err: unknown) => {
          txn.outcome = (err as Error).name === 'TransactionCanceledException' ? 'refused' : 'unknown';
        },
      );
    }
  }

  /** Counts a write request; the armed action when it is the armed one. */
  #count(): (() => void) | undefined {
    this.writes++;
    const armed = this.#armed;
    if (armed === undefined || this.writes < armed.at) return undefined;
    this.#armed = undefined;
    return armed.fire;
  }
}

const itemId = (item: Record<string, AttributeValue> | undefined) =>
  `${item?.partition?.N}:${item?.offset?.N}`;

function parseTxn(command: TransactWriteItemsCommand): Txn {
  const actions = command.input.TransactItems ?? [];
  const update = actions[actions.length - 1]?.Update;
  const values = update?.ExpressionAttributeValues ?? {};
  const sk = update?.Key?.sk?.S ?? '';
  return {
    partition:
      (JSON.parse(sk.slice('#eos#'.length) || '{}') as { kafka_partition?: number }).kafka_partition ?? -1,
    expected: values[':expected']?.N === undefined ? null : Number(values[':expected'].N),
    next: Number(values[':next']?.N),
    puts: actions.flatMap((a) => {
      const item = a.Put?.Item;
      if (item === undefined) return [];
      const n = (name: string) => Number(item[name]?.N);
      return [{ partition: n('partition'), offset: n('offset'), p: n('p'), seq: n('seq') }];
    }),
  };
}

interface ChainCheck {
  /** Per partition: the transactions of its chain, and how many of them were taken unanswered. */
  readonly links: number[];
  inferred: number;
  /** Per record: in how many chain links it is. */
  readonly copies: number[];
  readonly problems: string[];
}

/**
 * Each partition's committed transactions from no offset item to `PER_PARTITION`: at each offset, the one
 * answered 200 from there, or else (the offset moved on without one) the unanswered one from there. Two
 * committed from one offset, a gap, a link whose puts are not exactly its records, or a committed one off
 * the chain is a problem.
 */
function checkChains(txns: readonly Txn[]): ChainCheck {
  const check: ChainCheck = { links: [], inferred: 0, copies: Array(RECORDS).fill(0), problems: [] };
  const onChain = new Set<Txn>();
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const all = txns.filter((t) => t.partition === partition);
    let at: number | null = null;
    let links = 0;
    while (at !== PER_PARTITION) {
      const from = all.filter((t) => t.expected === at);
      const committed = from.filter((t) => t.outcome === 'committed');
      const unknown = from.filter((t) => t.outcome === 'unknown' || t.outcome === undefined);
      if (committed.length > 1)
        check.problems.push(`p${partition}: ${committed.length} committed from ${at}`);
      let link = committed[0];
      if (link === undefined && new Set(unknown.map((t) => t.next)).size === 1) {
        link = unknown[0];
        check.inferred++;
      }
      if (link === undefined) {
        check.problems.push(
          `p${partition}: the chain stops at ${at} (${unknown.length} unanswered from there)`,
        );
        break;
      }
      onChain.add(link);
      links++;
      const start = at ?? 0;
      const offsets = link.puts.map((put) => put.offset).sort((a, b) => a - b);
      if (offsets.join() !== Array.from({ length: link.next - start }, (_, i) => start + i).join()) {
        check.problems.push(`p${partition}: ${at} -> ${link.next} puts ${offsets.join()}`);
      }
      for (const put of link.puts) {
        if (put.partition !== partition || put.p !== partition || put.seq !== put.offset) {
          check.problems.push(`p${partition}: wrong put ${JSON.stringify(put)}`);
        } else if (put.offset >= 0 && put.offset < PER_PARTITION) {
          check.copies[partition * PER_PARTITION + put.offset]!++;
        }
      }
      if (link.next <= start) break;
      at = link.next;
    }
    check.links.push(links);
  }
  for (const txn of txns) {
    if (txn.outcome === 'committed' && !onChain.has(txn)) {
      check.problems.push(`committed off the chain: p${txn.partition} ${txn.expected} -> ${txn.next}`);
    }
  }
  return check;
}

interface Tables {
  readonly table: string;
  readonly offsetsTable: string;
}

async function createTables(): Promise<Tables> {
  const suffix = Math.random().toString(36).slice(2, 10);
  const table = `faults-ddb-restart-${suffix}`;
  const offsetsTable = `faults-ddb-restart-eos-${suffix}`;
  await client.send(
    new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: [
        { AttributeName: 'partition', AttributeType: 'N' },
        { AttributeName: 'offset', AttributeType: 'N' },
      ],
      KeySchema: [
        { AttributeName: 'partition', KeyType: 'HASH' },
        { AttributeName: 'offset', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await client.send(new CreateTableCommand(offsetsTableDefinition(offsetsTable)));
  return { table, offsetsTable };
}

/** The items by partition: which offsets are there, and the items that are not a record's. */
function itemsByPartition(items: readonly Record<string, unknown>[]) {
  const offsets = Array.from({ length: PARTITIONS }, () => new Set<number>());
  const bad: string[] = [];
  for (const item of items) {
    const { partition, offset, p, seq } = item as Partial<Record<string, number>>;
    const ok =
      Number.isInteger(partition) &&
      Number.isInteger(offset) &&
      partition! >= 0 &&
      partition! < PARTITIONS &&
      offset! >= 0 &&
      offset! < PER_PARTITION &&
      p === partition &&
      seq === offset &&
      Object.keys(item).length === 4;
    if (ok) offsets[partition!]!.add(offset!);
    else bad.push(JSON.stringify(item));
  }
  return { offsets, bad };
}

async function eosOffsets(offsetsTable: string, connector: string, topic: string) {
  return Promise.all(
    Array.from({ length: PARTITIONS }, async (_, partition) => {
      const { Item } = await client.send(
        new GetItemCommand({
          TableName: offsetsTable,
          Key: eosOffsetKey(connector, { topic, partition }),
          ConsistentRead: true,
        }),
      );
      return Item?.kafka_offset?.N === undefined ? undefined : Number(Item.kafka_offset.N);
    }),
  );
}

async function groupOffsets(bundle: RestartBundle): Promise<(number | undefined)[]> {
  const group = await stack.kafka.groupOffsets(`connect-${bundle.connector}`, bundle.topic);
  return Array.from({ length: PARTITIONS }, (_, p) => group.get(p));
}

/** First record of partition `p` below `offset` with no item, if any. */
function firstMissingBelow(present: ReadonlySet<number>, offset: number | undefined): number | undefined {
  for (let o = 0; o < (offset ?? 0); o++) if (!present.has(o)) return o;
  return undefined;
}

interface Outcome {
  readonly summary?: InvocationSummary;
  readonly error?: unknown;
  readonly elapsedMs: number;
}

async function invoke(fn: SinkFunction, timeoutMs: number): Promise<Outcome> {
  const startedMs = Date.now();
  try {
    const summary = await fn.handler({ task: 0 }, localContext('ddb-restart', timeoutMs));
    return { summary, elapsedMs: Date.now() - startedMs };
  } catch (error) {
    return { error, elapsedMs: Date.now() - startedMs };
  }
}

function describeOutcome(o: Outcome): string {
  if (o.summary !== undefined) {
    return `${o.summary.stopReason} records=${o.summary.records} in ${o.elapsedMs} ms`;
  }
  const err = o.error as Error & { code?: string };
  return `threw ${err.name} (${err.code}) in ${o.elapsedMs} ms: ${err.message}`;
}

type Outage = 'outlasts-invocation' | 'short';

/** What the run under the outage did, and when. */
interface OutageRun {
  readonly first: Outcome;
  /** From the JVM's death to DynamoDB Local answering again. */
  readonly downForMs: number;
  /** Items of writes DynamoDB Local had acknowledged when it was frozen (then killed). */
  readonly acknowledgedAtKill: ReadonlySet<string>;
}

/**
 * Invokes `fn` and crashes DynamoDB Local at the run's `killAt`-th write request: SIGSTOP as the request
 * is handed to the SDK (it goes out to a JVM that answers nothing), SIGKILL {@link FREEZE_MS} later, so the
 * request is in flight when DynamoDB Local dies. Short outage: started again {@link SHORT_OUTAGE_MS} after
 * the JVM is gone, while the run goes on; otherwise started again once the run has returned.
 */
async function runWithOutage(fn: SinkFunction, outage: Outage, killAt: number): Promise<OutageRun> {
  let acknowledgedAtKill: ReadonlySet<string> = new Set();
  const killed = new Promise<void>((resolve) => {
    probe.arm(killAt, () => {
      ddb.freeze();
      acknowledgedAtKill = new Set(probe.acknowledged);
      setTimeout(() => {
        ddb.kill();
        resolve();
      }, FREEZE_MS);
    });
  });
  const running = invoke(fn, outage === 'short' ? RIDE_OUT_TIMEOUT_MS : FAILING_TIMEOUT_MS);
  const first = await Promise.race([running, killed.then(() => undefined)]);
  if (first !== undefined) {
    // The run ended first (not a scenario any more); a crash already begun is let finish.
    if (probe.armed) probe.disarm();
    else await killed;
    throw new Error(`the run ended before its ${killAt}-th write request: ${describeOutcome(first)}`);
  }
  await ddb.waitUntilDown();
  const downMs = Date.now();
  let upMs = 0;
  const restart = async () => {
    await ddb.restart();
    upMs = Date.now();
  };
  let restarted: Promise<void> = Promise.resolve();
  if (outage === 'short') {
    restarted = new Promise((resolve) => setTimeout(resolve, SHORT_OUTAGE_MS)).then(restart);
  }
  const outcome = await running;
  await restarted;
  if (outage === 'outlasts-invocation') await restart();
  return { first: outcome, downForMs: upMs - downMs, acknowledgedAtKill };
}

/** Invocations until one ends idle (or fails), at most {@link MAX_FOLLOW_UPS}. */
async function runUntilIdle(fn: SinkFunction): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  while (outcomes.length < MAX_FOLLOW_UPS) {
    const next = await invoke(fn, FOLLOW_UP_TIMEOUT_MS);
    outcomes.push(next);
    if (next.error !== undefined || next.summary?.stopReason === 'idle') break;
  }
  return outcomes;
}

/** The table and the offsets, read at one moment. */
interface Snapshot {
  readonly items: ReturnType<typeof itemsByPartition>;
  readonly count: number;
  readonly group: (number | undefined)[];
  /** Exactly-once: each partition's `#eos#` offset item. */
  readonly eos: (number | undefined)[];
}

async function snapshot(bundle: RestartBundle, guarantee: Guarantee, tables: Tables): Promise<Snapshot> {
  const all = await scanItems(client, tables.table);
  return {
    items: itemsByPartition(all),
    count: all.length,
    group: await groupOffsets(bundle),
    eos:
      guarantee === 'exactly-once'
        ? await eosOffsets(tables.offsetsTable, bundle.connector, bundle.topic)
        : [],
  };
}

const show = (values: readonly unknown[]) => values.map((v) => v ?? '-').join('/');

/** The outage run's failure: clean, within the timeout, naming DynamoDB and the records it could not put. */
function expectCleanFailure(expect: ExpectStatic, first: Outcome, topic: string): void {
  expect(first.error, describeOutcome(first)).toBeInstanceOf(InvocationFailedError);
  const failed = first.error as InvocationFailedError;
  expect(failed.summary.stopReason).toBe('error');
  // The put's own error, not the hard deadline's (CONNECT_FN_DEADLINE_EXCEEDED: a run that hung).
  expect(failed.summary.error).toMatchObject({ code: 'CONNECT_FN_TASK_PUT', stage: 'TASK_PUT' });
  expect(failed.summary.error?.message).toMatch(
    new RegExp(`^put failed for ${topic}-[01] offsets \\d+\\.\\.\\d+: dynamodb sink: `),
  );
}

/** Right after the outage: no offset past a missing item; exactly-once, items and offset items agree. */
function expectOffsetsCovered(expect: ExpectStatic, after: Snapshot, guarantee: Guarantee): void {
  expect(after.items.bad).toEqual([]);
  for (let p = 0; p < PARTITIONS; p++) {
    const present = after.items.offsets[p]!;
    expect(
      firstMissingBelow(present, after.group[p]),
      `p${p}: the group offset ${after.group[p]} is past a record without its item`,
    ).toBeUndefined();
    if (guarantee === 'exactly-once') {
      const eos = after.eos[p] ?? 0;
      expect(after.group[p] ?? 0).toBeLessThanOrEqual(eos);
      expect({ partition: p, items: present.size, missingBelow: firstMissingBelow(present, eos) }).toEqual({
        partition: p,
        items: eos,
        missingBelow: undefined,
      });
    }
  }
}

/** The end: every record's item with its value and nothing else, every offset at the end of the topic. */
function expectNothingLost(expect: ExpectStatic, end: Snapshot, chains: ChainCheck | undefined): void {
  expect(end.items.bad).toEqual([]);
  expect(end.items.offsets.map((s) => s.size)).toEqual(Array(PARTITIONS).fill(PER_PARTITION));
  expect(end.count).toBe(RECORDS);
  expect(end.group).toEqual(Array(PARTITIONS).fill(PER_PARTITION));
  if (chains === undefined) return;
  expect(end.eos).toEqual(Array(PARTITIONS).fill(PER_PARTITION));
  expect(chains.problems).toEqual([]);
  expect({
    once: chains.copies.filter((n) => n === 1).length,
    never: chains.copies.filter((n) => n === 0).length,
    more: chains.copies.filter((n) => n > 1).length,
  }).toEqual({ once: RECORDS, never: 0, more: 0 });
}

function describeTxns(txns: readonly Txn[], chains: ChainCheck): string {
  const count = (outcome: Txn['outcome']) => txns.filter((t) => t.outcome === outcome).length;
  return (
    `transactions ${txns.length} (committed ${count('committed')}, refused ${count('refused')}, ` +
    `unanswered ${count('unknown')}, taken as applied ${chains.inferred}), links ${chains.links.join('/')}, ` +
    `problems ${chains.problems.length}`
  );
}

async function restartScenario(expect: ExpectStatic, guarantee: Guarantee, outage: Outage): Promise<void> {
  const startedMs = Date.now();
  const seed = scenarioSeed();
  const killAt =
    KILL_AT_WRITES[0] + Math.floor(seededRandom(seed)() * (KILL_AT_WRITES[1] - KILL_AT_WRITES[0]));
  const tables = await createTables();
  const bundle = stack.track(new RestartBundle(guarantee, tables.table, tables.offsetsTable));
  await stack.kafka.createTopic(bundle.topic, PARTITIONS);
  await produceSequences(stack, bundle, PER_PARTITION);
  const logs: string[] = [];
  const fn = createSinkFunction({
    bundleDir: bundle.dir,
    connector: bundle.connector,
    env: { ...process.env, KAFKA_BROKERS: stack.kafka.brokers, DYNAMODB_ENDPOINT: ddb.endpoint },
    logSink: (line) => logs.push(line),
  });
  probe.reset();
  const unhandledBefore = unhandled.length;
  try {
    // Act: the run through the outage, then the runs after it
    const run = await runWithOutage(fn, outage, killAt);
    const after = await snapshot(bundle, guarantee, tables);
    const firstLogs = logs.splice(0);
    const followUps = await runUntilIdle(fn);
    const end = await snapshot(bundle, guarantee, tables);
    const chains = guarantee === 'exactly-once' ? checkChains(probe.txns) : undefined;
    const lost = [...run.acknowledgedAtKill].filter((id) => {
      const [p, o] = id.split(':').map(Number);
      return !after.items.offsets[p!]?.has(o!);
    });
    const retries = firstLogs.filter((l) => l.includes('dynamodb sink: retrying')).length;
    console.log(
      `[faults] dynamodb restart, ${guarantee}, outage ${outage}: seed=${seed} crash at write ${killAt}, ` +
        `down ${run.downForMs} ms (ready in ${ddb.readyMs.at(-1)} ms); first run ${describeOutcome(run.first)}; ` +
        `retry warnings ${retries}; acknowledged before the crash ${run.acknowledgedAtKill.size}, lost ` +
        `${lost.length}; after: items ${show(after.items.offsets.map((s) => s.size))}, group ${show(after.group)}` +
        `${guarantee === 'exactly-once' ? `, eos ${show(after.eos)}` : ''}; then ` +
        `${followUps.map(describeOutcome).join('; ')}; end: items ${end.count} (bad ${end.items.bad.length}), ` +
        `group ${show(end.group)}${chains === undefined ? '' : `, eos ${show(end.eos)}; ${describeTxns(probe.txns, chains)}`}` +
        `; ${Math.round((Date.now() - startedMs) / 1000)} s`,
    );
    const warnings = firstLogs.filter((l) => /"level":"(warn|error)"/.test(l));
    if (warnings.length > 0)
      console.log(`[faults] first run's warnings:\n${warnings.slice(0, 6).join('\n')}`);

    // Assess: the run under the outage
    expect(run.first.elapsedMs).toBeLessThan(outage === 'short' ? RIDE_OUT_TIMEOUT_MS : FAILING_TIMEOUT_MS);
    if (outage === 'outlasts-invocation') {
      expectCleanFailure(expect, run.first, bundle.topic);
    } else {
      expect(run.first.error, describeOutcome(run.first)).toBeUndefined();
      expect(run.first.summary).toMatchObject({ stopReason: 'idle', records: RECORDS });
      expect(retries).toBeGreaterThan(0);
    }
    expect(unhandled.slice(unhandledBefore)).toEqual([]);
    expect(lost, 'acknowledged writes missing after the restart (-dbPath)').toEqual([]);
    expectOffsetsCovered(expect, after, guarantee);
    // Assess: the runs after it, and the end state
    expect(followUps.filter((o) => o.error !== undefined).map(describeOutcome)).toEqual([]);
    expect(followUps.at(-1)?.summary?.stopReason).toBe('idle');
    expectNothingLost(expect, end, chains);
  } finally {
    probe.disarm();
    await fn.close();
    // A failed scenario may leave DynamoDB Local down: the next one needs it.
    if (!ddb.running) await ddb.restart();
  }
}

describe('scheduled DynamoDB sink: DynamoDB Local (-dbPath) killed and restarted on the same port during a run', () => {
  for (const guarantee of ['at-least-once', 'exactly-once'] as const) {
    it(`${guarantee}: an outage past the deadline fails the run cleanly with a DynamoDB write error; the next run completes, nothing lost`, async ({
      expect,
    }) => {
      await restartScenario(expect, guarantee, 'outlasts-invocation');
    });

    it(`${guarantee}: a short outage is ridden out by the run; nothing lost`, async ({ expect }) => {
      await restartScenario(expect, guarantee, 'short');
    });
  }
});
