/**
 * A second single-node Kafka with `auto.create.topics.enable=false`, for the missing-topic fault. The
 * stack's broker keeps Kafka's default (auto-create on) and connect-fn's producers ask for auto-creation
 * (as Java's producer does by default), so against it a missing topic is simply created. The setting is
 * static in Kafka (not a dynamic broker config), hence a broker of its own: the stack's configuration
 * (src/stack/kafka-node.ts `serverConfig`) plus that one line, from the same cached classpath.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitOf, spawnJvm, stopProcess } from '../../../src/stack/jvm-process.ts';
import { randomClusterId, serverConfig } from '../../../src/stack/kafka-node.ts';
import { defaultCacheRoot, resolveStackClasspaths } from '../../../src/stack/maven-classpath.ts';
import { requireJava, requireMaven, toolEnvironment } from '../../../src/stack/preconditions.ts';
import { probeKafka } from '../../../src/stack/readiness.ts';
import { awaitService, freePorts } from '../../../src/stack/service.ts';

export interface StrictBroker {
  /** `127.0.0.1:port` of its PLAINTEXT listener. */
  readonly address: string;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 120_000;

export async function startStrictBroker(): Promise<StrictBroker> {
  const tools = toolEnvironment(process.env);
  const java = await requireJava(tools, ['Kafka']);
  const { kafkaClasspath } = await resolveStackClasspaths({
    cacheRoot: defaultCacheRoot(process.env),
    requireMaven: () => requireMaven(tools, ['Kafka']),
    log: () => undefined,
  });
  const dir = await mkdtemp(join(tmpdir(), 'connect-fn-faults-broker-'));
  const [port, controllerPort] = (await freePorts(2)) as [number, number];
  const start = {
    javaPath: java.javaPath,
    classpath: kafkaClasspath,
    dir,
    port,
    controllerPort,
    detached: false,
    deadlineMs: Date.now() + READY_TIMEOUT_MS,
  };
  const logFile = join(dir, 'kafka.log');
  const serverProperties = join(dir, 'server.properties');
  const log4j = join(dir, 'log4j.properties');
  await writeFile(serverProperties, `${serverConfig(start)}auto.create.topics.enable=false\n`);
  await writeFile(
    log4j,
    [
      'log4j.rootLogger=WARN, file',
      'log4j.appender.file=org.apache.log4j.FileAppender',
      `log4j.appender.file.File=${logFile}`,
      'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n',
      '',
    ].join('\n'),
  );
  const base = { javaPath: java.javaPath, classpath: kafkaClasspath, markerDir: dir, logFile, cwd: dir };
  const log4jFlag = `-Dlog4j.configuration=file:${log4j}`;
  const format = spawnJvm({
    ...base,
    jvmArgs: ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', log4jFlag],
    mainClass: 'kafka.tools.StorageTool',
    args: ['format', '--cluster-id', randomClusterId(), '--config', serverProperties],
    detached: false,
  });
  const formatted = await exitOf(format);
  if (formatted !== 'code 0') throw new Error(`formatting the strict broker's storage failed (${formatted})`);
  const startedMs = Date.now();
  const child = spawnJvm({
    ...base,
    jvmArgs: ['-Xms128m', '-Xmx512m', '-XX:+UseG1GC', '-XX:TieredStopAtLevel=1', log4jFlag],
    mainClass: 'kafka.Kafka',
    args: [serverProperties],
    detached: false,
  });
  const address = `127.0.0.1:${port}`;
  const service = await awaitService('kafka', child, start, {
    address,
    logFile,
    startedMs,
    probe: () => probeKafka(address, { createTopic: false, timeoutMs: 5_000 }),
  });
  return {
    address,
    async stop() {
      await stopProcess(service.pid, dir);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
