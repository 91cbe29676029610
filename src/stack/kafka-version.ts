/**
 * Which Apache Kafka the stack starts: 3.9.2 by default (src/stack/pom.xml), or a 4.x release named by
 * `CONNECT_FN_KAFKA_VERSION` (resolved from src/stack/kafka4/pom.xml). A broker taken from
 * `KAFKA_BROKERS` is whatever it is; the variable only matters when the stack starts one.
 * @module
 */
import { StackError } from '../errors.ts';

/** The variable that picks the version. */
export const KAFKA_VERSION_ENV = 'CONNECT_FN_KAFKA_VERSION';
/** The version of src/stack/pom.xml (`kafka.version`). */
export const DEFAULT_KAFKA_VERSION = '3.9.2';

/** The major version of a `4.1.2`-style version. */
export function kafkaMajor(version: string): number {
  return Number.parseInt(version, 10);
}

/**
 * The version `env` asks for, or the default. Only the default 3.x and 4.x releases can be started: a
 * 3.x other than 3.9.2 would need another log4j 1 classpath, and 4.x needs the log4j 2 one.
 */
export function kafkaVersionFrom(env: NodeJS.ProcessEnv): string {
  const asked = env[KAFKA_VERSION_ENV]?.trim() || DEFAULT_KAFKA_VERSION;
  return checkKafkaVersion(asked);
}

/** `version` when the stack can start it; a `StackError` naming what it can start otherwise. */
export function checkKafkaVersion(version: string): string {
  const release = /^\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(version);
  if (release && (version === DEFAULT_KAFKA_VERSION || kafkaMajor(version) === 4)) return version;
  const shown = JSON.stringify(version.slice(0, 40));
  throw new StackError(
    `${KAFKA_VERSION_ENV}=${shown}: the stack starts Kafka ${DEFAULT_KAFKA_VERSION} (the default) or a 4.x ` +
      'release such as 4.1.2 or 4.4.0 (x.y.z, resolved from Maven Central)',
    [],
  );
}
