/**
 * The local stack (DESIGN.md §6): a real Apache Kafka (KRaft, single node) and a real DynamoDB Local,
 * resolved from Maven Central, on free ports, in a temp dir. `KAFKA_BROKERS` / `DYNAMODB_ENDPOINT`, when
 * set, are used instead (each independently) and are only checked, never started or stopped.
 *
 * The same code serves the vitest global setup (attached JVMs) and `connect-fn stack up` (detached JVMs).
 * The Kafka it starts is 3.9.2, or the 4.x release `CONNECT_FN_KAFKA_VERSION` names (./kafka-version.ts);
 * `startKafkaBroker` starts one more broker of a given version on its own ports, for a test that needs it.
 *
 * @example
 * ```ts
 * const stack = await startStack({ log: console.error });
 * try {
 *   const kafka = new Kafka({ brokers: [stack.kafkaBrokers] });
 *   // ...
 * } finally {
 *   await stack.stop();
 * }
 * ```
 * @module
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { StackError } from '../errors.ts';
import { startDynamoDbLocal } from './dynamodb-local.ts';
import { stopProcess } from './jvm-process.ts';
import {
  randomScramPassword,
  SCRAM_MECHANISMS,
  type ScramListener,
  type ScramMechanism,
  startKafkaNode,
} from './kafka-node.ts';
import { DEFAULT_KAFKA_VERSION, KAFKA_VERSION_ENV, kafkaMajor, kafkaVersionFrom } from './kafka-version.ts';
import {
  defaultCacheRoot,
  resolveKafka4Classpath,
  resolveStackClasspaths,
  type StackClasspaths,
} from './maven-classpath.ts';
import {
  requireJava,
  requireMaven,
  type StackServiceName,
  type ToolEnvironment,
  toolEnvironment,
} from './preconditions.ts';
import { probeDynamoDb, probeKafka, waitUntilReady } from './readiness.ts';
import { freePorts, type StartedService } from './service.ts';

export type { StartedService } from './service.ts';

export interface StackOptions {
  /** Where `KAFKA_BROKERS`, `DYNAMODB_ENDPOINT`, `PATH` and `JAVA_HOME` are read; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Keep DynamoDB Local's tables in this directory (`-dbPath`) instead of in memory. */
  readonly dbPath?: string | undefined;
  /** Start the JVMs in their own process groups so they outlive this process (`stack up`). */
  readonly detached?: boolean;
  /** How long both services get to answer; default 120 s (a warm start takes well under 30 s). */
  readonly readyTimeoutMs?: number;
  /** Progress and timings, one line each; default stderr. */
  readonly log?: (line: string) => void;
  /** Parent of the stack's temp dir; default the OS temp dir. */
  readonly tempRoot?: string;
  /** Where resolved classpaths are cached; see `defaultCacheRoot`. */
  readonly cacheRoot?: string;
  /** Where java and mvn are looked for; default from `env`. */
  readonly tools?: ToolEnvironment;
}

