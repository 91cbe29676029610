/**
 * A single-node Apache Kafka in KRaft mode (combined broker + controller), run from the Maven classpath:
 * write `server.properties`, format the storage with Kafka's own StorageTool, start `kafka.Kafka`, and wait
 * until it describes its cluster and creates a topic.
 *
 * Besides the PLAINTEXT listener (also used between broker and controller) the broker can open a second,
 * SASL_PLAINTEXT listener named `SCRAM` that accepts SCRAM-SHA-512 and SCRAM-SHA-256. Its one user is
 * created when the storage is formatted (`--add-scram`), as KRaft clusters bootstrap SCRAM credentials.
 *
 * Kafka 3.9 logs with log4j 1 (reload4j), Kafka 4.x with log4j 2: the node writes the config of the one its
 * version uses (`kafkaVersion`, default 3.9).
 * @module
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { exitOf, spawnJvm } from './jvm-process.ts';
import { kafkaMajor } from './kafka-version.ts';
import { probeKafka, stackFailure } from './readiness.ts';
import { awaitService, type ServiceStart, type StartedService } from './service.ts';

/** The SCRAM mechanisms the `SCRAM` listener accepts, the first being the one tests use by default. */
export const SCRAM_MECHANISMS = ['SCRAM-SHA-512', 'SCRAM-SHA-256'] as const;
export type ScramMechanism = (typeof SCRAM_MECHANISMS)[number];

/** The SASL_PLAINTEXT listener and its user. */
export interface ScramListener {
  readonly port: number;
  readonly username: string;
  readonly password: string;
}

export interface KafkaStart extends ServiceStart {
  /** The KRaft controller listener's port. */
  readonly controllerPort: number;
  /** Opens the SCRAM listener when given. */
  readonly scram?: ScramListener | undefined;
  /** The broker's version (the classpath's); picks the logging config. Default: a 3.x broker. */
  readonly kafkaVersion?: string | undefined;
}

/** A modest heap: the broker idles at ~200 MB; 768 MB leaves room for benchmarks. */
const BROKER_JVM_ARGS = [
  '-Xms256m',
  '-Xmx768m',
  // The flags Kafka's own kafka-server-start.sh uses.
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-Djava.awt.headless=true',
];
/** StorageTool runs for under a second: the C1-only, serial-GC JVM starts fastest. */
const TOOL_JVM_ARGS = ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'];
/** Per-attempt request timeout while probing. */
const PROBE_TIMEOUT_MS = 5_000;

/** Starts the broker and resolves once it answers; on failure it is stopped and `StackError` thrown. */
export async function startKafkaNode(start: KafkaStart): Promise<StartedService> {
  const startedMs = Date.now();
  const logFile = join(start.dir, 'kafka.log');
  const serverProperties = join(start.dir, 'server.properties');
  await writeFile(serverProperties, serverConfig(start));
  const log4jFlag = await writeLogConfig(start, logFile);

  await formatStorage(start, [...TOOL_JVM_ARGS, log4jFlag], serverProperties, logFile);
  const child = spawnJvm({
    ...jvmBase(start, logFile),
    jvmArgs: [...BROKER_JVM_ARGS, log4jFlag],
    mainClass: 'kafka.Kafka',
    args: [serverProperties],
    detached: start.detached,
  });
  const address = `127.0.0.1:${start.port}`;
  return awaitService('kafka', child, start, {
    address,
    logFile,
    startedMs,
    probe: async () => {
      await probeKafka(address, { createTopic: true, timeoutMs: PROBE_TIMEOUT_MS });
      if (start.scram !== undefined) await probeScram(start.scram);
    },
  });
}

