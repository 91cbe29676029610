/**
 * Rounds of `kill -9`: each round starts one invocation of a random task and kills it, either after a
 * random delay (where it lands is read from the probe afterwards) or at an exact point of the cycle (the
 * probe kills the child itself: after a poll, mid-produce, mid-commit). Then every task runs to the end.
 */
import {
  describeOutcome,
  type InvocationOutcome,
  type ProbeEvent,
  runInvocation,
  sleep,
  startInvocation,
  waitForEvents,
} from './invocation.ts';
import {
  countPhases,
  type FaultStack,
  formatCounts,
  type Guarantee,
  type Phase,
  phaseAtKill,
  type ScenarioBundle,
} from './scenario.ts';

type Target = 'after-poll' | 'mid-produce' | 'mid-commit';
const TARGETS: readonly Target[] = ['after-poll', 'mid-produce', 'mid-commit'];

/** The probe's kill point for a targeted phase and the n-th batch. */
function killPoint(guarantee: Guarantee, target: Target, n: number): string {
  if (guarantee === 'exactly-once') {
    if (target === 'after-poll') return `before:kreq:AddPartitionsToTxn:${n}`;
    if (target === 'mid-produce') return `after:kreq:Produce:${n}`;
    return `after:kreq:EndTxn:${n}`;
  }
  if (target === 'after-poll') return `before:kreq:Produce:${n}`;
  if (target === 'mid-produce') return `after:kreq:Produce:${n}`;
  return `after:hreq:TransactWriteItems:${n}`;
}

export interface KillRoundsOptions {
  readonly stack: FaultStack;
  readonly bundle: ScenarioBundle;
  readonly random: () => number;
  /** Kills to land (rounds go on until this many landed, or `maxRounds`). */
  readonly kills: number;
  readonly maxRounds: number;
  /** Every how many rounds one is a targeted kill (the others are random-delay kills). */
  readonly targetedShare: number;
  /** Batches in one full invocation (`invocation.max.records / batch.size`). */
  readonly batchesPerInvocation: number;
  /** Called after each landed kill (e.g. to check an invariant); gets the killed task. */
  readonly afterKill?: (task: number) => Promise<void>;
}

export interface KillReport {
  rounds: number;
  kills: number;
  killsPerTask: number[];
  /** Rounds whose invocation ended before the kill (not counted as kills). */
  completed: number;
  random: Record<Phase, number>;
  targeted: Record<Phase, number>;
  /** Invocations that ended with anything but a clean summary while not being killed. */
  failures: string[];
  /** Per round: `<round>:t<task>:<how>=<where it landed>` (R<delay ms> random, T<n> targeted at batch n). */
  trace: string[];
  /**
   * How long a full invocation is active, from its first connection to its exit: random kills land
   * uniformly in that window. Measured by the calibration runs, lowered by every round that ended first.
   */
  activeMs: number;
}

/** From the child's first connection (the handler's start; the cold start before it makes none) to its end. */
function activeMsOf(outcome: InvocationOutcome): number {
  const start = outcome.events.find((e: ProbeEvent) => e.kind === 'connect')?.atMs ?? outcome.spawnedAtMs;
  return outcome.endedAtMs - start;
}

/**
 * A run that waited for another task's open transaction (left by a kill) on the shared offsets partition
 * and gave up retriably, committing nothing: by design, never a stale offset.
 */
export function waitedForOpenTransaction(outcome: InvocationOutcome): boolean {
  const summary = outcome.summaries[0];
  return (
    summary?.stopReason === 'error' &&
    summary.error?.code === 'CONNECT_FN_OFFSET_STORAGE' &&
    summary.committed.length === 0
  );
}

function checkClean(outcome: InvocationOutcome, failures: string[], what: string): void {
  const summary = outcome.summaries[0];
  const ok =
    (outcome.code === 0 &&
      summary !== undefined &&
      (summary.stopReason === 'max-records' || summary.stopReason === 'idle')) ||
    waitedForOpenTransaction(outcome);
  if (!ok) failures.push(`${what}: ${describeOutcome(outcome)}`);
}

