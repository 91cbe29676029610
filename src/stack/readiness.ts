/**
 * Readiness means a service answered a real request, not that a port is open: Kafka must describe its
 * cluster and create a topic (which needs an unfenced broker and an elected controller), DynamoDB Local
 * must answer `ListTables`.
 * @module
 */
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { Kafka, logLevel } from 'kafkajs';
import { StackError } from '../errors.ts';
import { sleep, tailOfFile } from './jvm-process.ts';

/** Between attempts: short, because a JVM becomes ready at an unpredictable moment. */
const RETRY_INTERVAL_MS = 200;
/** Created (then deleted) by the full Kafka probe. */
const PROBE_TOPIC = 'connect-fn-stack-probe';

/** Dummy credentials DynamoDB Local accepts (it checks the signature's shape, not its secret). */
export const LOCAL_AWS = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
} as const;

export interface KafkaProbeOptions {
  /** Also create, list and delete a topic (proves the broker accepts writes to metadata). */
  readonly createTopic: boolean;
  readonly timeoutMs: number;
}

/** One attempt to talk to Kafka at `brokers` (comma-separated host:port); throws if it does not answer. */
export async function probeKafka(brokers: string, options: KafkaProbeOptions): Promise<void> {
  const kafka = new Kafka({
    clientId: 'connect-fn-stack-probe',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: Math.min(options.timeoutMs, 3_000),
    requestTimeout: options.timeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0) throw new Error('cluster has no brokers yet');
    if (options.createTopic) await createAndDropProbeTopic(admin, options.timeoutMs);
    else await admin.listTopics();
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

type KafkaAdmin = ReturnType<Kafka['admin']>;

async function createAndDropProbeTopic(admin: KafkaAdmin, timeoutMs: number): Promise<void> {
  // Returns false instead of failing when an earlier, timed-out attempt already created it.
  await admin.createTopics({
    topics: [{ topic: PROBE_TOPIC, numPartitions: 1, replicationFactor: 1 }],
    waitForLeaders: true,
    timeout: timeoutMs,
  });
  const topics = await admin.listTopics();
  if (!topics.includes(PROBE_TOPIC)) throw new Error(`created topic ${PROBE_TOPIC} is not listed yet`);
  // Tests that list topics should see only their own.
  await admin.deleteTopics({ topics: [PROBE_TOPIC], timeout: timeoutMs });
}

/** One `ListTables` against `endpoint`; throws if it does not answer. */
export async function probeDynamoDb(endpoint: string, timeoutMs: number): Promise<void> {
  const client = new DynamoDBClient({
    ...LOCAL_AWS,
    endpoint,
    maxAttempts: 1,
    requestHandler: { connectionTimeout: Math.min(timeoutMs, 3_000), requestTimeout: timeoutMs },
  });
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }));
  } finally {
    client.destroy();
  }
}

export interface ReadinessWait {
  /** `kafka` or `dynamodb`, for messages. */
  readonly name: string;
  readonly probe: () => Promise<void>;
  readonly deadlineMs: number;
  /** Settles when the process exits; a process that exits before answering fails the wait at once. */
  readonly exited?: Promise<string>;
  readonly logFiles: readonly string[];
}

/** Retries `probe` until it succeeds, the process exits, or the deadline passes (then `StackError`). */
export async function waitUntilReady(wait: ReadinessWait): Promise<void> {
  let exitReason: string | undefined;
  void wait.exited?.then((reason) => {
    exitReason = reason;
  });
  while (true) {
    const failure = await wait.probe().then(
      () => undefined,
      (err: unknown) => (err instanceof Error ? err.message : String(err)),
    );
    if (failure === undefined) return;
    if (exitReason !== undefined) {
      throw await stackFailure(`${wait.name} exited (${exitReason}) before it answered`, wait.logFiles);
    }
    if (Date.now() + RETRY_INTERVAL_MS >= wait.deadlineMs) {
      throw await stackFailure(
        `${wait.name} did not answer before the deadline (last error: ${failure})`,
        wait.logFiles,
      );
    }
    await sleep(RETRY_INTERVAL_MS);
  }
}

/** A `StackError` whose message ends with the last lines of the first log. */
export async function stackFailure(message: string, logFiles: readonly string[]): Promise<StackError> {
  const first = logFiles[0];
  const tail = first === undefined ? '' : `\n--- last lines of ${first} ---\n${await tailOfFile(first, 30)}`;
  return new StackError(`${message}${tail}`, logFiles);
}
