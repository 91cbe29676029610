/**
 * `connect-fn quickstart` (what `npm start` runs): the quickstart pipeline against a local stack.
 *
 * 1. start Kafka and DynamoDB Local (or use KAFKA_BROKERS / DYNAMODB_ENDPOINT when set);
 * 2. run the `examples/quickstart` bundle's `orders` connector (datagen → Kafka, exactly-once), invoking
 *    each task's function until it is idle, a progress line per invocation;
 * 3. run its `orders-file` connector (Kafka → a file, Connect's FileStreamSink as a scheduled function
 *    that reads without joining a consumer group) until it has caught up: records flow both ways;
 * 4. create the DynamoDB tables (as the infrastructure would), run `orders-table` (the DynamoDB sink,
 *    exactly-once) until it has caught up, then `orders-changes` (the table's stream back into Kafka);
 * 5. check what a person would: read the topic back (read_committed) and the committed offsets, and
 *    show that every task's sequence numbers arrived exactly once and the offsets point past the last;
 *    that the file holds one line per record and the sink's committed offsets (consumer group
 *    `connect-orders-file`, as Kafka Connect keeps them) are at the end of the topic; that the table holds
 *    one item per record and the changes topic one INSERT per item;
 * 6. stop what it started. Exit 1 when the numbers disagree.
 * @module
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { InvocationFailedError } from '../app/function-common.ts';
import { createSinkFunction } from '../app/sink-function.ts';
import { createSourceFunction } from '../app/source-function.ts';
import { createKafkaClients } from '../kafka/index.ts';
import { localContext } from '../lambda/lambda-context.ts';
import type { InvocationSummary } from '../runtime/summary.ts';
import { startStack } from '../stack/index.ts';
import { type CliIo, Exit } from './io.ts';
import {
  checkSink,
  checkTasks,
  readTaskSequences,
  type SinkCheck,
  type TaskCheck,
} from './quickstart-check.ts';
import {
  checkDynamoDb,
  type DynamoDbCheck,
  localDynamoDb,
  ORDERS_TABLE,
  prepareTables,
} from './quickstart-dynamodb.ts';
import { describeSummary } from './run-command.ts';

const CONNECTOR = 'orders';
const SINK = 'orders-file';
/** The sink's file, relative to the bundle (its `file`); emptied before each run. */
const SINK_DIR = 'out';
const SINK_FILE = 'out/orders.jsonl';
const TABLE_SINK = 'orders-table';
const CHANGES = 'orders-changes';
/** The topic `orders-changes` writes to (its `topic.format`). */
const CHANGES_TOPIC = 'orders-changes';
/** A task runs until idle; this bounds a misbehaving one. */
const MAX_INVOCATIONS_PER_TASK = 20;

/** What `runUntilIdle` needs of a function: its connector's timeout, and its handler. */
interface Invocable {
  readonly connector: {
    readonly name: string;
    readonly common: { readonly 'invocation.timeout.ms': number };
  };
  handler(event: unknown, context: ReturnType<typeof localContext>): Promise<InvocationSummary>;
}