/** The SCRAM listener answers an authenticated metadata request. */
async function probeScram(scram: ScramListener): Promise<void> {
  const kafka = new Kafka({
    clientId: 'connect-fn-stack-probe',
    brokers: [`127.0.0.1:${scram.port}`],
    sasl: { mechanism: 'scram-sha-512', username: scram.username, password: scram.password },
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    requestTimeout: PROBE_TIMEOUT_MS,
    retry: { retries: 0 },
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    await admin.describeCluster();
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

function jvmBase(start: ServiceStart, logFile: string) {
  return {
    javaPath: start.javaPath,
    classpath: start.classpath,
    markerDir: start.dir,
    logFile,
    cwd: start.dir,
  };
}

/** `kafka-storage format` with a fresh cluster id, as `kafka-storage random-uuid` would make it. */
async function formatStorage(start: KafkaStart, jvmArgs: string[], config: string, logFile: string) {
  const tool = spawnJvm({
    ...jvmBase(start, logFile),
    jvmArgs,
    mainClass: 'kafka.tools.StorageTool',
    args: ['format', '--cluster-id', randomClusterId(), '--config', config, ...scramArgs(start.scram)],
    detached: false,
  });
  const outcome = await exitOf(tool);
  if (outcome !== 'code 0') {
    throw await stackFailure(`kafka storage format failed (${outcome})`, [logFile]);
  }
}

/**
 * One `--add-scram` per mechanism for the listener's user. The values are ours (a fixed user name, a hex
 * password), so nothing in them needs quoting in StorageTool's `[name=...,password=...]` syntax.
 */
export function scramArgs(scram: ScramListener | undefined): string[] {
  if (scram === undefined) return [];
  return SCRAM_MECHANISMS.flatMap((mechanism) => [
    '--add-scram',
    `${mechanism}=[name=${scram.username},password=${scram.password}]`,
  ]);
}

/** A fresh password for the SCRAM user: 24 random bytes as hex. */
export function randomScramPassword(): string {
  return randomBytes(24).toString('hex');
}

/** 16 random bytes, URL-safe base64 without padding; never starting with '-' (Kafka's Uuid rule). */
export function randomClusterId(): string {
  while (true) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/**
 * The broker's configuration. Everything not set here keeps Kafka's default on purpose, notably
 * `group.initial.rebalance.delay.ms` (3000 ms): benchmarks measure against a realistic broker.
 */
export function serverConfig(start: KafkaStart): string {
  const plaintext = `PLAINTEXT://127.0.0.1:${start.port}`;
  const scram = start.scram === undefined ? undefined : `SCRAM://127.0.0.1:${start.scram.port}`;
  const advertised = scram === undefined ? plaintext : `${plaintext},${scram}`;
  const settings: Record<string, string | number> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${start.controllerPort}`,
    listeners: `${advertised},CONTROLLER://127.0.0.1:${start.controllerPort}`,
    'advertised.listeners': advertised,
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SCRAM:SASL_PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    ...(scram === undefined ? {} : scramListenerConfig()),
    'inter.broker.listener.name': 'PLAINTEXT',
    'log.dirs': join(start.dir, 'data'),
    // A single node cannot hold more than one replica of anything.
    'offsets.topic.replication.factor': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'min.insync.replicas': 1,
  };
  return `${Object.entries(settings)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n')}\n`;
}

/**
 * The `SCRAM` listener's SASL settings. The broker's login modules hold no credentials: it checks clients
 * against the SCRAM credentials stored in the cluster metadata.
 */
function scramListenerConfig(): Record<string, string> {
  const settings: Record<string, string> = {
    'listener.name.scram.sasl.enabled.mechanisms': SCRAM_MECHANISMS.join(','),
  };
  for (const mechanism of SCRAM_MECHANISMS) {
    settings[`listener.name.scram.${mechanism.toLowerCase()}.sasl.jaas.config`] =
      'org.apache.kafka.common.security.scram.ScramLoginModule required;';
  }
  return settings;
}

/** Writes the logging config the broker's version reads; returns the JVM flag that points to it. */
async function writeLogConfig(start: KafkaStart, logFile: string): Promise<string> {
  if (start.kafkaVersion !== undefined && kafkaMajor(start.kafkaVersion) >= 4) {
    const file = join(start.dir, 'log4j2.properties');
    await writeFile(file, log4j2Config(logFile));
    return `-Dlog4j2.configurationFile=${file}`;
  }
  const file = join(start.dir, 'log4j.properties');
  await writeFile(file, log4jConfig(logFile));
  return `-Dlog4j.configuration=file:${file}`;
}

/** log4j 2 config (Kafka 4.x), the same as {@link log4jConfig}: everything into the log file. */
export function log4j2Config(logFile: string): string {
  return [
    'status = warn',
    'appender.file.type = File',
    'appender.file.name = file',
    `appender.file.fileName = ${logFile}`,
    'appender.file.append = true',
    'appender.file.layout.type = PatternLayout',
    'appender.file.layout.pattern = [%d] %p %m (%c)%n',
    'rootLogger.level = info',
    'rootLogger.appenderRef.file.ref = file',
    'logger.request.name = kafka.request.logger',
    'logger.request.level = warn',
    '',
  ].join('\n');
}

/** log4j 1.x (reload4j) config: everything into the service's log file, nothing on our stdout. */
function log4jConfig(logFile: string): string {
  return [
    'log4j.rootLogger=INFO, file',
    'log4j.appender.file=org.apache.log4j.FileAppender',
    `log4j.appender.file.File=${logFile}`,
    'log4j.appender.file.Append=true',
    'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n',
    // As in Kafka's own config/log4j.properties: per-request logging is noise at INFO.
    'log4j.logger.kafka.request.logger=WARN',
    '',
  ].join('\n');
}
