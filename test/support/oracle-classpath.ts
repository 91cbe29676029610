/**
 * The classpath of a JVM test oracle whose dependencies a pom names (e.g.
 * test/java/file-source-oracle/pom.xml: Kafka Connect's own connectors), resolved with
 * `mvn dependency:build-classpath` and cached as the stack's classpaths are: in
 * `<cache root>/oracles/<sha256 of the pom>/classpath`, so a warm run only checks that the jars exist.
 *
 * @example
 * ```ts
 * const classpath = await resolveOracleClasspath(fileURLToPath(new URL('../java/file-source-oracle/pom.xml', import.meta.url)));
 * spawnSync('java', ['-cp', classpath, 'test/java/FileStreamSourceOracle.java', ...]);
 * ```
 * @module
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { defaultCacheRoot } from '../stack/maven-classpath.ts';
import { requireMaven, toolEnvironment } from '../stack/preconditions.ts';

const run = promisify(execFile);

/** The runtime classpath of `pomFile`'s dependencies (Maven on a cold cache: minutes on a slow link). */
export async function resolveOracleClasspath(pomFile: string): Promise<string> {
  const hash = createHash('sha256').update(readFileSync(pomFile)).digest('hex').slice(0, 16);
  const cacheDir = join(defaultCacheRoot(process.env), 'oracles', hash);
  const cached = await readCached(cacheDir);
  if (cached !== undefined) return cached;
  const mvn = requireMaven(toolEnvironment(process.env), ['Kafka']);
  // Written in a private directory renamed into place: a concurrent run never sees half a classpath.
  const workDir = `${cacheDir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await mkdir(workDir, { recursive: true });
  try {
    const args = ['-B', '-q', '-f', pomFile, 'dependency:build-classpath'];
    args.push(`-Dmdep.outputFile=${join(workDir, 'classpath')}`, '-Dmdep.includeScope=runtime');
    await run(mvn, args, { maxBuffer: 16 * 1024 * 1024 }).catch((err: { stdout?: string }) => {
      throw new Error(`Maven could not resolve ${pomFile}:\n${err.stdout?.slice(-4000) ?? err}`);
    });
    await rename(workDir, cacheDir).catch((err: unknown) => {
      if (!existsSync(cacheDir)) throw err;
    });
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  const resolved = await readCached(cacheDir);
  if (resolved === undefined)
    throw new Error(`Maven did not write the classpath of ${pomFile} to ${cacheDir}`);
  return resolved;
}

async function readCached(cacheDir: string): Promise<string | undefined> {
  try {
    const classpath = (await readFile(join(cacheDir, 'classpath'), 'utf8')).trim();
    // ~/.m2 may have been cleaned since: every jar must still be there, or Maven runs again.
    const jars = classpath.split(':');
    return jars.length > 0 && jars.every((jar) => existsSync(jar)) ? classpath : undefined;
  } catch {
    return undefined;
  }
}
