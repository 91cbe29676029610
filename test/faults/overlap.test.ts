/**
 * Overlapping invocations of one task, and zombies (issue 3, "Reliability"):
 *
 * - two invocations of the same task started together: exactly-once → no duplicates, the older one is
 *   fenced; DynamoDB lease → the older one's commit is refused, nothing is lost;
 * - a zombie: an invocation frozen (SIGSTOP) mid-run — mid-transaction, between batches, or with its
 *   commit in flight — while a newer invocation runs and commits, then continued (SIGCONT). Exactly-once:
 *   the zombie commits nothing (summary `fenced`, or it dies) and no record is duplicated; DynamoDB: its
 *   offset write is refused (`fenced`) and the stored offset stays the newer invocation's.
 *
 * The zombie freezes itself at an exact point of the cycle through the phase probe (FAULT_STOP_AT).
 */
import { afterAll, beforeAll, describe, type ExpectStatic, it } from 'vitest';
import { describeOutcome, type InvocationOutcome, runInvocation } from './support/invocation.ts';
import { runToCompletion } from './support/kill-rounds.ts';
import {
  checkTransactionFencing,
  type ZombieRound as StoreZombieRound,
  stopReasonOf,
  zombieRound as storeZombieRound,
  transactionPair,
} from './support/overlap.ts';
import {
  FaultStack,
  type Guarantee,
  type ScenarioBundle,
  type TaskTally,
  tally,
} from './support/scenario.ts';

const BATCH = 20;
const PER_INVOCATION = 400;
const PAIRS = 3;

let stack: FaultStack;

beforeAll(async () => {
  stack = await FaultStack.open();
});

afterAll(async () => {
  await stack?.close();
});

async function newBundle(guarantee: Guarantee, prefix: string): Promise<ScenarioBundle> {
  return stack.bundle({
    guarantee,
    prefix,
    connector: {
      'tasks.max': 1,
      iterations: 4_000,
      'batch.size': BATCH,
      'invocation.max.records': PER_INVOCATION,
    },
  });
}

function run(bundle: ScenarioBundle) {
  return { bundle: bundle.dir, connector: bundle.connector, task: 0, env: stack.childEnv };
}

function sequenceOf(outcome: InvocationOutcome): number | undefined {
  const offset = outcome.summaries[0]?.committed[0]?.offset?.sequence;
  return typeof offset === 'number' ? offset : undefined;
}

async function completeAndTally(bundle: ScenarioBundle, failures: string[]): Promise<TaskTally> {
  await runToCompletion(stack, bundle, failures);
  const [t] = tally(await stack.readTopic(bundle.topic), bundle.expectedPerTask());
  return t!;
}

/** Starts PAIRS pairs of invocations of task 0, both of a pair at once; returns their outcomes. */
async function overlappingPairs(bundle: ScenarioBundle): Promise<InvocationOutcome[][]> {
  const pairs: InvocationOutcome[][] = [];
  for (let i = 0; i < PAIRS; i++) {
    pairs.push(await Promise.all([runInvocation(run(bundle)), runInvocation(run(bundle))]));
  }
  return pairs;
}

type ZombieRound = StoreZombieRound<number | undefined>;

/** Freezes an invocation at `stopAt`, runs a newer one to its end, thaws the zombie. */
function zombieRound(bundle: ScenarioBundle, stopAt: string): Promise<ZombieRound> {
  return storeZombieRound(run(bundle), stopAt, () => stack.committedSequence(bundle, 0));
}

function describeZombie(r: ZombieRound): string {
  return (
    `[${r.stopAt}: zombie ${stopReasonOf(r.zombie)} (committed ${sequenceOf(r.zombie) ?? 'nothing'} before the freeze), ` +
    `frozen ${r.frozenMs} ms; newer ${stopReasonOf(r.newer)} committed ${sequenceOf(r.newer)}; ` +
    `stored ${r.storedAfterNewer} -> ${r.storedAfterZombie} after the zombie]`
  );
}

function checkNewer(expect: ExpectStatic, r: ZombieRound): void {
  expect(r.newer.code, describeOutcome(r.newer)).toBe(0);
  expect(r.newer.summaries[0]?.stopReason, describeOutcome(r.newer)).toBe('max-records');
  expect(r.storedAfterNewer).toBe(sequenceOf(r.newer));
  // The zombie's thaw changed nothing in the store.
  expect(r.storedAfterZombie, describeZombie(r)).toBe(r.storedAfterNewer);
}

