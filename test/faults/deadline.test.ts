/**
 * The deadline (DESIGN.md §3, issue 3 "Reliability"): an invocation with little remaining time
 * (`--timeout-ms`, `invocation.safety.margin.ms`, many small polls) stops polling at the margin, commits
 * what it produced, returns `stopReason: "deadline"` before its deadline; the next invocation resumes
 * exactly where it stopped.
 *
 * When the invocation starts is read from the phase probe: its first connection (the cold start makes
 * none; the handler's first act is opening the offsets store). When it returns is when its summary line
 * reaches us.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeOutcome, type ProbeEvent, runInvocation } from './support/invocation.ts';
import { FaultStack, type Guarantee, sequencesOf } from './support/scenario.ts';

const TIMEOUT_MS = 2_000;
const MARGIN_MS = 1_000;
/** The reading window ends this long after the invocation started. */
const READ_UNTIL_MS = TIMEOUT_MS - MARGIN_MS;
/** Slack for the start estimate and one batch in flight when the deadline passes. */
const SLACK_MS = 250;

let stack: FaultStack;

/**
 * When the last batch went out: the first request after the previous batch was done (exactly-once that is
 * the FindCoordinator before AddPartitionsToTxn), not a retry of it and not its commit, which may come
 * after the deadline.
 */
function lastBatchStart(events: readonly ProbeEvent[], guarantee: Guarantee): number | undefined {
  const [opens, ends] =
    guarantee === 'exactly-once' ? ['AddPartitionsToTxn', 'EndTxn'] : ['Produce', 'Produce'];
  let last: number | undefined;
  let firstSinceEnd: number | undefined;
  let open = false;
  for (const e of events) {
    if (e.kind === 'kreq') firstSinceEnd ??= e.atMs;
    if (e.kind === 'kreq' && e.name === opens && !open) {
      last = firstSinceEnd;
      open = true;
    } else if (e.kind === 'kres' && e.name === ends) {
      open = false;
      firstSinceEnd = undefined;
    }
  }
  return last;
}

beforeAll(async () => {
  stack = await FaultStack.open();
});

afterAll(async () => {
  await stack?.close();
});

describe.each<Guarantee>(['exactly-once', 'at-least-once'])('deadline, %s', (guarantee) => {
  it('stops polling at the margin, commits what it produced, returns "deadline" in time; the next run resumes exactly', async () => {
    const bundle = await stack.bundle({
      guarantee,
      prefix: guarantee === 'exactly-once' ? 'deadline-eos' : 'deadline-alo',
      connector: {
        'tasks.max': 1,
        iterations: 1_000_000,
        'batch.size': 5,
        'invocation.max.records': 1_000_000,
        'invocation.safety.margin.ms': MARGIN_MS,
      },
    });
    const base = { bundle: bundle.dir, connector: bundle.connector, task: 0, env: stack.childEnv };

    const short = await runInvocation({ ...base, timeoutMs: TIMEOUT_MS });
    const summary = short.summaries[0];
    const startedAt = short.events.find((e) => e.kind === 'connect')?.atMs ?? short.spawnedAtMs;
    const returnedAfterMs = (short.summaryAtMs ?? short.endedAtMs) - startedAt;
    const lastBatchAfterMs = (lastBatchStart(short.events, guarantee) ?? startedAt) - startedAt;
    const stored = await stack.committedSequence(bundle, 0);

    bundle.update({ 'invocation.max.records': 300 });
    const next = await runInvocation(base);
    const records = await stack.readTopic(bundle.topic);
    const sequences = sequencesOf(records, 0);
    const produced = summary?.records ?? 0;
    console.log(
      `[faults] deadline, ${guarantee}: --timeout-ms ${TIMEOUT_MS}, margin ${MARGIN_MS} ms: ` +
        `${summary?.stopReason} after ${produced} records in ${summary?.batches} batches; last batch began ` +
        `${lastBatchAfterMs} ms and the summary came ${returnedAfterMs} ms after the invocation started ` +
        `(cycle durationMs ${summary?.durationMs}); stored offset ${stored}; next run ` +
        `${next.summaries[0]?.stopReason} committed ${JSON.stringify(next.summaries[0]?.committed[0]?.offset)}; ` +
        `topic holds ${sequences.length} records`,
    );

    expect(short.code, describeOutcome(short)).toBe(0);
    expect(summary?.stopReason, describeOutcome(short)).toBe('deadline');
    expect(produced).toBeGreaterThan(0);
    // Returned before the deadline; stopped reading at the margin, not long before it.
    expect(returnedAfterMs).toBeLessThan(TIMEOUT_MS);
    expect(summary!.durationMs).toBeLessThan(TIMEOUT_MS);
    expect(lastBatchAfterMs).toBeLessThanOrEqual(READ_UNTIL_MS + SLACK_MS);
    expect(lastBatchAfterMs).toBeGreaterThanOrEqual(READ_UNTIL_MS - 2 * SLACK_MS);
    // Committed exactly what it produced.
    expect(summary!.committed).toEqual([{ partition: { task: 0 }, offset: { sequence: produced } }]);
    expect(stored).toBe(produced);
    // The next invocation resumed there: one contiguous run of sequences, nothing twice.
    expect(next.code, describeOutcome(next)).toBe(0);
    expect(next.summaries[0]?.committed).toEqual([
      { partition: { task: 0 }, offset: { sequence: produced + 300 } },
    ]);
    expect(sequences).toEqual(Array.from({ length: produced + 300 }, (_, i) => i));
  });
});
