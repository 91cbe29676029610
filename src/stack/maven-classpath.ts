/**
 * Resolves the stack's JVM programs with Maven (src/stack/pom.xml) and caches the result.
 *
 * Maven's own start-up costs seconds even when everything is in ~/.m2, so the computed classpaths are
 * cached in `<cacheRoot>/<sha256 of the poms>/`; a warm start only checks that every jar still exists.
 * A cold start runs `mvn generate-resources` once, printing download progress (the first run fetches
 * ~120 MB into ~/.m2, a minute or more on a slow link).
 * @module
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { StackError } from '../errors.ts';
import { tailOfFile } from './jvm-process.ts';

const STACK_DIR = dirname(fileURLToPath(import.meta.url));
const POM_FILES = ['pom.xml', 'kafka/pom.xml', 'dynamodb/pom.xml'].map((p) => join(STACK_DIR, p));
/** The standalone pom of a Kafka 4.x broker; its version comes from `-Dkafka.version`. */
const KAFKA4_POM = join(STACK_DIR, 'kafka4', 'pom.xml');
/** How often a cold Maven run reports progress. */
const PROGRESS_INTERVAL_MS = 5_000;

/** What the stack needs to launch its two JVMs. */
export interface StackClasspaths {
  readonly kafkaClasspath: string;
  readonly dynamodbClasspath: string;
  /** sqlite4java's native libraries, for DynamoDB Local's java.library.path. */
  readonly nativeLibDir: string;
}

export interface ResolveOptions {
  /** Where cached classpaths live; default `$XDG_CACHE_HOME/connect-fn/stack` or `~/.cache/...`. */
  readonly cacheRoot?: string;
  /** Returns the `mvn` to run, or throws when there is none; only called on a cold cache. */
  readonly requireMaven: () => string;
  readonly log: (line: string) => void;
}

/** The default cache root (env `CONNECT_FN_CACHE_DIR` wins). */
export function defaultCacheRoot(env: NodeJS.ProcessEnv): string {
  if (env.CONNECT_FN_CACHE_DIR) return join(env.CONNECT_FN_CACHE_DIR, 'stack');
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'connect-fn', 'stack');
}

/** sha256 over the three poms (names and contents): a changed version means a new cache entry. */
export function pomHash(): string {
  const hash = createHash('sha256');
  for (const file of POM_FILES) hash.update(file.slice(STACK_DIR.length)).update(readFileSync(file));
  return hash.digest('hex').slice(0, 16);
}

/** Classpaths from the cache, or from a Maven run that then fills the cache. */
export async function resolveStackClasspaths(options: ResolveOptions): Promise<StackClasspaths> {
  return resolveCached(options, {
    key: pomHash(),
    pomFile: join(STACK_DIR, 'pom.xml'),
    what: 'Kafka and DynamoDB Local (the first run downloads ~120 MB into ~/.m2)',
    read: readCached,
  });
}

/**
 * The classpath of a Kafka 4.x broker of `version` (src/stack/kafka4/pom.xml with `-Dkafka.version`),
 * cached like the stack's own, under a hash of that pom and the version. It holds `kafka-clients` of the
 * same version.
 */
export async function resolveKafka4Classpath(version: string, options: ResolveOptions): Promise<string> {
  const hash = createHash('sha256').update(readFileSync(KAFKA4_POM)).update(`kafka.version=${version}`);
  return resolveCached(options, {
    key: `kafka-${version}-${hash.digest('hex').slice(0, 16)}`,
    pomFile: KAFKA4_POM,
    args: [`-Dkafka.version=${version}`],
    what: `Kafka ${version} (the first run downloads ~60 MB into ~/.m2)`,
    read: readCachedClasspath,
  });
}

/**
 * The runtime classpath of a JVM test oracle's pom (e.g. test/java/file-source-oracle/pom.xml), whose
 * `generate-resources` phase writes `${stack.outputDir}/kafka.classpath` as kafka4/pom.xml does; cached
 * like the stack's own, under a hash of the pom.
 */
export async function resolvePomClasspath(
  pomFile: string,
  what: string,
  options: ResolveOptions,
): Promise<string> {
  const hash = createHash('sha256').update(readFileSync(pomFile)).digest('hex').slice(0, 16);
  return resolveCached(options, { key: `pom-${hash}`, pomFile, what, read: readCachedClasspath });
}

/** What one cache entry is made of: the pom Maven runs, and how the entry is read back. */
interface CacheEntry<T> {
  readonly key: string;
  readonly pomFile: string;
  readonly args?: readonly string[];
  /** For the progress line. */
  readonly what: string;
  /** The entry's content, or undefined when it is missing or a jar it names is gone. */
  readonly read: (cacheDir: string) => Promise<T | undefined>;
}

