/**
 * Overlapping and zombie invocations of one scheduled sink task (issue 3, "Reliability"), with the sink's
 * offsets in Kafka Connect's group (`connect-<name>`, committed in transactions of the task's transactional
 * producer, whose InitProducerId fences the older invocations) and in DynamoDB (under the task's lease):
 *
 * - two invocations started together: both end cleanly; the stored offsets are the last commit of an
 *   unfenced one; of what the pair wrote, at most one batch (`max.poll.records`) per fenced invocation is
 *   written again — none when neither was fenced. With offsets in Kafka, the broker's answers (read by the
 *   probe, no timestamps) show the fencing too: the newer epoch is never refused, and the older invocation
 *   reports `fenced` exactly when the broker refused one of its requests as fenced;
 * - a zombie: an invocation frozen (SIGSTOP, by the phase probe) after it has put something — with a put
 *   not yet flushed, inside the fdatasync, or at a point of its commit — while a newer invocation runs to
 *   its end and commits, then continued (SIGCONT). The newer one commits; the zombie's commit is refused
 *   (FencedError → stopReason "fenced") and the stored offsets stay the newer one's.
 *
 * Throughout, after every pair and at every step of a zombie round: the committed offsets never go
 * backwards and never pass a record that is not in the sink's file. After a run to completion the file
 * holds every record.
 */
import { afterAll, beforeAll, describe, type ExpectStatic, it } from 'vitest';
import { describeOutcome, type InvocationOutcome, runInvocation } from './support/invocation.ts';
import { runToCompletion } from './support/kill-rounds.ts';
import {
  checkTransactionFencing,
  stopReasonOf,
  transactionPair,
  type ZombieRound,
  zombieRound,
} from './support/overlap.ts';
import { FaultStack } from './support/scenario.ts';
import {
  describeSinkTallies,
  formatOffsets,
  produceSequences,
  SINK_FILE,
  type SinkBundle,
  SinkObserver,
  type SinkStorage,
  type SinkTally,
  sinkBundle,
} from './support/sink-scenario.ts';

const MAX_POLL = 20;
const PER_INVOCATION = 300;
const PER_PARTITION = 2_000;
const PARTITIONS = 2;
const PAIRS = 3;

let stack: FaultStack;

beforeAll(async () => {
  stack = await FaultStack.open();
});

afterAll(async () => {
  await stack?.close();
});

async function newSink(storage: SinkStorage, prefix: string) {
  const bundle = await sinkBundle(stack, {
    storage,
    prefix,
    tasks: 1,
    partitions: PARTITIONS,
    maxPollRecords: MAX_POLL,
    connector: { 'invocation.max.records': PER_INVOCATION },
  });
  await produceSequences(stack, bundle, PER_PARTITION);
  return { bundle, observer: new SinkObserver(stack, bundle, PER_PARTITION) };
}

/** The offsets an invocation's summary says it committed last, per partition (undefined: none). */
function committedBy(outcome: InvocationOutcome): (number | undefined)[] {
  const out: (number | undefined)[] = Array.from({ length: PARTITIONS }, () => undefined);
  for (const { partition, offset } of outcome.summaries[0]?.committed ?? []) {
    out[Number(partition.kafka_partition)] = Number(offset?.kafka_offset);
  }
  return out;
}

async function complete(
  bundle: SinkBundle,
  observer: SinkObserver,
  failures: string[],
): Promise<SinkTally[]> {
  await runToCompletion(stack, bundle, failures, {
    connector: { 'invocation.max.records': 1_000_000 },
    worker: { 'consumer.max.poll.records': 500 },
    afterInvocation: async ({ label }) => {
      await observer.observe(label);
    },
  });
  return observer.tally();
}

function checkFile(expect: ExpectStatic, observer: SinkObserver, tallies: readonly SinkTally[]): void {
  expect(observer.problems).toEqual([]);
  expect(observer.corrupt).toEqual([]);
  for (const t of tallies) {
    expect({ partition: t.partition, missing: t.missing, unexpected: t.unexpected }).toEqual({
      partition: t.partition,
      missing: 0,
      unexpected: 0,
    });
  }
}

interface Pair {
  readonly label: string;
  readonly outcomes: readonly InvocationOutcome[];
  /** The committed offsets once both had ended. */
  readonly stored: readonly (number | undefined)[];
}

