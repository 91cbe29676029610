/**
 * One `connect-fn run <bundle> <connector> --task N --json` child process per invocation, as the fault
 * tests need them: killable (`kill -9`), stoppable (SIGSTOP/SIGCONT), timed, and watched by the phase
 * probe (./phase-probe.mjs) so a test can tell where in the cycle a kill landed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InvocationSummary } from '../../../src/runtime/summary.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(REPO_ROOT, 'bin', 'connect-fn.mjs');
const PROBE = new URL('./phase-probe.mjs', import.meta.url).href;
/** Probe files live in the temp dir, one per child, removed once the child has ended and been read. */
const probePrefix = `connect-fn-faults-probe-${process.pid}-${randomUUID().slice(0, 8)}`;
let probeCount = 0;

/** One line of the probe: what the child did on the wire, and when (epoch ms). */
export interface ProbeEvent {
  readonly atMs: number;
  /**
   * `start`, `connect`, `kreq`/`kres` (Kafka request/response), `hreq`/`hres` (DynamoDB), `fwrite`/`fwritten`
   * and `fsync`/`fsynced` (a file write / datasync issued and completed), `kill`, `stop`, `continued`, `exit`.
   */
  readonly kind: string;
  /** The Kafka API, DynamoDB operation or file (base name). */
  readonly name: string;
  /**
   * Of a transactional Kafka request: the producer id and epoch it carries (`txn`, `pid`, `epoch`); of its
   * answer: the broker's error code (`err`, 0 = accepted), and for InitProducerId the epoch granted.
   */
  readonly detail?: KafkaDetail;
}

/** What the probe reads of a transactional Kafka request or answer (see {@link ProbeEvent.detail}). */
export interface KafkaDetail {
  readonly txn?: string | null;
  readonly pid?: string;
  readonly epoch?: number;
  readonly commit?: boolean;
  readonly err?: number;
}

export interface InvocationOptions {
  readonly bundle: string;
  readonly connector: string;
  readonly task: number;
  readonly timeoutMs?: number;
  readonly invocations?: number;
  /** The probe's self-kill point, `<before|after>:<kind>:<Name>:<n>` (see ./phase-probe.mjs). */
  readonly killAt?: string;
  /** The probe's self-SIGSTOP point, same syntax: the child freezes there until it gets SIGCONT. */
  readonly stopAt?: string;
  /** Extra environment (KAFKA_BROKERS / DYNAMODB_ENDPOINT come from the stack). */
  readonly env?: Readonly<Record<string, string>>;
  /** A child still running this long after its spawn is taken as hung and killed (default 90 s). */
  readonly hangAfterMs?: number;
}

export interface InvocationOutcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The `--json` summary lines, in order. */
  readonly summaries: readonly InvocationSummary[];
  readonly stdout: string;
  readonly stderr: string;
  readonly spawnedAtMs: number;
  readonly endedAtMs: number;
  /** When the first summary line arrived on stdout. */
  readonly summaryAtMs: number | undefined;
  readonly events: readonly ProbeEvent[];
  /** The watchdog killed it (see {@link InvocationOptions.hangAfterMs}). */
  readonly hung: boolean;
}

export interface RunningInvocation {
  readonly child: ChildProcess;
  readonly spawnedAtMs: number;
  /** The probe's events so far. */
  events(): ProbeEvent[];
  /** Whether a summary line has been printed yet. */
  printedSummary(): boolean;
  signal(signal: NodeJS.Signals): void;
  readonly done: Promise<InvocationOutcome>;
}

function parseProbe(text: string): ProbeEvent[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const json = line.indexOf(' {');
      const [at, kind = '', ...name] = (json < 0 ? line : line.slice(0, json)).split(' ');
      const event = { atMs: Number(at), kind, name: name.join(' ') };
      const detail = json < 0 ? undefined : parseDetail(line.slice(json + 1));
      return detail === undefined ? event : { ...event, detail };
    });
}

