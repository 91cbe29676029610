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
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, type ExpectStatic, it } from 'vitest';
import {
  describeOutcome,
  type InvocationOutcome,
  runInvocation,
  sleep,
  startInvocation,
  waitForEvents,
} from './support/invocation.ts';
import { runToCompletion } from './support/kill-rounds.ts';
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

function run(bundle: ScenarioBundle, extra: { stopAt?: string } = {}) {
  return { bundle: bundle.dir, connector: bundle.connector, task: 0, env: stack.childEnv, ...extra };
}

function stopReasonOf(outcome: InvocationOutcome): string {
  return outcome.summaries[0]?.stopReason ?? `no summary (exit ${outcome.code ?? outcome.signal})`;
}

function sequenceOf(outcome: InvocationOutcome): number | undefined {
  const offset = outcome.summaries[0]?.committed[0]?.offset?.sequence;
  return typeof offset === 'number' ? offset : undefined;
}

/** Whether the process is stopped (state T in /proc/<pid>/stat). */
function isStopped(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('T');
  } catch {
    return false;
  }
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

/**
 * When an invocation took the task over: its lease acquisition (DynamoDB), or the coordinator's answer to
 * its transactional InitProducerId (the first one after FindCoordinator), by which time the epoch is bumped
 * and an older producer fenced — even when the answer is CONCURRENT_TRANSACTIONS and is retried.
 */
function tookOverAt(o: InvocationOutcome, guarantee: Guarantee): number | undefined {
  if (guarantee === 'at-least-once')
    return o.events.find((e) => e.kind === 'hres' && e.name === 'UpdateItem')?.atMs;
  const coordinator = o.events.findIndex((e) => e.kind === 'kres' && e.name === 'FindCoordinator');
  if (coordinator < 0) return undefined;
  return o.events.slice(coordinator).find((e) => e.kind === 'kres' && e.name === 'InitProducerId')?.atMs;
}

/**
 * When an invocation last asked for something the takeover must refuse: exactly-once, any request of a
 * transaction (AddPartitionsToTxn, Produce, EndTxn); DynamoDB, an offset commit.
 */
function lastGuardedRequestAt(o: InvocationOutcome, guarantee: Guarantee): number | undefined {
  const guarded =
    guarantee === 'exactly-once'
      ? (kind: string, name: string) =>
          kind === 'kreq' && (name === 'AddPartitionsToTxn' || name === 'Produce' || name === 'EndTxn')
      : (kind: string, name: string) => kind === 'hreq' && name === 'TransactWriteItems';
  return o.events.filter((e) => guarded(e.kind, e.name)).at(-1)?.atMs;
}

/** Time stamps of two processes taken within this long of each other are not ordered. */
const CLOCK_SLACK_MS = 20;

/**
 * Whether the two invocations interleaved: each still made a guarded request (one a takeover must refuse)
 * after the other had taken the task. Then they cannot both have finished unfenced. Symmetric, so it does
 * not matter which took the task first when both did within a few milliseconds.
 */
function interleaving(pair: InvocationOutcome[], guarantee: Guarantee) {
  const [a, b] = pair as [InvocationOutcome, InvocationOutcome];
  const after = (x: InvocationOutcome, y: InvocationOutcome) =>
    (lastGuardedRequestAt(x, guarantee) ?? -Infinity) - (tookOverAt(y, guarantee) ?? Infinity);
  const interleaved = Math.min(after(a, b), after(b, a)) > CLOCK_SLACK_MS;
  const t0 = Math.min(a.spawnedAtMs, b.spawnedAtMs);
  const at = (ms: number | undefined) => (ms === undefined ? '-' : `+${ms - t0}`);
  const describe = (x: InvocationOutcome) =>
    `${stopReasonOf(x)}: took the task at ${at(tookOverAt(x, guarantee))} ms, last guarded request at ` +
    `${at(lastGuardedRequestAt(x, guarantee))}`;
  const reasons = pair.map(stopReasonOf);
  return { interleaved, reasons, timeline: `[${describe(a)}] [${describe(b)}]` };
}

