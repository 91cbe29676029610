/**
 * `connect-fn quickstart` (what `npm start` runs): the quickstart pipeline against a local stack.
 *
 * 1. start Kafka and DynamoDB Local (or use KAFKA_BROKERS / DYNAMODB_ENDPOINT when set);
 * 2. run the `examples/quickstart` bundle's `orders` connector (datagen → Kafka, exactly-once), invoking
 *    each task's function until it is idle, a progress line per invocation;
 * 3. check what a person would: read the topic back (read_committed) and the committed offsets, and
 *    show that every task's sequence numbers arrived exactly once and the offsets point past the last;
 * 4. stop what it started. Exit 1 when the numbers disagree.
 * @module
 */
import { join } from 'node:path';
import {
  createSourceFunction,
  InvocationFailedError,
  type SourceFunction,
} from '../../handlers/source-function.ts';
import { startStack } from '../../test/stack/index.ts';
import { createKafkaClients } from '../kafka/index.ts';
import { localContext } from '../lambda/lambda-context.ts';
import { type CliIo, Exit } from './io.ts';
import { checkTasks, readTaskSequences, type TaskCheck } from './quickstart-check.ts';
import { describeSummary } from './run-command.ts';

const CONNECTOR = 'orders';
/** A task runs until idle; this bounds a misbehaving one. */
const MAX_INVOCATIONS_PER_TASK = 20;

async function runUntilIdle(
  fn: SourceFunction,
  task: number,
  io: CliIo,
  counter: { n: number },
): Promise<boolean> {
  const timeoutMs = fn.connector.common['invocation.timeout.ms'];
  for (let i = 0; i < MAX_INVOCATIONS_PER_TASK; i++) {
    counter.n++;
    try {
      const summary = await fn.handler({ task }, localContext(`connect-fn-${CONNECTOR}`, timeoutMs));
      io.err(describeSummary(counter.n, summary));
      if (summary.stopReason === 'idle') return true;
    } catch (err) {
      if (!(err instanceof InvocationFailedError)) throw err;
      io.err(describeSummary(counter.n, err.summary));
      return false;
    }
  }
  return false;
}

function report(checks: readonly TaskCheck[], io: CliIo): boolean {
  let ok = true;
  io.out('quickstart summary');
  for (const c of checks) {
    const good = c.missing === 0 && c.duplicates === 0 && c.committed === c.expected;
    ok &&= good;
    io.out(
      `  task ${c.task}: ${c.received} records in the topic, sequences 0..${c.expected - 1} expected: ` +
        `${c.missing} missing, ${c.duplicates} duplicates; committed offset {"sequence":${c.committed}} ${good ? 'OK' : 'MISMATCH'}`,
    );
  }
  const total = checks.reduce((n, c) => n + c.received, 0);
  io.out(`  ${total} records produced to topic ${CONNECTOR}, exactly once: ${ok ? 'yes' : 'NO'}`);
  return ok;
}

/** Runs the quickstart; returns the exit code. */
export async function quickstartCommand(io: CliIo, rootDir: string): Promise<number> {
  const bundleDir = join(rootDir, 'examples', 'quickstart');
  const stack = await startStack({ log: (line) => io.err(line) });
  try {
    const env = {
      ...process.env,
      KAFKA_BROKERS: stack.kafkaBrokers,
      DYNAMODB_ENDPOINT: stack.dynamodbEndpoint,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    };
    const fn = createSourceFunction({
      bundleDir,
      connector: CONNECTOR,
      env,
      logSink: (line) => process.stderr.write(line),
    });
    const tasks = fn.connector.common['tasks.max'];
    io.err(
      `running ${CONNECTOR} (${fn.connector.className}, ${tasks} tasks) from ${bundleDir} until every task is idle`,
    );
    const counter = { n: 0 };
    let finished = true;
    try {
      for (let task = 0; task < tasks; task++)
        finished = (await runUntilIdle(fn, task, io, counter)) && finished;
    } finally {
      await fn.close();
    }
    const clients = createKafkaClients(fn.bundle.worker, { env });
    const checks = await checkTasks(
      fn,
      clients,
      await readTaskSequences(clients, String(fn.connector.config['kafka.topic'])),
    );
    const ok = report(checks, io) && finished;
    return ok ? Exit.ok : Exit.failed;
  } finally {
    await stack.stop();
  }
}
