/**
 * Scheduled sinks under `kill -9` (DESIGN.md §3, issue 3 "Reliability"): 20+ kills per offsets store, each
 * invocation a `connect-fn run` child of a FileStreamSink reading a fresh 2-partition topic of records
 * `{"p":<partition>,"seq":<n>}`, then every task runs to the end and the sink's file is counted per
 * partition and sequence.
 *
 * Half the rounds kill at an exact point (the phase probe kills the child itself), in turn: before the n-th
 * put's write, inside it, after it, inside the n-th flush's fdatasync, and around each request of the n-th
 * commit (AddOffsetsToTxn / TxnOffsetCommit / EndTxn sent, EndTxn answered; DynamoDB TransactWriteItems
 * before, sent, answered); the other half after a random delay (placed afterwards from the child's events).
 *
 * What must hold:
 * - no record lost: every sequence of every partition is in the file;
 * - after every child: the committed offsets never go backwards and never pass a sequence that is not in
 *   the file, and the file has only whole records;
 * - duplicates only from the last uncommitted batch: each line written again later is put down to the
 *   child that wrote the earlier copy (children run one at a time, so the file's growth tells which).
 *   Per killed child at most `max.poll.records`, and none of them below the offset committed after it; per
 *   child that was not killed, none. The bound is one batch, not two, although two batches are alive in
 *   the pipeline: batch n+1 is read while batch n is put and committed, but put only once batch n's commit
 *   has completed, so when a kill lands at most one batch is put and not committed (the read one was never
 *   put). A second batch could only come back if a commit were lost after it had completed, or the next
 *   invocation read offsets older than the last completed commit (e.g. a group offset commit not yet
 *   visible), and that is what the bound is there to catch.
 *
 * offset.storage=kafka runs two tasks (one partition each, two transactional ids committing to one group);
 * DynamoDB one task reading both partitions (each commit carries both). FAULTS_SEED=<n> replays a run.
 */
import { afterAll, beforeAll, describe, type ExpectStatic, it } from 'vitest';
import { type KillReport, runKillRounds, runToCompletion } from './support/kill-rounds.ts';
import { FaultStack, formatCounts, scenarioSeed, seededRandom } from './support/scenario.ts';
import {
  committedSinkOffsets,
  describeSinkTallies,
  formatOffsets,
  produceSequences,
  SinkObserver,
  type SinkStorage,
  sinkBundle,
  sinkKillProfile,
} from './support/sink-scenario.ts';

const KILLS = 20;
const MAX_ROUNDS = 32;
/** Every other round is a targeted kill. */
const TARGETED_SHARE = 2;
/** `consumer.max.poll.records`: one put. */
const MAX_POLL = 20;
const PER_INVOCATION = 300;
const PER_PARTITION = 4_000;
const PARTITIONS = 2;

let stack: FaultStack;

beforeAll(async () => {
  stack = await FaultStack.open();
});

afterAll(async () => {
  await stack?.close();
});

function describeSinkKills(report: KillReport): string {
  return (
    `rounds=${report.rounds} kills=${report.kills} (per task ${report.killsPerTask.join('/')}) ` +
    `not-killed=${report.completed}; random-delay kills: ${formatCounts(report.random) || 'none'}; ` +
    `targeted kills: ${formatCounts(report.targeted) || 'none'}; random delays within ` +
    `${Math.round(report.activeMs)} ms of the first put`
  );
}

