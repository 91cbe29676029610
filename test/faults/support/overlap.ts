/**
 * Overlapping and zombie invocations of one task, for sources and sinks alike: what the broker told each
 * invocation of a pair (the epoch it was granted, its answers to the transaction requests), the fencing
 * that implies, and a zombie round (freeze one at a probe point, run a newer one to its end, thaw the
 * zombie). Nothing here compares time stamps of two processes: on a loaded machine the moment a child
 * reads an answer says little about when the broker gave it (issue 10).
 */
import { readFileSync } from 'node:fs';
import type { ExpectStatic } from 'vitest';
import {
  describeOutcome,
  type InvocationOptions,
  type InvocationOutcome,
  type KafkaDetail,
  runInvocation,
  sleep,
  startInvocation,
  waitForEvents,
} from './invocation.ts';

/**
 * How a task's invocations keep each other out: `transaction` — a transactional producer per invocation
 * whose InitProducerId fences the older ones (exactly-once sources, sinks with offsets in Kafka's group);
 * `lease` — the DynamoDB offsets store's lease, the newest invocation's.
 */
export type Fencing = 'transaction' | 'lease';

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

/** Kafka's answers that mean "a newer producer of this transactional id exists": the request is refused. */
const FENCING_ERRORS: ReadonlySet<number> = new Set([
  47, // INVALID_PRODUCER_EPOCH
  90, // PRODUCER_FENCED
]);

/** The requests of a transaction: records (sources) or group offsets (sinks) sent, and its end. */
const TRANSACTION_REQUESTS: ReadonlySet<string> = new Set([
  'AddPartitionsToTxn',
  'Produce',
  'AddOffsetsToTxn',
  'TxnOffsetCommit',
  'EndTxn',
]);

/** A producer id and epoch, as the broker grants and checks them. */
export interface ProducerEpoch {
  readonly pid: string;
  readonly epoch: number;
}

/** The broker's answer to one transactional request of an invocation, with the epoch the request carried. */
interface Answered {
  readonly name: string;
  readonly carried: ProducerEpoch | undefined;
  readonly err: number | undefined;
}

/** What the broker told one invocation: the epoch it granted, and its answers to the transaction requests. */
export interface BrokerView {
  readonly outcome: InvocationOutcome;
  /** InitProducerId's successful answer for the transactional id (undefined: never granted one). */
  readonly granted: ProducerEpoch | undefined;
  readonly answered: readonly Answered[];
  /** The answers that refused a request because a newer producer exists. */
  readonly fencingAnswers: readonly string[];
}

function epochOf(detail: KafkaDetail | undefined): ProducerEpoch | undefined {
  return detail?.pid === undefined || detail.epoch === undefined
    ? undefined
    : { pid: detail.pid, epoch: detail.epoch };
}

/**
 * Reads the broker's side of an invocation from its probe (each answer carries what its request did, see
 * ./phase-probe.mjs): the epoch InitProducerId granted — answers with an error (NOT_COORDINATOR,
 * CONCURRENT_TRANSACTIONS) grant nothing, and CONCURRENT_TRANSACTIONS does not even always fence: a
 * transaction being committed is left to finish — and every transaction request's answer.
 */
export function brokerView(outcome: InvocationOutcome): BrokerView {
  const answered: Answered[] = [];
  let granted: ProducerEpoch | undefined;
  for (const e of outcome.events) {
    if (e.kind !== 'kres' || e.detail === undefined) continue;
    if (e.name === 'InitProducerId') {
      // Only a transactional id's InitProducerId fences; an idempotent producer's has no id.
      if (typeof e.detail.txn === 'string' && e.detail.err === 0) granted ??= epochOf(e.detail);
    } else if (TRANSACTION_REQUESTS.has(e.name) && typeof e.detail.txn === 'string') {
      answered.push({ name: e.name, carried: epochOf(e.detail), err: e.detail.err });
    }
  }
  const fencingAnswers = answered
    .filter((a) => a.err !== undefined && FENCING_ERRORS.has(a.err))
    .map((a) => `${a.name}: error ${a.err}`);
  return { outcome, granted, answered, fencingAnswers };
}

/** Orders two grants of one transactional id: a new producer id (epochs exhausted) is newer still. */
function compareEpochs(a: ProducerEpoch, b: ProducerEpoch): number {
  const pid = BigInt(a.pid) - BigInt(b.pid);
  return pid === 0n ? a.epoch - b.epoch : pid < 0n ? -1 : 1;
}

const describeEpoch = (e: ProducerEpoch | undefined) => (e === undefined ? 'none' : `${e.pid}/${e.epoch}`);

/**
 * Two invocations of one task with transactional fencing, as the broker saw them: which one's epoch is
 * newer, and each one's answers — no timestamps involved (two processes' clocks on a loaded machine cannot
 * order a request of one against an answer to the other).
 */
export function transactionPair(pair: readonly InvocationOutcome[]) {
  const [a, b] = pair.map(brokerView) as [BrokerView, BrokerView];
  const ordered = a.granted !== undefined && b.granted !== undefined;
  const [older, newer] = ordered && compareEpochs(a.granted!, b.granted!) > 0 ? [b, a] : [a, b];
  const describe = (v: BrokerView) =>
    `${stopReasonOf(v.outcome)}: epoch ${describeEpoch(v.granted)}, ${v.answered.length} transaction ` +
    `requests answered, refused as fenced: [${v.fencingAnswers.join(', ')}]`;
  return { older, newer, ordered, timeline: `[older ${describe(older)}] [newer ${describe(newer)}]` };
}

/**
 * What transactional fencing guarantees a pair, checked on the broker's answers: both were granted an
 * epoch; only the older can be fenced, and it reports `fenced` exactly when the broker refused one of its
 * requests as fenced; every request the broker accepted carried the sender's own epoch. Whether a request
 * of the older one was accepted *after* the newer took over is not visible here — the data shows that (a
 * record delivered twice, an offset going back), and the tests check it.
 */
export function checkTransactionFencing(
  expect: ExpectStatic,
  pair: ReturnType<typeof transactionPair>,
): void {
  const { older, newer, ordered, timeline } = pair;
  expect(ordered, `both were granted an epoch: ${timeline}`).toBe(true);
  expect(compareEpochs(older.granted!, newer.granted!), `two distinct epochs: ${timeline}`).toBeLessThan(0);
  expect(newer.fencingAnswers, `the newer one is never refused as fenced: ${timeline}`).toEqual([]);
  expect(stopReasonOf(newer.outcome), timeline).not.toBe('fenced');
  expect(
    stopReasonOf(older.outcome) === 'fenced',
    `the older one stops fenced exactly when the broker refused it as fenced: ${timeline}`,
  ).toBe(older.fencingAnswers.length > 0);
  for (const v of [older, newer]) {
    const foreign = v.answered.filter(
      (a) => a.err === 0 && a.carried !== undefined && compareEpochs(a.carried, v.granted!) !== 0,
    );
    expect(foreign, `accepted requests carry the sender's own epoch: ${timeline}`).toEqual([]);
  }
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