async function resolveCached<T>(options: ResolveOptions, entry: CacheEntry<T>): Promise<T> {
  const cacheRoot = options.cacheRoot ?? defaultCacheRoot(process.env);
  const cacheDir = join(cacheRoot, entry.key);
  const cached = await entry.read(cacheDir);
  if (cached !== undefined) return cached;

  const mvn = options.requireMaven();
  // Maven writes into a private directory that is renamed into place, so a concurrent or interrupted run
  // never leaves a half-written cache entry behind.
  const workDir = `${cacheDir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await mkdir(workDir, { recursive: true });
  const logFile = join(cacheRoot, `maven-${entry.key}.log`);
  try {
    const run = { mvn, pomFile: entry.pomFile, outputDir: workDir, logFile, args: entry.args ?? [] };
    await runMaven(run, entry.what, options.log);
    await rename(workDir, cacheDir).catch(async (err: unknown) => {
      if (!existsSync(cacheDir)) throw err;
    });
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  const resolved = await entry.read(cacheDir);
  if (resolved === undefined) {
    throw new StackError(`Maven finished but did not produce the classpaths in ${cacheDir}`, [logFile]);
  }
  return resolved;
}

async function readCachedClasspath(cacheDir: string): Promise<string | undefined> {
  try {
    const classpath = (await readFile(join(cacheDir, 'kafka.classpath'), 'utf8')).trim();
    const jars = classpath.split(':');
    return jars.length >= 2 && jars.every((jar) => existsSync(jar)) ? classpath : undefined;
  } catch {
    return undefined;
  }
}

async function readCached(cacheDir: string): Promise<StackClasspaths | undefined> {
  try {
    const kafkaClasspath = (await readFile(join(cacheDir, 'kafka.classpath'), 'utf8')).trim();
    const dynamodbClasspath = (await readFile(join(cacheDir, 'dynamodb.classpath'), 'utf8')).trim();
    const nativeLibDir = join(cacheDir, 'native');
    // ~/.m2 may have been cleaned since: every jar must still be there, or Maven runs again.
    const entries = [...kafkaClasspath.split(':'), ...dynamodbClasspath.split(':')];
    if (entries.length < 2 || !entries.every((jar) => existsSync(jar))) return undefined;
    if (process.platform === 'linux' && !existsSync(join(nativeLibDir, 'libsqlite4java-linux-amd64.so'))) {
      return undefined;
    }
    return { kafkaClasspath, dynamodbClasspath, nativeLibDir };
  } catch {
    return undefined;
  }
}

/** Download counters parsed from Maven's transfer lines. */
interface DownloadProgress {
  files: number;
  bytes: number;
}

/** One Maven run: `mvn -B -f <pomFile> -Dstack.outputDir=<outputDir> [args] generate-resources`. */
interface MavenRun {
  readonly mvn: string;
  readonly pomFile: string;
  readonly outputDir: string;
  readonly logFile: string;
  readonly args: readonly string[];
}

async function runMaven(run: MavenRun, what: string, log: (line: string) => void) {
  const { mvn, outputDir, logFile } = run;
  log(`maven: resolving ${what}...`);
  const startedMs = Date.now();
  const progress: DownloadProgress = { files: 0, bytes: 0 };
  await mkdir(dirname(logFile), { recursive: true });
  const logStream = createWriteStream(logFile);
  const args = ['-B', '-f', run.pomFile, `-Dstack.outputDir=${outputDir}`, ...run.args, 'generate-resources'];
  const child = spawn(mvn, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr.pipe(logStream, { end: false });
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    logStream.write(`${line}\n`);
    countDownload(line, progress);
  });
  const ticker = setInterval(() => {
    const elapsedS = ((Date.now() - startedMs) / 1000).toFixed(0);
    log(`maven: ${progress.files} files (${formatMegabytes(progress.bytes)}) downloaded, ${elapsedS} s`);
  }, PROGRESS_INTERVAL_MS);
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  }).finally(() => clearInterval(ticker));
  await new Promise<void>((resolve) => logStream.end(resolve));
  if (exitCode !== 0) {
    const tail = await tailOfFile(logFile, 25);
    throw new StackError(`Maven could not resolve the stack (exit code ${exitCode}):\n${tail}`, [logFile]);
  }
  const tookS = ((Date.now() - startedMs) / 1000).toFixed(1);
  log(
    `maven: resolved in ${tookS} s (${progress.files} files, ${formatMegabytes(progress.bytes)} downloaded)`,
  );
}

/** Counts `Downloaded from central: URL (902 kB at 679 kB/s)` lines. */
function countDownload(line: string, progress: DownloadProgress): void {
  const match = /Downloaded from [^:]+: \S+ \(([\d.]+) (B|kB|MB|GB)/.exec(line);
  if (match === null) return;
  const unitBytes = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 }[match[2] as 'B' | 'kB' | 'MB' | 'GB'];
  progress.files += 1;
  progress.bytes += Number(match[1]) * unitBytes;
}

function formatMegabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
