import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EnvironmentError } from '../../../src/errors.ts';
import {
  findExecutable,
  parseJavaMajorVersion,
  requireJava,
  requireMaven,
  type ToolEnvironment,
} from '../../../src/stack/preconditions.ts';

const BOTH = ['Kafka', 'DynamoDB Local'] as const;

let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'connect-fn-preconditions-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A fake `java` that prints `versionLine` to stderr, as `java -version` does. */
function fakeJava(dir: string, versionLine: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'java');
  writeFileSync(file, `#!/bin/sh\necho '${versionLine}' >&2\n`);
  chmodSync(file, 0o755);
  return file;
}

function fakeMvn(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'mvn');
  writeFileSync(file, '#!/bin/sh\nexit 0\n');
  chmodSync(file, 0o755);
  return file;
}

function tools(pathEnv: string, javaHome?: string): ToolEnvironment {
  return { pathEnv, javaHome, javaCommand: 'java', mvnCommand: 'mvn' };
}

async function environmentError(promise: Promise<unknown>): Promise<EnvironmentError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EnvironmentError);
  return err as EnvironmentError;
}

describe('requireJava', () => {
  it('accepts Java 17 found on PATH', async () => {
    const bin = join(root, 'bin');
    const java = fakeJava(bin, 'openjdk version "17.0.15" 2025-04-15');

    const runtime = await requireJava(tools(`${join(root, 'empty')}:${bin}`), BOTH);

    expect(runtime).toEqual({ javaPath: java, majorVersion: 17 });
  });

  it('prefers $JAVA_HOME/bin/java over PATH, as Maven does', async () => {
    fakeJava(join(root, 'path-bin'), 'openjdk version "11.0.2" 2019-01-15');
    const homeJava = fakeJava(join(root, 'jdk21', 'bin'), 'openjdk version "21" 2023-09-19');

    const runtime = await requireJava(tools(join(root, 'path-bin'), join(root, 'jdk21')), BOTH);

    expect(runtime).toEqual({ javaPath: homeJava, majorVersion: 21 });
  });

  it('names the missing Java and both environment overrides when nothing is on PATH', async () => {
    const err = await environmentError(requireJava(tools(join(root, 'nothing-here')), BOTH));

    expect(err.code).toBe('CONNECT_FN_ENVIRONMENT');
    expect(err.message).toContain('Java 17+ was not found');
    expect(err.message).toContain('KAFKA_BROKERS=host:port');
    expect(err.message).toContain('DYNAMODB_ENDPOINT=http://host:port');
  });

  it('rejects Java 8 and says which version it found', async () => {
    const java = fakeJava(join(root, 'bin'), 'java version "1.8.0_381"');

    const err = await environmentError(requireJava(tools(join(root, 'bin')), BOTH));

    expect(err.message).toContain(`${java} is Java 8`);
  });

  it('mentions only the override for the service that needs starting', async () => {
    const err = await environmentError(requireJava(tools(''), ['Kafka']));

    expect(err.message).toContain('KAFKA_BROKERS=host:port');
    expect(err.message).not.toContain('DYNAMODB_ENDPOINT');
  });
});

describe('requireMaven', () => {
  it('returns the mvn found on PATH', () => {
    const mvn = fakeMvn(join(root, 'maven', 'bin'));

    expect(requireMaven(tools(join(root, 'maven', 'bin')), BOTH)).toBe(mvn);
  });

  it('names the missing Maven and the overrides that make it unnecessary', () => {
    let caught: unknown;
    try {
      requireMaven(tools(join(root, 'nothing-here')), ['DynamoDB Local']);
    } catch (err) {
      caught = err;
    }

    expect(caught).toBeInstanceOf(EnvironmentError);
    expect((caught as Error).message).toContain('Maven was not found');
    expect((caught as Error).message).toContain('DYNAMODB_ENDPOINT=http://host:port');
  });
});

describe('findExecutable', () => {
  it('skips files that are not executable', () => {
    const dir = join(root, 'bin');
    mkdirSync(dir);
    writeFileSync(join(dir, 'mvn'), 'not executable');

    expect(findExecutable('mvn', dir)).toBeUndefined();
  });
});

describe('parseJavaMajorVersion', () => {
  it.each([
    ['openjdk version "17.0.15" 2025-04-15', 17],
    ['openjdk version "21" 2023-09-19', 21],
    ['openjdk version "22-ea" 2024-03-19', 22],
    ['java version "1.8.0_381"', 8],
    ['Error: could not open jvm.cfg', undefined],
  ])('reads %s as %s', (output, major) => {
    expect(parseJavaMajorVersion(output)).toBe(major);
  });
});