/** Invokes task `task` until it is idle (a progress line each); false when an invocation failed. */
async function runUntilIdle(
  fn: Invocable,
  task: number,
  io: CliIo,
  counter: { n: number },
): Promise<boolean> {
  const timeoutMs = fn.connector.common['invocation.timeout.ms'];
  for (let i = 0; i < MAX_INVOCATIONS_PER_TASK; i++) {
    counter.n++;
    try {
      const summary = await fn.handler({ task }, localContext(`connect-fn-${fn.connector.name}`, timeoutMs));
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

function reportSink(check: SinkCheck, records: number, io: CliIo): boolean {
  const delivered = check.missing === 0 && check.duplicates === 0 && check.lines === records;
  const caughtUp = check.partitions.every((p) => p.committed === p.end);
  const offsets = check.partitions
    .map((p) => `${CONNECTOR}-${p.partition}=${p.committed ?? 'none'} (end ${p.end})`)
    .join(', ');
  io.out(
    `  sink ${SINK}: ${check.lines} lines in ${SINK_FILE}, ${check.missing} records missing, ` +
      `${check.duplicates} duplicates: ${delivered ? 'OK' : 'MISMATCH'}`,
  );
  io.out(
    `  committed offsets of consumer group connect-${SINK}: ${offsets}: ${caughtUp ? 'OK' : 'MISMATCH'}`,
  );
  return delivered && caughtUp;
}

function reportDynamoDb(check: DynamoDbCheck, records: number, io: CliIo): boolean {
  const itemsOk = check.items === records;
  const changesOk = check.changes === check.items && check.distinctChanges === check.items;
  const caughtUp = check.partitions.every((p) => p.committed === p.end);
  const events = Object.entries(check.byEvent)
    .map(([name, n]) => `${n} ${name}`)
    .join(', ');
  const offsets = check.partitions
    .map((p) => `${CONNECTOR}-${p.partition}=${p.committed ?? 'none'} (end ${p.end})`)
    .join(', ');
  io.out(
    `  sink ${TABLE_SINK}: ${check.items} items in DynamoDB table ${ORDERS_TABLE} for ${records} records: ${itemsOk ? 'OK' : 'MISMATCH'}`,
  );
  io.out(
    `  committed offsets of consumer group connect-${TABLE_SINK}: ${offsets}: ${caughtUp ? 'OK' : 'MISMATCH'}`,
  );
  io.out(
    `  source ${CHANGES}: ${check.changes} change events in topic ${CHANGES_TOPIC} (${events || 'none'}), ` +
      `${check.distinctChanges} distinct, one per item: ${changesOk ? 'OK' : 'MISMATCH'}`,
  );
  return itemsOk && changesOk && caughtUp;
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
    await rm(join(bundleDir, SINK_DIR), { recursive: true, force: true });
    await mkdir(join(bundleDir, SINK_DIR), { recursive: true });
    const sink = createSinkFunction({
      bundleDir,
      connector: SINK,
      env,
      logSink: (line) => process.stderr.write(line),
    });
    io.err(`running ${SINK} (${sink.connector.className}) until it has caught up with topic ${CONNECTOR}`);
    try {
      finished = (await runUntilIdle(sink, 0, io, counter)) && finished;
    } finally {
      await sink.close();
    }
    const dynamodb = localDynamoDb(stack.dynamodbEndpoint);
    try {
      await prepareTables(dynamodb);
      const tableSink = createSinkFunction({
        bundleDir,
        connector: TABLE_SINK,
        env,
        logSink: (line) => process.stderr.write(line),
      });
      io.err(`running ${TABLE_SINK} (${tableSink.connector.className}) into DynamoDB table ${ORDERS_TABLE}`);
      try {
        finished = (await runUntilIdle(tableSink, 0, io, counter)) && finished;
      } finally {
        await tableSink.close();
      }
      const changes = createSourceFunction({
        bundleDir,
        connector: CHANGES,
        env,
        logSink: (line) => process.stderr.write(line),
      });
      io.err(
        `running ${CHANGES} (${changes.connector.className}): the table's changes into topic ${CHANGES_TOPIC}`,
      );
      try {
        finished = (await runUntilIdle(changes, 0, io, counter)) && finished;
      } finally {
        await changes.close();
      }
      const clients = createKafkaClients(fn.bundle.worker, { env });
      const byTask = await readTaskSequences(clients, String(fn.connector.config['kafka.topic']));
      const checks = await checkTasks(fn, clients, byTask);
      const sinkCheck = await checkSink(sink, clients, join(bundleDir, SINK_FILE), CONNECTOR, byTask);
      const tableCheck = await checkDynamoDb(tableSink, clients, dynamodb, CONNECTOR, CHANGES_TOPIC);
      const produced = checks.reduce((n, c) => n + c.received, 0);
      const sourceOk = report(checks, io);
      const sinkOk = reportSink(sinkCheck, produced, io);
      const tableOk = reportDynamoDb(tableCheck, produced, io);
      const ok = sourceOk && sinkOk && tableOk && finished;
      return ok ? Exit.ok : Exit.failed;
    } finally {
      dynamodb.destroy();
    }
  } finally {
    await stack.stop();
  }
}