export async function killRounds(options: KillRoundsOptions): Promise<KillReport> {
  const { bundle, random } = options;
  const env = options.stack.childEnv;
  const base = { bundle: bundle.dir, connector: bundle.connector, env };
  const report: KillReport = {
    rounds: 0,
    kills: 0,
    killsPerTask: Array.from({ length: bundle.tasks }, () => 0),
    completed: 0,
    random: countPhases([]),
    targeted: countPhases([]),
    failures: [],
    trace: [],
    activeMs: Number.POSITIVE_INFINITY,
  };

  // Calibration: one full invocation per task says how long an invocation is active.
  for (let task = 0; task < bundle.tasks; task++) {
    const outcome = await runInvocation({ ...base, task });
    checkClean(outcome, report.failures, `calibration run of task ${task}`);
    report.activeMs = Math.min(report.activeMs, activeMsOf(outcome));
  }

  while (report.kills < options.kills && report.rounds < options.maxRounds) {
    const round = report.rounds++;
    const task = Math.floor(random() * bundle.tasks);
    const targeted = round % options.targetedShare === options.targetedShare - 1;
    let landed: Phase | undefined;
    let outcome: InvocationOutcome;
    let how: string;
    if (targeted) {
      const target = TARGETS[Math.floor(round / options.targetedShare) % TARGETS.length]!;
      const n = 1 + Math.floor(random() * Math.max(1, options.batchesPerInvocation - 2));
      how = `T${n}`;
      outcome = await runInvocation({ ...base, task, killAt: killPoint(bundle.guarantee, target, n) });
      if (outcome.signal === 'SIGKILL') {
        landed = target;
        report.targeted[target]++;
      }
    } else {
      // A random delay after the handler's first connection (the cold start before it is CPU-bound and
      // varies with the machine's load), anywhere in the window a full invocation is active.
      const delayMs = Math.round(random() * report.activeMs);
      how = `R${delayMs}`;
      const running = startInvocation({ ...base, task });
      await waitForEvents(running, (events) => events.some((e) => e.kind === 'connect'), 60_000);
      await Promise.race([sleep(delayMs), running.done]);
      if (running.child.exitCode === null && running.child.signalCode === null) {
        landed = phaseAtKill(running.events(), running.printedSummary());
        running.signal('SIGKILL');
      }
      outcome = await running.done;
      if (outcome.signal !== 'SIGKILL') landed = undefined;
      if (landed !== undefined) report.random[landed]++;
      // It ended before the kill: invocations are shorter now than the estimate.
      else report.activeMs = Math.min(report.activeMs, activeMsOf(outcome) * 0.9);
    }
    report.trace.push(`${round}:t${task}:${how}=${landed ?? 'not-killed'}`);
    if (landed === undefined) {
      report.completed++;
      checkClean(outcome, report.failures, `round ${round} (task ${task}, not killed)`);
      continue;
    }
    report.kills++;
    report.killsPerTask[task] = (report.killsPerTask[task] ?? 0) + 1;
    await options.afterKill?.(task);
  }
  return report;
}

/**
 * Runs every task until it is idle with budget to spare (bigger batches and budget, so it is quick), then
 * once more to prove there is nothing left. Returns the summaries.
 */
export async function runToCompletion(
  stack: FaultStack,
  bundle: ScenarioBundle,
  failures: string[],
): Promise<InvocationOutcome[]> {
  bundle.update({ 'invocation.max.records': 1_000_000, 'batch.size': 500 });
  const outcomes: InvocationOutcome[] = [];
  for (let task = 0; task < bundle.tasks; task++) {
    for (let pass = 0, waits = 0; pass < 2; pass++) {
      const outcome = await runInvocation({
        bundle: bundle.dir,
        connector: bundle.connector,
        task,
        env: stack.childEnv,
      });
      outcomes.push(outcome);
      // Another task's killed transaction may still hold the offsets partition: run this pass again.
      if (waitedForOpenTransaction(outcome) && ++waits <= 3) {
        pass--;
        continue;
      }
      const summary = outcome.summaries[0];
      if (outcome.code !== 0 || summary?.stopReason !== 'idle' || (pass === 1 && summary.records !== 0)) {
        failures.push(`completion run ${pass} of task ${task}: ${describeOutcome(outcome)}`);
      }
    }
  }
  return outcomes;
}

export function describeKills(report: KillReport): string {
  return (
    `rounds=${report.rounds} kills=${report.kills} (per task ${report.killsPerTask.join('/')}) ` +
    `not-killed=${report.completed}; random-delay kills: ${formatCounts(report.random) || 'none'}; ` +
    `targeted kills: ${formatCounts(report.targeted) || 'none'}; ` +
    `random delays within ${Math.round(report.activeMs)} ms of the first connection`
  );
}