/** A Kafka broker started on its own, with the classpath it runs from (its `kafka-clients` too). */
export interface RunningKafka {
  /** `127.0.0.1:port` */
  readonly brokers: string;
  readonly version: string;
  /** The broker's runtime classpath, which holds `kafka-clients` of the same version. */
  readonly classpath: string;
  readonly javaPath: string;
  readonly logFile: string;
  /** Stops the broker and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** Where and as whom to reach Kafka over SASL_PLAINTEXT with SCRAM. */
export interface KafkaScramAccess {
  /** `host:port[,host:port...]` of the SASL_PLAINTEXT listener. */
  readonly brokers: string;
  readonly username: string;
  readonly password: string;
  /** The mechanism to use by default (SCRAM-SHA-512). */
  readonly mechanism: ScramMechanism;
  /** Every mechanism the user has credentials for. */
  readonly mechanisms: readonly ScramMechanism[];
}

/** A stack ready for use. Only `started` services are ever stopped. */
export interface RunningStack {
  /** `host:port[,host:port...]` */
  readonly kafkaBrokers: string;
  /**
   * The SCRAM listener of the broker this stack started; for a broker from `KAFKA_BROKERS`, taken from
   * `KAFKA_SCRAM_BROKERS`, `KAFKA_SCRAM_USERNAME`, `KAFKA_SCRAM_PASSWORD` (and `KAFKA_SCRAM_MECHANISM`)
   * when all are set, otherwise undefined (tests that need it skip).
   */
  readonly kafkaScram: KafkaScramAccess | undefined;
  /** `http://host:port` */
  readonly dynamodbEndpoint: string;
  /** The services this stack started (none when both came from the environment). */
  readonly started: readonly StartedService[];
  /** The stack's temp dir (removed by `stop`), if it started anything. */
  readonly rootDir: string | undefined;
  readonly logFiles: readonly string[];
  /** Stops what this stack started (SIGTERM, then SIGKILL) and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
}

const DEFAULT_READY_TIMEOUT_MS = 120_000;
const ROOT_DIR_PREFIX = 'connect-fn-stack-';
/** An address from the environment must answer quickly: it is supposed to be running already. */
const EXTERNAL_READY_TIMEOUT_MS = 15_000;

/** A service that answers: one we started, or one named by the environment. */
interface ReadyService {
  readonly address: string;
  readonly started?: StartedService;
  readonly scram?: KafkaScramAccess | undefined;
}

const SCRAM_USERNAME = 'connect-fn';

/** Everything needed to launch JVMs, prepared once for both services. */
interface Launch {
  readonly javaPath: string;
  readonly classpaths: StackClasspaths;
  readonly rootDir: string;
  readonly detached: boolean;
  readonly deadlineMs: number;
  readonly ports: readonly number[];
  readonly kafkaVersion: string;
}

/** Starts (or takes from the environment) Kafka and DynamoDB Local, both in parallel. */
export async function startStack(options: StackOptions = {}): Promise<RunningStack> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const startedMs = Date.now();
  const externalKafka = env.KAFKA_BROKERS || undefined;
  const externalDynamoDb = env.DYNAMODB_ENDPOINT || undefined;
  const needs: StackServiceName[] = [];
  if (externalKafka === undefined) needs.push('Kafka');
  if (externalDynamoDb === undefined) needs.push('DynamoDB Local');
  // Java and Maven are only looked for when something has to be started.
  const launch = needs.length > 0 ? await prepareLaunch(options, env, needs, log) : undefined;

  const kafkaTask =
    externalKafka !== undefined
      ? checkExternal('KAFKA_BROKERS', externalKafka).then((ready) => ({
          ...ready,
          scram: scramFromEnv(env),
        }))
      : startKafka(launch!);
  const dynamoDbTask =
    externalDynamoDb !== undefined
      ? checkExternal('DYNAMODB_ENDPOINT', externalDynamoDb)
      : startDynamoDb(launch!, options.dbPath);
  const [kafka, dynamoDb] = await settleBoth(kafkaTask, dynamoDbTask, launch?.rootDir);