function parseDetail(text: string): KafkaDetail | undefined {
  try {
    return JSON.parse(text) as KafkaDetail;
  } catch {
    return undefined; // a line cut by a kill
  }
}

function readProbe(file: string): ProbeEvent[] {
  try {
    return parseProbe(readFileSync(file, 'utf8'));
  } catch {
    return [];
  }
}

/** Starts one `connect-fn run` child; `done` resolves when it has exited (never rejects). */
export function startInvocation(options: InvocationOptions): RunningInvocation {
  const probeFile = join(tmpdir(), `${probePrefix}-${++probeCount}.log`);
  const args = [
    '--import',
    PROBE,
    BIN,
    'run',
    options.bundle,
    options.connector,
    '--task',
    String(options.task),
    '--json',
    ...(options.timeoutMs === undefined ? [] : ['--timeout-ms', String(options.timeoutMs)]),
    ...(options.invocations === undefined ? [] : ['--invocations', String(options.invocations)]),
  ];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_LEVEL: 'warn',
    FAULT_PROBE_FILE: probeFile,
    ...options.env,
  };
  if (options.killAt !== undefined) env.FAULT_KILL_AT = options.killAt;
  if (options.stopAt !== undefined) env.FAULT_STOP_AT = options.stopAt;
  const spawnedAtMs = Date.now();
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let summaryAtMs: number | undefined;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (summaryAtMs === undefined && stdout.includes('\n')) summaryAtMs = Date.now();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    // Keep the tail only: kafkajs retry lines can be many.
    stderr = (stderr + chunk).slice(-20_000);
  });
  let hung = false;
  const watchdog = setTimeout(() => {
    hung = true;
    child.kill('SIGKILL');
  }, options.hangAfterMs ?? 90_000);
  const done = new Promise<InvocationOutcome>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(watchdog);
      const endedAtMs = Date.now();
      if (summaryAtMs === undefined && stdout.trim() !== '') summaryAtMs = endedAtMs;
      const events = readProbe(probeFile);
      rmSync(probeFile, { force: true });
      resolve({
        code,
        signal,
        summaries: parseSummaries(stdout),
        stdout,
        stderr,
        spawnedAtMs,
        endedAtMs,
        summaryAtMs,
        events,
        hung,
      });
    });
  });
  return {
    child,
    spawnedAtMs,
    events: () => readProbe(probeFile),
    printedSummary: () => stdout.includes('\n'),
    signal: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    done,
  };
}

function parseSummaries(stdout: string): InvocationSummary[] {
  const out: InvocationSummary[] = [];
  for (const line of stdout.split('\n')) {
    const text = line.trim();
    if (!text.startsWith('{')) continue;
    try {
      out.push(JSON.parse(text) as InvocationSummary);
    } catch {
      // a line cut by a kill
    }
  }
  return out;
}

/** Runs one child to its end. */
export function runInvocation(options: InvocationOptions): Promise<InvocationOutcome> {
  return startInvocation(options).done;
}

/** The child's summaries, or a readable failure with its stderr when it printed none. */
export function describeOutcome(outcome: InvocationOutcome): string {
  const summaries = outcome.summaries.map((s) => JSON.stringify(s)).join('\n');
  const exit = outcome.hung ? 'hung (killed by the watchdog)' : `exit ${outcome.code ?? outcome.signal}`;
  return `${exit}; stdout:\n${summaries || outcome.stdout}\nstderr (tail):\n${outcome.stderr.slice(-3000)}`;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits until `predicate` holds for the child's probe events (or it exits / `timeoutMs` passes). */
export async function waitForEvents(
  invocation: RunningInvocation,
  predicate: (events: readonly ProbeEvent[]) => boolean,
  timeoutMs: number,
): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  let exited = false;
  void invocation.done.then(() => {
    exited = true;
  });
  while (Date.now() < until && !exited) {
    if (predicate(invocation.events())) return true;
    await sleep(5);
  }
  return predicate(invocation.events());
}
