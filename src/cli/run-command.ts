/**
 * `connect-fn run <bundle> <connector> [--task N] [--invocations N] [--timeout-ms T] [--json]`: invokes the
 * connector's Lambda handler in-process — the same handler (a source's, or a scheduled sink's), one call
 * per invocation, each with a real deadline of `--timeout-ms` (default: the connector's
 * `invocation.timeout.ms`). A line per invocation;
 * with `--json` the invocation summaries as JSON lines. Function logs go to stderr (LOG_LEVEL, default warn).
 * @module
 */
import { readFile } from 'node:fs/promises';
import { type ConnectorFunction, createConnectorFunction } from '../app/connector-function.ts';
import { InvocationFailedError } from '../app/function-common.ts';
import type { Redactor } from '../config/redaction.ts';
import { boundText, UsageError } from '../errors.ts';
import { InvocationTimedOutError, withinLambdaTimeout } from '../lambda/invocation-timeout.ts';
import { localContext } from '../lambda/lambda-context.ts';
import { systemClock } from '../runtime/retry.ts';
import type { InvocationSummary } from '../runtime/summary.ts';
import { describeCliError } from './cli-error.ts';
import { type CliIo, Exit } from './io.ts';

export const RUN_USAGE =
  'usage: connect-fn run <bundle-dir> <connector> [--task N] [--invocations N] [--timeout-ms T] [--event FILE] [--json]';

interface RunArgs {
  readonly dir: string;
  readonly connector: string;
  readonly task: number;
  readonly invocations: number;
  readonly timeoutMs: number | undefined;
  /** A Kafka event (JSON) for a triggered sink, instead of scheduled invocations. */
  readonly event: string | undefined;
  readonly json: boolean;
}

function intFlag(name: string, value: string | undefined, min: number): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < min)
    throw new UsageError(`${name} takes an integer >= ${min}\n${RUN_USAGE}`);
  return n;
}

export function parseRunArgs(args: readonly string[]): RunArgs {
  const positional: string[] = [];
  const flags = {
    task: 0,
    invocations: 1,
    timeoutMs: undefined as number | undefined,
    event: undefined as string | undefined,
    json: false,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--json') flags.json = true;
    else if (arg === '--task') flags.task = intFlag(arg, args[++i], 0);
    else if (arg === '--invocations') flags.invocations = intFlag(arg, args[++i], 1);
    else if (arg === '--timeout-ms') flags.timeoutMs = intFlag(arg, args[++i], 1);
    else if (arg === '--event') {
      flags.event = args[++i];
      if (flags.event === undefined) throw new UsageError(`--event takes a file\n${RUN_USAGE}`);
    } else if (arg.startsWith('-')) throw new UsageError(`unknown option ${boundText(arg)}\n${RUN_USAGE}`);
    else positional.push(arg);
  }
  const [dir, connector] = positional;
  if (dir === undefined || connector === undefined || positional.length > 2) throw new UsageError(RUN_USAGE);
  return { dir, connector, ...flags };
}

/** One human line: `#2 orders/0  1000 records  1.0 MB  3 batches  812 ms  max-records  committed ...`. */
export function describeSummary(n: number, s: InvocationSummary): string {
  const mb = (s.bytes / 1e6).toFixed(1);
  const committed = s.committed
    .map((c) => `${JSON.stringify(c.partition)}=${JSON.stringify(c.offset)}`)
    .join(' ');
  const error =
    s.error === undefined || s.stopReason === 'fenced' ? '' : `  ${s.error.code}: ${s.error.message}`;
  return `#${n} ${s.connector}/${s.task}  ${s.records} records  ${mb} MB  ${s.batches} batches  ${s.durationMs} ms  ${s.stopReason}${committed ? `  committed ${committed}` : ''}${error}`;
}

/**
 * What `run` prints of an invocation: its summary redacted field by field first (JSON escaping would
 * change a secret's text and hide it from a search), then the line as a whole; one JSON line with `json`.
 */
export function showSummary(
  n: number,
  summary: InvocationSummary,
  redactor: Redactor,
  json: boolean,
): string {
  const shown = redactor.deep(summary) as InvocationSummary;
  return json ? JSON.stringify(shown) : redactor.text(describeSummary(n, shown));
}

/**
 * Runs the invocations one after another (a source's, or a scheduled sink's); with `--event`, feeds that
 * Kafka event to a sink's triggered handler instead. Returns the exit code (1 if any invocation failed).
 */