async function sinkKillScenario(expect: ExpectStatic, storage: SinkStorage, tasks: number) {
  const seed = scenarioSeed();
  const bundle = await sinkBundle(stack, {
    storage,
    prefix: `sink-kill-${storage}`,
    tasks,
    partitions: PARTITIONS,
    maxPollRecords: MAX_POLL,
    connector: { 'invocation.max.records': PER_INVOCATION },
  });
  await produceSequences(stack, bundle, PER_PARTITION);
  const observer = new SinkObserver(stack, bundle, PER_PARTITION);
  const observe = async ({ label, task, killed }: { label: string; task: number; killed: boolean }) => {
    await observer.observe(`${label} t${task}${killed ? ' killed' : ''}`, killed);
  };
  const report = await runKillRounds({
    stack,
    bundle,
    profile: sinkKillProfile(storage),
    random: seededRandom(seed),
    kills: KILLS,
    maxRounds: MAX_ROUNDS,
    targetedShare: TARGETED_SHARE,
    batchesPerInvocation: PER_INVOCATION / MAX_POLL,
    afterInvocation: observe,
  });
  await runToCompletion(stack, bundle, report.failures, {
    connector: { 'invocation.max.records': 1_000_000 },
    worker: { 'consumer.max.poll.records': 500 },
    afterInvocation: observe,
  });
  const tallies = observer.tally();
  const attribution = observer.attribution();
  const killed = attribution.filter((a) => a.killed);
  const duplicates = tallies.reduce((n, t) => n + t.duplicates, 0);
  const perKill = killed.map((a) => a.redelivered);
  // Per kill: `<records delivered again>(<records it put past the offset committed after it>)`.
  const perKillDetail = killed.map((a) => `${a.redelivered}(${a.uncommitted})`);
  const committed = await committedSinkOffsets(stack, bundle);
  console.log(
    `[faults] sink kill -9, offset.storage=${storage}, ${tasks} task(s), ${PARTITIONS} partitions x ` +
      `${PER_PARTITION}, max.poll.records=${MAX_POLL}: seed=${seed} ${describeSinkKills(report)}; ` +
      `${describeSinkTallies(tallies)}; duplicates ${duplicates} = per kill, delivered again (put and not ` +
      `committed): ${perKillDetail.join(',')} ` +
      `(max ${Math.max(0, ...perKill)}, bound ${MAX_POLL} per kill, ${report.kills * MAX_POLL} in all); ` +
      `corrupt lines ${observer.corrupt.length}; problems ${observer.problems.length}; committed ` +
      `${formatOffsets(committed)}; offsets ${observer.samples.map((s) => s.split('=')[1]).join(' ')}; ` +
      `rounds ${report.trace.join(' ')}`,
  );

  expect(report.failures).toEqual([]);
  expect(report.kills).toBeGreaterThanOrEqual(KILLS);
  expect(observer.problems).toEqual([]);
  expect(observer.corrupt).toEqual([]);
  for (const t of tallies) {
    expect({ partition: t.partition, missing: t.missing, unexpected: t.unexpected }).toEqual({
      partition: t.partition,
      missing: 0,
      unexpected: 0,
    });
  }
  for (const a of attribution) {
    // Nothing below a committed offset is ever delivered again.
    expect(a.redeliveredCommitted, `${a.label}: records delivered again though committed`).toBe(0);
    if (a.killed) expect(a.redelivered, `${a.label}: records delivered again`).toBeLessThanOrEqual(MAX_POLL);
    else expect(a.redelivered, `${a.label} was not killed, yet its records came again`).toBe(0);
  }
  expect(duplicates).toBe(perKill.reduce((a, b) => a + b, 0));
  expect(committed).toEqual(Array.from({ length: PARTITIONS }, () => PER_PARTITION));
}

// The scenarios use their own connectors and topics, and mostly wait on child processes: concurrently they
// keep both cores busy (a child's start-up is CPU-bound), one after another the run takes twice as long.
describe.concurrent('scheduled sink: kill -9 during put and commit, then run to completion', () => {
  it('offset.storage=kafka (group connect-<name>, 2 tasks): nothing lost, duplicates only from the uncommitted batch', async ({
    expect,
  }) => {
    await sinkKillScenario(expect, 'kafka', 2);
  });

  it('offset.storage=dynamodb (1 task, 2 partitions): nothing lost, duplicates only from the uncommitted batch', async ({
    expect,
  }) => {
    await sinkKillScenario(expect, 'dynamodb', 1);
  });
});