const fencedIn = (outcomes: readonly InvocationOutcome[]) =>
  outcomes.filter((o) => stopReasonOf(o) === 'fenced').length;

async function overlappingPairs(expect: ExpectStatic, storage: SinkStorage): Promise<void> {
  const { bundle, observer } = await newSink(storage, `sink-overlap-${storage}`);
  const run = bundle.invocation(stack);
  const pairs: Pair[] = [];
  for (let i = 0; i < PAIRS; i++) {
    const outcomes = await Promise.all([runInvocation(run), runInvocation(run)]);
    pairs.push({ label: `pair ${i}`, outcomes, stored: await observer.observe(`pair ${i}`) });
  }
  const failures: string[] = [];
  const tallies = await complete(bundle, observer, failures);
  // Of each pair's lines, those written again later (by the pair itself or after it).
  const rewritten = new Map(observer.attribution().map((a) => [a.label, a.redelivered]));
  const brokers = storage === 'kafka' ? pairs.map((p) => transactionPair(p.outcomes)) : undefined;
  const fenced = pairs.reduce((n, p) => n + fencedIn(p.outcomes), 0);
  const duplicates = tallies.reduce((n, t) => n + t.duplicates, 0);
  console.log(
    `[faults] sink overlapping pairs, offset.storage=${storage}: ${PAIRS} pairs started together, stop ` +
      `reasons ${pairs.map((p) => p.outcomes.map(stopReasonOf).join('+')).join(', ')}; ${fenced} fenced; ` +
      `lines written again per pair ${pairs.map((p) => rewritten.get(p.label) ?? 0).join(' ')}; stored after ` +
      `each pair ${pairs.map((p) => formatOffsets(p.stored)).join(' ')}; after completion ` +
      `${describeSinkTallies(tallies)}; duplicates ${duplicates} (bound ${fenced} fenced x ${MAX_POLL}); ` +
      `problems ${observer.problems.length}${brokers ? `; broker: ${brokers.map((b) => b.timeline).join(' ')}` : ''}`,
  );

  expect(failures).toEqual([]);
  pairs.forEach(({ label, outcomes, stored }, i) => {
    for (const outcome of outcomes) {
      expect(outcome.code, describeOutcome(outcome)).toBe(0);
      expect(['max-records', 'idle', 'fenced']).toContain(stopReasonOf(outcome));
      if (stopReasonOf(outcome) === 'fenced') {
        expect(outcome.summaries[0]?.error?.code, describeOutcome(outcome)).toBe('CONNECT_FN_FENCED');
      }
    }
    const broker = brokers?.[i];
    if (broker !== undefined) checkTransactionFencing(expect, broker);
    // The stored offsets are the last commit of an unfenced one: with Kafka, the newer epoch's.
    const last = broker ? [broker.newer.outcome] : outcomes.filter((o) => stopReasonOf(o) !== 'fenced');
    expect(last.map(committedBy), `${label}: ${broker?.timeline ?? ''}`).toContainEqual(stored);
    // Nothing a pair committed is written again: only a fenced one's last, uncommitted batch may be.
    expect(rewritten.get(label) ?? 0, `${label}: lines written again`).toBeLessThanOrEqual(
      fencedIn(outcomes) * MAX_POLL,
    );
  });
  checkFile(expect, observer, tallies);
  expect(duplicates).toBeLessThanOrEqual(fenced * MAX_POLL);
}

/** Where a zombie freezes: each after it has put something (its 3rd batch). */
function zombieStops(storage: SinkStorage): string[] {
  const file = [
    `after:fwritten:${SINK_FILE}:3`, // put, not flushed, not committed
    `after:fsync:${SINK_FILE}:3`, // inside the flush's fdatasync
  ];
  return storage === 'kafka'
    ? [
        ...file,
        'after:kres:AddOffsetsToTxn:3', // its transaction holds the group; offsets not yet sent
        'after:kreq:TxnOffsetCommit:3', // offsets sent in the transaction, not committed
        'after:kreq:EndTxn:3', // its commit in flight
      ]
    : [
        ...file,
        'before:hreq:TransactWriteItems:3', // flushed, commit not yet sent
        'after:hreq:TransactWriteItems:3', // its commit in flight
      ];
}

type Stored = readonly (number | undefined)[];

