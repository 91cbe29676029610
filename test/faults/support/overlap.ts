/**
 * Overlapping and zombie invocations of one task, for sources and sinks alike: when an invocation took
 * the task over (and so fenced the older ones), when it last asked for something a takeover must refuse,
 * whether two invocations interleaved, and a zombie round (freeze one at a probe point, run a newer one to
 * its end, thaw the zombie).
 */
import { readFileSync } from 'node:fs';
import {
  describeOutcome,
  type InvocationOptions,
  type InvocationOutcome,
  runInvocation,
  sleep,
  startInvocation,
  waitForEvents,
} from './invocation.ts';
import type { Guarantee } from './scenario.ts';

/**
 * How a task's invocations keep each other out: `transaction` — a transactional producer per invocation
 * whose InitProducerId fences the older ones (exactly-once sources, sinks with offsets in Kafka's group);
 * `lease` — the DynamoDB offsets store's lease, the newest invocation's.
 */
export type Fencing = 'transaction' | 'lease';

export function fencingOf(guarantee: Guarantee): Fencing {
  return guarantee === 'exactly-once' ? 'transaction' : 'lease';
}

export function stopReasonOf(outcome: InvocationOutcome): string {
  return outcome.summaries[0]?.stopReason ?? `no summary (exit ${outcome.code ?? outcome.signal})`;
}

/** Whether the process is stopped (state T in /proc/<pid>/stat). */
export function isStopped(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('T');
  } catch {
    return false;
  }
}

/**
 * When an invocation took the task over: its lease acquisition (DynamoDB), or the coordinator's answer to
 * its transactional InitProducerId (the first one after FindCoordinator), by which time the epoch is bumped
 * and an older producer fenced — even when the answer is CONCURRENT_TRANSACTIONS and is retried.
 */
export function tookOverAt(o: InvocationOutcome, fencing: Fencing): number | undefined {
  if (fencing === 'lease') return o.events.find((e) => e.kind === 'hres' && e.name === 'UpdateItem')?.atMs;
  const coordinator = o.events.findIndex((e) => e.kind === 'kres' && e.name === 'FindCoordinator');
  if (coordinator < 0) return undefined;
  return o.events.slice(coordinator).find((e) => e.kind === 'kres' && e.name === 'InitProducerId')?.atMs;
}

/** The requests of a transaction: records (sources) or group offsets (sinks) sent, and its end. */
const TRANSACTION_REQUESTS: ReadonlySet<string> = new Set([
  'AddPartitionsToTxn',
  'Produce',
  'AddOffsetsToTxn',
  'TxnOffsetCommit',
  'EndTxn',
]);

/**
 * When an invocation last asked for something the takeover must refuse: with a transaction, any request
 * of one; with a lease, an offset commit.
 */
export function lastGuardedRequestAt(o: InvocationOutcome, fencing: Fencing): number | undefined {
  const guarded =
    fencing === 'transaction'
      ? (kind: string, name: string) => kind === 'kreq' && TRANSACTION_REQUESTS.has(name)
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
export function interleaving(pair: readonly InvocationOutcome[], fencing: Fencing) {
  const [a, b] = pair as [InvocationOutcome, InvocationOutcome];
  const after = (x: InvocationOutcome, y: InvocationOutcome) =>
    (lastGuardedRequestAt(x, fencing) ?? -Infinity) - (tookOverAt(y, fencing) ?? Infinity);
  const interleaved = Math.min(after(a, b), after(b, a)) > CLOCK_SLACK_MS;
  const t0 = Math.min(a.spawnedAtMs, b.spawnedAtMs);
  const at = (ms: number | undefined) => (ms === undefined ? '-' : `+${ms - t0}`);
  const describe = (x: InvocationOutcome) =>
    `${stopReasonOf(x)}: took the task at ${at(tookOverAt(x, fencing))} ms, last guarded request at ` +
    `${at(lastGuardedRequestAt(x, fencing))}`;
  const reasons = pair.map(stopReasonOf);
  return { interleaved, reasons, timeline: `[${describe(a)}] [${describe(b)}]` };
}

/** What a zombie round saw; `S` is what the offsets store held (as the test reads it). */
export interface ZombieRound<S> {
  readonly stopAt: string;
  readonly zombie: InvocationOutcome;
  readonly newer: InvocationOutcome;
  /**
   * Stored offsets once the zombie was frozen (when asked for: reading a Kafka offsets topic then would
   * wait for the zombie's open transaction), after the newer invocation, after the zombie.
   */
  readonly storedAtFreeze: S | undefined;
  readonly storedAfterNewer: S;
  readonly storedAfterZombie: S;
  readonly frozenMs: number;
}

/**
 * Freezes an invocation at `stopAt` (the probe's FAULT_STOP_AT), runs a newer one to its end, thaws the
 * zombie and waits for it; `stored` reads the offsets store at each step.
 */
export async function zombieRound<S>(
  invocation: InvocationOptions,
  stopAt: string,
  stored: () => Promise<S>,
  options: { readonly readAtFreeze?: boolean } = {},
): Promise<ZombieRound<S>> {
  const zombie = startInvocation({ ...invocation, stopAt });
  const froze = await waitForEvents(zombie, (events) => events.some((e) => e.kind === 'stop'), 30_000);
  const pid = zombie.child.pid!;
  if (!froze) {
    zombie.signal('SIGKILL');
    throw new Error(`the zombie never reached ${stopAt}: ${describeOutcome(await zombie.done)}`);
  }
  while (!isStopped(pid)) await sleep(5);
  const frozenAt = Date.now();
  const storedAtFreeze = options.readAtFreeze === true ? await stored() : undefined;
  const newer = await runInvocation(invocation);
  const storedAfterNewer = await stored();
  const frozenMs = Date.now() - frozenAt;
  zombie.signal('SIGCONT');
  const thawed = await Promise.race([zombie.done, sleep(60_000).then(() => undefined)]);
  if (thawed === undefined) {
    zombie.signal('SIGKILL');
    throw new Error(`the zombie (${stopAt}) hung after SIGCONT: ${describeOutcome(await zombie.done)}`);
  }
  const storedAfterZombie = await stored();
  return { stopAt, zombie: thawed, newer, storedAtFreeze, storedAfterNewer, storedAfterZombie, frozenMs };
}