export async function runCommand(args: readonly string[], io: CliIo): Promise<number> {
  const a = parseRunArgs(args);
  const env = { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' };
  const fn = createConnectorFunction({
    bundleDir: a.dir,
    connector: a.connector,
    env,
    logSink: (line) => process.stderr.write(line),
    createOffsetsTable: true,
  });
  const timeoutMs = a.timeoutMs ?? fn.connector.common['invocation.timeout.ms'];
  const state: RunState = { abandoned: false };
  try {
    if (a.event !== undefined) return await runEvent(fn, a.event, a, timeoutMs, io);
    checkTask(fn, a);
    return await runScheduled(fn, a, timeoutMs, io, state);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    // After the bundle loaded, its redactor knows its secret values: print the error through it.
    const { text, code } = describeCliError(err, fn.bundle.redactor);
    io.err(text);
    return code;
  } finally {
    // Timed out: its I/O may still hang, so closing the clients could too; the process just ends.
    if (!state.abandoned) await fn.close();
  }
}

/** What the scheduled runs leave for the end: whether an invocation was abandoned at its timeout. */
interface RunState {
  abandoned: boolean;
}

/** `--task N` names a task the connector runs; else a usage error naming the connector and the range. */
function checkTask(fn: ConnectorFunction, a: RunArgs): void {
  if (a.task < fn.tasks) return;
  const tasksMax = fn.connector.common['tasks.max'];
  const runs = `${fn.tasks} task${fn.tasks === 1 ? '' : 's'}${tasksMax === fn.tasks ? '' : ` (tasks.max=${tasksMax})`}`;
  throw new UsageError(
    `--task ${a.task}: connector ${a.connector} runs ${runs}; --task takes 0${fn.tasks === 1 ? '' : ` to ${fn.tasks - 1}`}\n${RUN_USAGE}`,
  );
}

/** The scheduled invocations, one after another; 1 if any failed. */
async function runScheduled(
  fn: ConnectorFunction,
  a: RunArgs,
  timeoutMs: number,
  io: CliIo,
  state: RunState,
): Promise<number> {
  const redactor = fn.bundle.redactor;
  let failed = false;
  for (let n = 1; n <= a.invocations; n++) {
    let summary: InvocationSummary;
    try {
      const context = localContext(`connect-fn-${a.connector}`, timeoutMs);
      const invocation = fn.handler({ task: a.task }, context);
      // As Lambda: at the timeout the invocation ends, whatever the handler still does (no summary).
      summary = await withinLambdaTimeout(invocation, timeoutMs, systemClock, `${a.connector}/${a.task}`);
    } catch (err) {
      if (err instanceof InvocationTimedOutError) state.abandoned = true;
      if (!(err instanceof InvocationFailedError)) throw err;
      summary = err.summary;
      failed = true;
    }
    io.out(showSummary(n, summary, redactor, a.json));
  }
  return failed ? Exit.failed : Exit.ok;
}

/** Reads the Kafka event in `file` (JSON); a usage error names the file and what is wrong with it. */
async function readEvent(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--event ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--event ${file}: not JSON (${err instanceof Error ? err.message : err})`);
  }
}

/**
 * Feeds one Kafka event to a sink's triggered handler; prints the summary and where the event source
 * mapping would resume each failed partition. Exit 1 when a partition failed.
 */
async function runEvent(
  fn: ConnectorFunction,
  file: string,
  a: RunArgs,
  timeoutMs: number,
  io: CliIo,
): Promise<number> {
  if (fn.kind !== 'sink') {
    throw new UsageError(
      `--event feeds a Kafka event to a sink connector; ${a.connector} is a source\n${RUN_USAGE}`,
    );
  }
  const event = await readEvent(file);
  const { summary, response } = await fn.triggerInvocation(
    event,
    localContext(`connect-fn-${a.connector}`, timeoutMs),
  );
  const redactor = fn.bundle.redactor;
  if (a.json) {
    io.out(JSON.stringify(redactor.deep({ ...summary, batchItemFailures: response.batchItemFailures })));
  } else {
    io.out(showSummary(1, summary, redactor, false));
    for (const { itemIdentifier } of response.batchItemFailures) {
      io.out(`  retry ${itemIdentifier.partition} from offset ${itemIdentifier.offset}`);
    }
  }
  return response.batchItemFailures.length > 0 ? Exit.failed : Exit.ok;
}