interface ZombieRound {
  readonly stopAt: string;
  readonly zombie: InvocationOutcome;
  readonly newer: InvocationOutcome;
  readonly storedAfterNewer: number | undefined;
  readonly storedAfterZombie: number | undefined;
  readonly frozenMs: number;
}

/** Freezes an invocation at `stopAt`, runs a newer one to its end, thaws the zombie. */
async function zombieRound(bundle: ScenarioBundle, stopAt: string): Promise<ZombieRound> {
  const zombie = startInvocation(run(bundle, { stopAt }));
  const froze = await waitForEvents(zombie, (events) => events.some((e) => e.kind === 'stop'), 30_000);
  const pid = zombie.child.pid!;
  if (!froze) {
    zombie.signal('SIGKILL');
    throw new Error(`the zombie never reached ${stopAt}: ${describeOutcome(await zombie.done)}`);
  }
  while (!isStopped(pid)) await sleep(5);
  const frozenAt = Date.now();
  const newer = await runInvocation(run(bundle));
  const storedAfterNewer = await stack.committedSequence(bundle, 0);
  const frozenMs = Date.now() - frozenAt;
  zombie.signal('SIGCONT');
  const thawed = await Promise.race([zombie.done, sleep(60_000).then(() => undefined)]);
  if (thawed === undefined) {
    zombie.signal('SIGKILL');
    throw new Error(`the zombie (${stopAt}) hung after SIGCONT: ${describeOutcome(await zombie.done)}`);
  }
  const storedAfterZombie = await stack.committedSequence(bundle, 0);
  return { stopAt, zombie: thawed, newer, storedAfterNewer, storedAfterZombie, frozenMs };
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
    const orders = pairs.map((p) => interleaving(p, 'exactly-once'));
    const interleaved = orders.filter((o) => o.interleaved).length;
    const fenced = pairs.flat().filter((o) => o.summaries[0]?.stopReason === 'fenced').length;
    console.log(
      `[faults] overlapping pairs, exactly-once: ${PAIRS} pairs started together (${interleaved} interleaved), ` +
        `stop reasons ${reasons.join(', ')}; ${fenced} fenced; after completion ${t.records} records, ` +
        `${t.distinct}/${t.expected} distinct, ${t.missing} missing, ${t.duplicates} duplicates`,
    );

    expect(failures).toEqual([]);
    for (const outcome of pairs.flat()) {
      expect(outcome.code, describeOutcome(outcome)).toBe(0);
      expect(['max-records', 'idle', 'fenced']).toContain(outcome.summaries[0]?.stopReason);
    }
    for (const { reasons, timeline } of orders.filter((o) => o.interleaved)) {
      expect(reasons, `they interleaved, so one must have been fenced: ${timeline}`).toContain('fenced');
    }
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
    const orders = pairs.map((p) => interleaving(p, 'at-least-once'));
    const interleaved = orders.filter((o) => o.interleaved).length;
    console.log(
      `[faults] overlapping pairs, at-least-once (DynamoDB lease): ${PAIRS} pairs started together ` +
        `(${interleaved} interleaved), stop reasons ${reasons.join(', ')}; ${fenced} fenced; after completion ${t.records} ` +
        `records, ${t.distinct}/${t.expected} distinct, ${t.missing} missing, ${t.duplicates} duplicates ` +
        `(bound ${fenced} x ${BATCH})`,
    );

    expect(failures).toEqual([]);
    for (const outcome of pairs.flat()) {
      expect(outcome.code, describeOutcome(outcome)).toBe(0);
      expect(['max-records', 'idle', 'fenced']).toContain(outcome.summaries[0]?.stopReason);
    }
    for (const { reasons, timeline } of orders.filter((o) => o.interleaved)) {
      expect(reasons, `they interleaved, so one must have been fenced: ${timeline}`).toContain('fenced');
    }
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