// Each test has its own connector and topic; they only wait on children, so they run side by side.
describe.concurrent('two overlapping invocations of one task', () => {
  it('exactly-once: no duplicates; an overlapped invocation is fenced, not failed', async ({ expect }) => {
    const bundle = await newBundle('exactly-once', 'overlap-eos');
    const pairs = await overlappingPairs(bundle);
    const failures: string[] = [];
    const t = await completeAndTally(bundle, failures);
    const reasons = pairs.map((p) => p.map(stopReasonOf).join('+'));
    const brokers = pairs.map(transactionPair);
    const fenced = pairs.flat().filter((o) => o.summaries[0]?.stopReason === 'fenced').length;
    console.log(
      `[faults] overlapping pairs, exactly-once: ${PAIRS} pairs started together, stop reasons ` +
        `${reasons.join(', ')}; ${fenced} fenced; after completion ${t.records} records, ` +
        `${t.distinct}/${t.expected} distinct, ${t.missing} missing, ${t.duplicates} duplicates; broker: ` +
        `${brokers.map((b) => b.timeline).join(' ')}`,
    );

    expect(failures).toEqual([]);
    for (const outcome of pairs.flat()) {
      expect(outcome.code, describeOutcome(outcome)).toBe(0);
      expect(['max-records', 'idle', 'fenced']).toContain(outcome.summaries[0]?.stopReason);
    }
    // The broker's answers: only the older epoch is refused, and it says so (no timestamps compared).
    for (const broker of brokers) checkTransactionFencing(expect, broker);
    // The data: read_committed, every record exactly once.
    expect({ missing: t.missing, duplicates: t.duplicates, unexpected: t.unexpected }).toEqual({
      missing: 0,
      duplicates: 0,
      unexpected: 0,
    });
  });

  it('at-least-once (DynamoDB lease): nothing lost; the older one is fenced, at most a batch duplicated', async ({
    expect,
  }) => {
    const bundle = await newBundle('at-least-once', 'overlap-alo');
    const pairs = await overlappingPairs(bundle);
    const failures: string[] = [];
    const t = await completeAndTally(bundle, failures);
    const reasons = pairs.map((p) => p.map(stopReasonOf).join('+'));
    const fenced = pairs.flat().filter((o) => o.summaries[0]?.stopReason === 'fenced').length;
    console.log(
      `[faults] overlapping pairs, at-least-once (DynamoDB lease): ${PAIRS} pairs started together, ` +
        `stop reasons ${reasons.join(', ')}; ${fenced} fenced; after completion ${t.records} ` +
        `records, ${t.distinct}/${t.expected} distinct, ${t.missing} missing, ${t.duplicates} duplicates ` +
        `(bound ${fenced} x ${BATCH})`,
    );

    expect(failures).toEqual([]);
    for (const outcome of pairs.flat()) {
      expect(outcome.code, describeOutcome(outcome)).toBe(0);
      expect(['max-records', 'idle', 'fenced']).toContain(outcome.summaries[0]?.stopReason);
    }
    // The data: nothing lost; only a fenced one's last, uncommitted batch is sent again.
    expect({ missing: t.missing, unexpected: t.unexpected }).toEqual({ missing: 0, unexpected: 0 });
    expect(t.duplicates).toBeLessThanOrEqual(fenced * BATCH);
  });
});

describe.concurrent('a zombie (SIGSTOP mid-run, a newer invocation commits, SIGCONT)', () => {
  it('exactly-once: the zombie commits nothing and no record is duplicated', async ({ expect }) => {
    const bundle = await newBundle('exactly-once', 'zombie-eos');
    const rounds: ZombieRound[] = [];
    for (const stopAt of [
      'after:kreq:Produce:3', // mid-transaction: records and offsets sent, not committed
      'before:kreq:AddPartitionsToTxn:4', // between batches: polled, nothing sent yet
      'after:kreq:EndTxn:3', // its commit in flight
    ]) {
      rounds.push(await zombieRound(bundle, stopAt));
    }
    const failures: string[] = [];
    const t = await completeAndTally(bundle, failures);
    console.log(
      `[faults] zombies, exactly-once: ${rounds.map(describeZombie).join(' ')}; after completion ` +
        `${t.records} records, ${t.distinct}/${t.expected} distinct, ${t.missing} missing, ${t.duplicates} duplicates`,
    );

    for (const r of rounds) {
      checkNewer(expect, r);
      const reason = r.zombie.summaries[0]?.stopReason;
      // Fenced, or dead without a summary: either way it committed nothing after the freeze.
      if (reason !== undefined) expect(reason, describeOutcome(r.zombie)).toBe('fenced');
      else expect(r.zombie.code, describeOutcome(r.zombie)).not.toBe(0);
    }
    expect(failures).toEqual([]);
    expect({ missing: t.missing, duplicates: t.duplicates, unexpected: t.unexpected }).toEqual({
      missing: 0,
      duplicates: 0,
      unexpected: 0,
    });
  });

  it("at-least-once (DynamoDB lease): the zombie's offset write is refused; the newer one's offsets stay", async ({
    expect,
  }) => {
    const bundle = await newBundle('at-least-once', 'zombie-alo');
    const rounds: ZombieRound[] = [];
    for (const stopAt of [
      'after:kreq:Produce:3', // records sent, their offsets not yet committed
      'before:kreq:Produce:4', // between batches: polled, nothing sent yet
      'after:hreq:TransactWriteItems:3', // its commit in flight
    ]) {
      rounds.push(await zombieRound(bundle, stopAt));
    }
    const failures: string[] = [];
    const t = await completeAndTally(bundle, failures);
    console.log(
      `[faults] zombies, at-least-once (DynamoDB lease): ${rounds.map(describeZombie).join(' ')}; after ` +
        `completion ${t.records} records, ${t.distinct}/${t.expected} distinct, ${t.missing} missing, ` +
        `${t.duplicates} duplicates (bound ${rounds.length} x ${BATCH})`,
    );

    for (const r of rounds) {
      checkNewer(expect, r);
      expect(r.zombie.summaries[0]?.stopReason, describeOutcome(r.zombie)).toBe('fenced');
      expect(r.zombie.summaries[0]?.error?.code).toBe('CONNECT_FN_FENCED');
    }
    expect(failures).toEqual([]);
    expect({ missing: t.missing, unexpected: t.unexpected }).toEqual({ missing: 0, unexpected: 0 });
    expect(t.duplicates).toBeLessThanOrEqual(rounds.length * BATCH);
  });
});