function describeZombie(r: ZombieRound<Stored>): string {
  return (
    `[${r.stopAt}: zombie ${stopReasonOf(r.zombie)} (${r.zombie.summaries[0]?.error?.code ?? 'no error'}), ` +
    `frozen ${r.frozenMs} ms; newer ${stopReasonOf(r.newer)} committed ${formatOffsets(committedBy(r.newer))}; ` +
    `stored ${formatOffsets(r.storedAtFreeze ?? [])} at the freeze -> ${formatOffsets(r.storedAfterNewer)} after ` +
    `the newer -> ${formatOffsets(r.storedAfterZombie)} after the zombie]`
  );
}

async function zombies(expect: ExpectStatic, storage: SinkStorage): Promise<void> {
  const { bundle, observer } = await newSink(storage, `sink-zombie-${storage}`);
  const rounds: ZombieRound<Stored>[] = [];
  for (const stopAt of zombieStops(storage)) {
    let step = 0;
    const steps = ['frozen', 'newer done', 'zombie done'];
    rounds.push(
      await zombieRound(
        bundle.invocation(stack),
        stopAt,
        () => observer.observe(`${stopAt} ${steps[step++]}`),
        {
          readAtFreeze: true,
        },
      ),
    );
  }
  const failures: string[] = [];
  const tallies = await complete(bundle, observer, failures);
  const duplicates = tallies.reduce((n, t) => n + t.duplicates, 0);
  console.log(
    `[faults] sink zombies, offset.storage=${storage}: ${rounds.map(describeZombie).join(' ')}; after ` +
      `completion ${describeSinkTallies(tallies)}; duplicates ${duplicates} (bound ${rounds.length} x ${MAX_POLL}); ` +
      `problems ${observer.problems.length}; offsets ${observer.samples.map((s) => s.split('=')[1]).join(' ')}`,
  );

  for (const r of rounds) {
    const what = describeZombie(r);
    // It had put something before it froze.
    const stopAt = r.zombie.events.findIndex((e) => e.kind === 'stop');
    expect(
      r.zombie.events.slice(0, stopAt).some((e) => e.kind === 'fwritten' && e.name === SINK_FILE),
      what,
    ).toBe(true);
    // The newer one commits ...
    expect(r.newer.code, describeOutcome(r.newer)).toBe(0);
    expect(r.newer.summaries[0]?.stopReason, describeOutcome(r.newer)).toBe('max-records');
    expect(r.storedAfterNewer, what).toEqual(committedBy(r.newer));
    // ... the zombie does not: its commit is refused and the stored offsets stay the newer one's.
    expect(r.zombie.code, describeOutcome(r.zombie)).toBe(0);
    expect(r.zombie.summaries[0]?.stopReason, describeOutcome(r.zombie)).toBe('fenced');
    expect(r.zombie.summaries[0]?.error?.code, describeOutcome(r.zombie)).toBe('CONNECT_FN_FENCED');
    expect(r.storedAfterZombie, what).toEqual(r.storedAfterNewer);
  }
  expect(failures).toEqual([]);
  checkFile(expect, observer, tallies);
  expect(duplicates).toBeLessThanOrEqual(rounds.length * MAX_POLL);
}

// Each test has its own connector and topic; they only wait on children, so they run side by side.
describe.concurrent('scheduled sink: two overlapping invocations of one task', () => {
  it('offset.storage=kafka: the broker fences the older one; offsets never go backwards; nothing lost', async ({
    expect,
  }) => {
    await overlappingPairs(expect, 'kafka');
  });

  it('offset.storage=dynamodb: the lease fences the older one; offsets never go backwards; nothing lost', async ({
    expect,
  }) => {
    await overlappingPairs(expect, 'dynamodb');
  });
});

describe.concurrent('scheduled sink: a zombie (SIGSTOP after a put, a newer invocation commits, SIGCONT)', () => {
  it("offset.storage=kafka: the zombie's commit is refused (fenced); offsets never go backwards; nothing lost", async ({
    expect,
  }) => {
    await zombies(expect, 'kafka');
  });

  it("offset.storage=dynamodb: the zombie's commit is refused (fenced); offsets never go backwards; nothing lost", async ({
    expect,
  }) => {
    await zombies(expect, 'dynamodb');
  });
});
