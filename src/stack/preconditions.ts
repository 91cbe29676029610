/**
 * What this machine needs before the local stack can start something: Java 17+ to run Kafka and DynamoDB
 * Local, and Maven to resolve them (only on a cold classpath cache). Everything a check looks at is
 * injected (PATH, JAVA_HOME, command names), so the checks are unit-tested with fake executables.
 *
 * @example
 * ```ts
 * const java = await requireJava(toolEnvironment(process.env), ['Kafka']);
 * ```
 * @module
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { EnvironmentError } from '../errors.ts';

/** Oldest Java that runs both Kafka 3.9 and DynamoDB Local 3.x (the latter is compiled for 17). */
export const MIN_JAVA_MAJOR = 17;

/** Where to look for the programs, and under which names. */
export interface ToolEnvironment {
  /** The PATH to search (`process.env.PATH`). */
  readonly pathEnv: string;
  /** When set, `$JAVA_HOME/bin/java` is used before PATH, as Maven does. */
  readonly javaHome?: string | undefined;
  readonly javaCommand: string;
  readonly mvnCommand: string;
}

/** The services the stack would start, named for error messages. */
export type StackServiceName = 'Kafka' | 'DynamoDB Local';

/** Reads the tool environment from process-style env variables. */
export function toolEnvironment(env: NodeJS.ProcessEnv): ToolEnvironment {
  return { pathEnv: env.PATH ?? '', javaHome: env.JAVA_HOME, javaCommand: 'java', mvnCommand: 'mvn' };
}

/** The absolute path of an executable file `name` on `pathEnv`, or undefined. */
export function findExecutable(name: string, pathEnv: string): string | undefined {
  for (const dir of pathEnv.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The major version from `java -version` output: `openjdk version "17.0.15"` → 17,
 * `java version "1.8.0_381"` → 8, `openjdk version "21-ea"` → 21.
 */
export function parseJavaMajorVersion(versionOutput: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (match === null) return undefined;
  const first = Number(match[1]);
  return first === 1 ? Number(match[2]) : first;
}

/** A Java runtime that passed the check. */
export interface JavaRuntime {
  readonly javaPath: string;
  readonly majorVersion: number;
}

/**
 * Finds Java 17+ or throws `EnvironmentError` naming what is missing and how to do without it.
 * `needs` lists the services that would have to be started (and so need Java).
 */
export async function requireJava(
  tools: ToolEnvironment,
  needs: readonly StackServiceName[],
): Promise<JavaRuntime> {
  const fromHome = tools.javaHome ? join(tools.javaHome, 'bin', tools.javaCommand) : undefined;
  const javaPath =
    fromHome !== undefined && isExecutableFile(fromHome)
      ? fromHome
      : findExecutable(tools.javaCommand, tools.pathEnv);
  if (javaPath === undefined) {
    throw missingToolError(
      `Java ${MIN_JAVA_MAJOR}+ was not found ('${tools.javaCommand}' is not on PATH)`,
      needs,
    );
  }
  const output = await javaVersionOutput(javaPath);
  const majorVersion = parseJavaMajorVersion(output);
  if (majorVersion === undefined || majorVersion < MIN_JAVA_MAJOR) {
    const found = majorVersion === undefined ? `an unrecognised version` : `Java ${majorVersion}`;
    throw missingToolError(`Java ${MIN_JAVA_MAJOR}+ is needed, but ${javaPath} is ${found}`, needs);
  }
  return { javaPath, majorVersion };
}

/** Finds `mvn` on PATH or throws `EnvironmentError`; only called when the classpath cache is cold. */
export function requireMaven(tools: ToolEnvironment, needs: readonly StackServiceName[]): string {
  const mvnPath = findExecutable(tools.mvnCommand, tools.pathEnv);
  if (mvnPath === undefined) {
    throw missingToolError(
      `Maven was not found ('${tools.mvnCommand}' is not on PATH); it downloads Kafka and DynamoDB Local ` +
        'from Maven Central on first use',
      needs,
    );
  }
  return mvnPath;
}

function javaVersionOutput(javaPath: string): Promise<string> {
  return new Promise((resolve) => {
    // `java -version` prints to stderr; 10 s is generous for a JVM that only prints its version.
    execFile(javaPath, ['-version'], { timeout: 10_000 }, (_err, stdout, stderr) => {
      resolve(`${stderr}${stdout}`);
    });
  });
}

function missingToolError(what: string, needs: readonly StackServiceName[]): EnvironmentError {
  const overrides: string[] = [];
  if (needs.includes('Kafka')) overrides.push('KAFKA_BROKERS=host:port');
  if (needs.includes('DynamoDB Local')) overrides.push('DYNAMODB_ENDPOINT=http://host:port');
  return new EnvironmentError(
    `cannot start the local stack (${needs.join(' and ')}): ${what}.\n` +
      `Install a JDK ${MIN_JAVA_MAJOR}+ and Maven 3.6+ (put 'java' and 'mvn' on PATH, or set JAVA_HOME), ` +
      `or use services you already run (your own cluster, or Docker): set ${overrides.join(' and ')}.`,
  );
}
