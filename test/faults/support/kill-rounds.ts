/**
 * Rounds of `kill -9`: each round starts one invocation of a random task and kills it, either after a
 * random delay (where it lands is read from the probe afterwards) or at an exact point of the cycle (the
 * probe kills the child itself: after a poll, mid-produce, mid-commit). Then every task runs to the end.
 *
 * The rounds are the same for sources and sinks; a {@link KillProfile} says what differs: the targeted
 * kill points, how to place a random kill, and what a clean end of an invocation is.
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
  type FaultStack,
  formatCounts,
  type Guarantee,
  type Properties,
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

/** A targeted kill: its name (where it lands) and the probe's kill point at the n-th batch. */
export interface KillTarget {
  readonly name: string;
  readonly killAt: (n: number) => string;
}

/** What the rounds need to know of a cycle. */
export interface KillProfile {
  /** The targeted kill points, taken in turn. */
  readonly targets: readonly KillTarget[];
  /** Where a random kill landed, from the child's wire events before it died. */
  readonly phaseAtKill: (events: readonly ProbeEvent[], printedSummary: boolean) => string;
  /** Whether an invocation that was not killed ended as it should. */
  readonly clean: (outcome: InvocationOutcome) => boolean;
  /**
   * The event random delays count from (default: the child's first connection, the handler's start; the
   * cold start before it is CPU-bound and varies with the machine's load).
   */
  readonly activeFrom?: (event: ProbeEvent) => boolean;
}

const firstConnection = (event: ProbeEvent) => event.kind === 'connect';

/** A source's cycle: kills after a poll, mid-produce and mid-commit. */
export function sourceKillProfile(guarantee: Guarantee): KillProfile {
  return {
    targets: TARGETS.map((name) => ({ name, killAt: (n: number) => killPoint(guarantee, name, n) })),
    phaseAtKill,
    clean: (outcome) => {
      const summary = outcome.summaries[0];
      return (
        (outcome.code === 0 &&
          summary !== undefined &&
          (summary.stopReason === 'max-records' || summary.stopReason === 'idle')) ||
        waitedForOpenTransaction(outcome)
      );
    },
  };
}

/** What the rounds need of a bundle. */
export interface KillableBundle {
  readonly dir: string;
  readonly connector: string;
  readonly tasks: number;
}

