/**
 * The classpath of a JVM test oracle whose dependencies a pom names (e.g.
 * test/java/file-source-oracle/pom.xml: Kafka Connect's own connectors), resolved and cached by the
 * stack's resolver (src/stack/maven-classpath.ts), so a warm run only checks that the jars exist.
 *
 * @example
 * ```ts
 * const classpath = await resolveOracleClasspath(fileURLToPath(new URL('../java/file-source-oracle/pom.xml', import.meta.url)));
 * spawnSync('java', ['-cp', classpath, 'test/java/FileStreamSourceOracle.java', ...]);
 * ```
 * @module
 */
import { basename, dirname } from 'node:path';
import { resolvePomClasspath } from '../../src/stack/maven-classpath.ts';
import { requireMaven, toolEnvironment } from '../../src/stack/preconditions.ts';

/** The runtime classpath of `pomFile`'s dependencies (Maven on a cold cache: minutes on a slow link). */
export function resolveOracleClasspath(pomFile: string): Promise<string> {
  return resolvePomClasspath(pomFile, `${basename(dirname(pomFile))}`, {
    requireMaven: () => requireMaven(toolEnvironment(process.env), ['Kafka']),
    log: (line) => process.stderr.write(`${line}\n`),
  });
}