  for (const [variable, service] of [
    ['KAFKA_BROKERS', kafka],
    ['DYNAMODB_ENDPOINT', dynamoDb],
  ] as const) {
    const started = service.started;
    if (started) log(`${started.name} ready in ${seconds(started.readyMs)} (${started.address})`);
    else log(`using ${variable}=${service.address} (not started here)`);
  }
  if (launch) log(`stack ready in ${seconds(Date.now() - startedMs)} (logs in ${launch.rootDir})`);
  return runningStack(kafka, dynamoDb, launch?.rootDir);
}

async function prepareLaunch(
  options: StackOptions,
  env: NodeJS.ProcessEnv,
  needs: readonly StackServiceName[],
  log: (line: string) => void,
): Promise<Launch> {
  const tools = options.tools ?? toolEnvironment(env);
  // Only a broker the stack starts has a version to choose.
  const kafkaVersion = needs.includes('Kafka') ? kafkaVersionFrom(env) : DEFAULT_KAFKA_VERSION;
  const java = await requireJava(tools, needs);
  const resolve = {
    cacheRoot: options.cacheRoot ?? defaultCacheRoot(env),
    requireMaven: () => requireMaven(tools, needs),
    log,
  };
  const classpaths = await resolveStackClasspaths(resolve);
  const kafkaClasspath =
    kafkaMajor(kafkaVersion) >= 4
      ? await resolveKafka4Classpath(kafkaVersion, resolve)
      : classpaths.kafkaClasspath;
  const rootDir = await mkdtemp(join(options.tempRoot ?? tmpdir(), ROOT_DIR_PREFIX));
  const what = needs.map((n) => (n === 'Kafka' ? `Kafka ${kafkaVersion}` : n));
  log(`starting ${what.join(' and ')} in ${rootDir}`);
  return {
    javaPath: java.javaPath,
    classpaths: { ...classpaths, kafkaClasspath },
    kafkaVersion,
    rootDir,
    detached: options.detached ?? false,
    // The deadline starts after Maven: a cold download may take minutes and is reported on its own.
    deadlineMs: Date.now() + (options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS),
    ports: await freePorts(4),
  };
}

async function startKafka(launch: Launch): Promise<ReadyService> {
  const dir = join(launch.rootDir, 'kafka');
  await mkdir(dir);
  const scram: ScramListener = {
    port: launch.ports[3]!,
    username: SCRAM_USERNAME,
    password: randomScramPassword(),
  };
  const started = await startKafkaNode({
    ...launch,
    classpath: launch.classpaths.kafkaClasspath,
    dir,
    port: launch.ports[0]!,
    controllerPort: launch.ports[1]!,
    scram,
    kafkaVersion: launch.kafkaVersion,
  });
  const access: KafkaScramAccess = {
    brokers: `127.0.0.1:${scram.port}`,
    username: scram.username,
    password: scram.password,
    mechanism: SCRAM_MECHANISMS[0],
    mechanisms: SCRAM_MECHANISMS,
  };
  return { address: started.address, started, scram: access };
}

/**
 * Starts one more single-node broker of `version` (default 3.9.2) on free ports, in its own temp dir,
 * whatever `KAFKA_BROKERS` says: for a test that needs a broker of another version (a Kafka 4.x feature).
 * Stop it with `stop()`.
 *
 * @example
 * ```ts
 * const kafka4 = await startKafkaBroker({ version: '4.4.0' });
 * try { ... kafka4.brokers ... } finally { await kafka4.stop(); }
 * ```
 */
export async function startKafkaBroker(
  options: Omit<StackOptions, 'dbPath' | 'detached'> & { readonly version?: string } = {},
): Promise<RunningKafka> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const version = options.version ?? DEFAULT_KAFKA_VERSION;
  const launch = await prepareLaunch(options, { ...env, [KAFKA_VERSION_ENV]: version }, ['Kafka'], log);
  try {
    const ready = await startKafka(launch);
    const started = ready.started!;
    let stopping: Promise<void> | undefined;
    return {
      brokers: ready.address,
      version,
      classpath: launch.classpaths.kafkaClasspath,
      javaPath: launch.javaPath,
      logFile: started.logFile,
      stop() {
        stopping ??= stopStack([started], launch.rootDir);
        return stopping;
      },
    };
  } catch (err) {
    if (!(err instanceof StackError) || !err.logFiles.some((f) => f.startsWith(launch.rootDir))) {
      await rm(launch.rootDir, { recursive: true, force: true });
    }
    throw err;
  }
}

/** The SCRAM listener of an external broker, when the environment describes one completely. */
function scramFromEnv(env: NodeJS.ProcessEnv): KafkaScramAccess | undefined {
  const brokers = env.KAFKA_SCRAM_BROKERS;
  const username = env.KAFKA_SCRAM_USERNAME;
  const password = env.KAFKA_SCRAM_PASSWORD;
  if (!brokers || !username || !password) return undefined;
  const mechanism = env.KAFKA_SCRAM_MECHANISM === 'SCRAM-SHA-256' ? 'SCRAM-SHA-256' : 'SCRAM-SHA-512';
  return { brokers, username, password, mechanism, mechanisms: [mechanism] };
}