/** One child of the rounds has ended (a calibration run, a round, a completion run). */
export interface InvocationEnd {
  /** `calibration`, `round <n>` or `completion <pass>`. */
  readonly label: string;
  readonly task: number;
  readonly outcome: InvocationOutcome;
  /** It died of the kill. */
  readonly killed: boolean;
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

export interface ProfiledKillRoundsOptions extends Omit<KillRoundsOptions, 'bundle'> {
  readonly bundle: KillableBundle;
  readonly profile: KillProfile;
  /** Called after every child (calibration runs included), killed or not, before `afterKill`. */
  readonly afterInvocation?: (end: InvocationEnd) => Promise<void>;
}

export interface KillReport {
  rounds: number;
  kills: number;
  killsPerTask: number[];
  /** Rounds whose invocation ended before the kill (not counted as kills). */
  completed: number;
  /** Random-delay kills per phase they landed in, targeted kills per target. */
  random: Record<string, number>;
  targeted: Record<string, number>;
  /** Invocations that ended with anything but a clean summary while not being killed. */
  failures: string[];
  /** Per round: `<round>:t<task>:<how>=<where it landed>` (R<delay ms> random, T<n> targeted at batch n). */
  trace: string[];
  /**
   * How long a full invocation is active, from its first connection (or the profile's start event) to its
   * exit: random kills land uniformly in that window. Measured by the calibration runs, lowered by every round that ended first.
   */
  activeMs: number;
}

/** From the profile's start event (by default the first connection) to the child's end. */
function activeMsOf(outcome: InvocationOutcome, from: (event: ProbeEvent) => boolean): number {
  const start = outcome.events.find(from)?.atMs ?? outcome.spawnedAtMs;
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

const bump = (counts: Record<string, number>, key: string) => {
  counts[key] = (counts[key] ?? 0) + 1;
};

/** The kill rounds of a datagen source (its guarantee picks the kill points). */
export function killRounds(options: KillRoundsOptions): Promise<KillReport> {
  return runKillRounds({ ...options, profile: sourceKillProfile(options.bundle.guarantee) });
}

export async function runKillRounds(options: ProfiledKillRoundsOptions): Promise<KillReport> {
  const { bundle, random, profile } = options;
  const env = options.stack.childEnv;
  const base = { bundle: bundle.dir, connector: bundle.connector, env };
  const report: KillReport = {
    rounds: 0,
    kills: 0,
    killsPerTask: Array.from({ length: bundle.tasks }, () => 0),
    completed: 0,
    random: {},
    targeted: {},
    failures: [],
    trace: [],
    activeMs: Number.POSITIVE_INFINITY,
  };
  const activeFrom = profile.activeFrom ?? firstConnection;
  const checkClean = (outcome: InvocationOutcome, what: string) => {
    if (!profile.clean(outcome)) report.failures.push(`${what}: ${describeOutcome(outcome)}`);
  };

  // Calibration: one full invocation per task says how long an invocation is active.
  for (let task = 0; task < bundle.tasks; task++) {
    const outcome = await runInvocation({ ...base, task });
    checkClean(outcome, `calibration run of task ${task}`);
    report.activeMs = Math.min(report.activeMs, activeMsOf(outcome, activeFrom));
    await options.afterInvocation?.({ label: 'calibration', task, outcome, killed: false });
  }

  while (report.kills < options.kills && report.rounds < options.maxRounds) {
    const round = report.rounds++;
    const task = Math.floor(random() * bundle.tasks);
    const targeted = round % options.targetedShare === options.targetedShare - 1;
    let landed: string | undefined;
    let outcome: InvocationOutcome;
    let how: string;
    if (targeted) {
      const targets = profile.targets;
      const target = targets[Math.floor(round / options.targetedShare) % targets.length]!;
      const n = 1 + Math.floor(random() * Math.max(1, options.batchesPerInvocation - 2));
      how = `T${n}`;
      outcome = await runInvocation({ ...base, task, killAt: target.killAt(n) });
      if (outcome.signal === 'SIGKILL') {
        landed = target.name;
        bump(report.targeted, target.name);
      }
    } else {
      // A random delay after the profile's start event (by default the handler's first connection),
      // anywhere in the window a full invocation is active.
      const delayMs = Math.round(random() * report.activeMs);
      how = `R${delayMs}`;
      const running = startInvocation({ ...base, task });
      await waitForEvents(running, (events) => events.some(activeFrom), 60_000);
      await Promise.race([sleep(delayMs), running.done]);
      if (running.child.exitCode === null && running.child.signalCode === null) {
        landed = profile.phaseAtKill(running.events(), running.printedSummary());
        running.signal('SIGKILL');
      }
      outcome = await running.done;
      if (outcome.signal !== 'SIGKILL') landed = undefined;
      if (landed !== undefined) bump(report.random, landed);
      // It ended before the kill: invocations are shorter now than the estimate.
      else report.activeMs = Math.min(report.activeMs, activeMsOf(outcome, activeFrom) * 0.9);
    }
    report.trace.push(`${round}:t${task}:${how}=${landed ?? 'not-killed'}`);
    await options.afterInvocation?.({ label: `round ${round}`, task, outcome, killed: landed !== undefined });
    if (landed === undefined) {
      report.completed++;
      checkClean(outcome, `round ${round} (task ${task}, not killed)`);
      continue;
    }
    report.kills++;
    report.killsPerTask[task] = (report.killsPerTask[task] ?? 0) + 1;
    await options.afterKill?.(task);
  }
  return report;
}

export interface CompletionOptions {
  /** Connector keys that make a run quick (default: a datagen source's bigger batches and budget). */
  readonly connector?: Properties;
  readonly worker?: Properties;
  readonly afterInvocation?: (end: InvocationEnd) => Promise<void>;
}

/**
 * Runs every task until it is idle with budget to spare (bigger batches and budget, so it is quick), then
 * once more to prove there is nothing left. Returns the summaries.
 */
export async function runToCompletion(
  stack: FaultStack,
  bundle: KillableBundle & { update(connector?: Properties, worker?: Properties): void },
  failures: string[],
  options: CompletionOptions = {},
): Promise<InvocationOutcome[]> {
  bundle.update(
    options.connector ?? { 'invocation.max.records': 1_000_000, 'batch.size': 500 },
    options.worker,
  );
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
      await options.afterInvocation?.({ label: `completion ${pass}`, task, outcome, killed: false });
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
