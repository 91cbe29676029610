/**
 * The deadline (DESIGN.md §3, issue 3 "Reliability"): an invocation with little remaining time
 * (`--timeout-ms`, `invocation.safety.margin.ms`, many small polls) stops polling at the margin, commits
 * what it produced, returns `stopReason: "deadline"` before its deadline; the next invocation resumes
 * exactly where it stopped.
 *
 * Asserted on events and states, not on a stopwatch (issue 10: the machine may be loaded): the budget's
 * own clock decides the stop (`stopReason: "deadline"` is only given once its deadline has passed, and
 * polling goes on until then), and "before its deadline" is `connect-fn run` printing a summary at all —
 * it ends an invocation still running at `--timeout-ms` as Lambda does, without one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeOutcome, runInvocation } from './support/invocation.ts';
import { FaultStack, type Guarantee, sequencesOf } from './support/scenario.ts';

/** Reading stops 3 s into the invocation; the hard deadline leaves the last commit 1.5 s more. */
const TIMEOUT_MS = 6_000;
const MARGIN_MS = 3_000;

let stack: FaultStack;

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
    const stored = await stack.committedSequence(bundle, 0);

    bundle.update({ 'invocation.max.records': 300 });
    const next = await runInvocation(base);
    const records = await stack.readTopic(bundle.topic);
    const sequences = sequencesOf(records, 0);
    const produced = summary?.records ?? 0;
    console.log(
      `[faults] deadline, ${guarantee}: --timeout-ms ${TIMEOUT_MS}, margin ${MARGIN_MS} ms: ` +
        `${summary?.stopReason} after ${produced} records in ${summary?.batches} batches (cycle durationMs ` +
        `${summary?.durationMs}); stored offset ${stored}; next run ${next.summaries[0]?.stopReason} committed ` +
        `${JSON.stringify(next.summaries[0]?.committed[0]?.offset)}; topic holds ${sequences.length} records`,
    );

    // Returned (a summary, not CONNECT_FN_INVOCATION_TIMED_OUT), stopped by the deadline, not by anything else.
    expect(short.stderr).not.toContain('CONNECT_FN_INVOCATION_TIMED_OUT');
    expect(short.code, describeOutcome(short)).toBe(0);
    expect(summary?.stopReason, describeOutcome(short)).toBe('deadline');
    expect(produced).toBeGreaterThan(0);
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