async function startDynamoDb(launch: Launch, dbPath: string | undefined): Promise<ReadyService> {
  const dir = join(launch.rootDir, 'dynamodb');
  await mkdir(dir);
  const started = await startDynamoDbLocal({
    ...launch,
    classpath: launch.classpaths.dynamodbClasspath,
    nativeLibDir: launch.classpaths.nativeLibDir,
    dir,
    port: launch.ports[2]!,
    dbPath,
  });
  return { address: started.address, started };
}

/** An address from the environment is used as is, once it has answered a request. */
async function checkExternal(variable: 'KAFKA_BROKERS' | 'DYNAMODB_ENDPOINT', address: string) {
  const probe =
    variable === 'KAFKA_BROKERS'
      ? () => probeKafka(address, { createTopic: false, timeoutMs: 5_000 })
      : () => probeDynamoDb(address, 5_000);
  try {
    await waitUntilReady({
      name: `${variable}=${address}`,
      probe,
      deadlineMs: Date.now() + EXTERNAL_READY_TIMEOUT_MS,
      logFiles: [],
    });
  } catch (err) {
    throw new StackError(`${(err as Error).message}; unset ${variable} to start a local one instead`, []);
  }
  return { address };
}

/**
 * Waits for both. If either fails, the other is stopped too and the error (or both, combined) is thrown;
 * the temp dir is kept when it holds a log the error points to.
 */
async function settleBoth(
  kafkaTask: Promise<ReadyService>,
  dynamoDbTask: Promise<ReadyService>,
  rootDir: string | undefined,
): Promise<[ReadyService, ReadyService]> {
  const [kafka, dynamoDb] = await Promise.allSettled([kafkaTask, dynamoDbTask]);
  if (kafka.status === 'fulfilled' && dynamoDb.status === 'fulfilled') return [kafka.value, dynamoDb.value];
  const started = [kafka, dynamoDb].flatMap((r) => (r.status === 'fulfilled' && r.value.started) || []);
  await stopServices(started);
  const errors = [kafka, dynamoDb].flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  const logFiles = errors.flatMap((e) => (e instanceof StackError ? e.logFiles : []));
  if (rootDir !== undefined && !logFiles.some((file) => file.startsWith(rootDir))) {
    await rm(rootDir, { recursive: true, force: true });
  }
  if (errors.length === 1) throw errors[0];
  const messages = errors.map((e) => (e instanceof StackError ? e.message.split('\nlogs:\n')[0] : String(e)));
  throw new StackError(messages.join('\n\n'), logFiles);
}

function runningStack(
  kafka: ReadyService,
  dynamoDb: ReadyService,
  rootDir: string | undefined,
): RunningStack {
  const started = [kafka.started, dynamoDb.started].flatMap((s) => (s === undefined ? [] : [s]));
  let stopping: Promise<void> | undefined;
  return {
    kafkaBrokers: kafka.address,
    kafkaScram: kafka.scram,
    dynamodbEndpoint: dynamoDb.address,
    started,
    rootDir,
    logFiles: started.map((s) => s.logFile),
    stop() {
      stopping ??= stopStack(started, rootDir);
      return stopping;
    },
  };
}

/** Stops our JVMs in parallel; pids that are gone or not ours are skipped. */
export async function stopServices(services: readonly StartedService[]): Promise<void> {
  await Promise.all(services.map((service) => stopProcess(service.pid, service.dir)));
}

/** Stops the services and removes the stack's temp dir. */
export async function stopStack(services: readonly StartedService[], rootDir: string | undefined) {
  await stopServices(services);
  // The dir may come from a state file on disk: only ever delete a directory this module named.
  if (rootDir !== undefined && basename(rootDir).startsWith(ROOT_DIR_PREFIX)) {
    await rm(rootDir, { recursive: true, force: true });
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
