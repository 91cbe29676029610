/**
 * DynamoDB Local, run from the Maven classpath with sqlite4java's native library on java.library.path,
 * ready once it answers `ListTables`.
 * @module
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { spawnJvm } from './jvm-process.ts';
import { probeDynamoDb } from './readiness.ts';
import { awaitService, type ServiceStart, type StartedService } from './service.ts';

export interface DynamoDbStart extends ServiceStart {
  readonly nativeLibDir: string;
  /** Keep tables in `<dbPath>/shared-local-instance.db` across restarts; in memory when absent. */
  readonly dbPath?: string | undefined;
}

const MAIN_CLASS = 'software.amazon.dynamodb.services.local.main.ServerRunner';
const PROBE_TIMEOUT_MS = 3_000;

/** Starts DynamoDB Local and resolves once it answers; on failure it is stopped and `StackError` thrown. */
export async function startDynamoDbLocal(start: DynamoDbStart): Promise<StartedService> {
  const startedMs = Date.now();
  const logFile = join(start.dir, 'dynamodb.log');
  const storage = start.dbPath === undefined ? ['-inMemory'] : ['-dbPath', resolve(start.dbPath)];
  if (start.dbPath !== undefined) await mkdir(resolve(start.dbPath), { recursive: true });
  const child = spawnJvm({
    javaPath: start.javaPath,
    classpath: start.classpath,
    jvmArgs: [
      '-Xmx512m',
      `-Djava.library.path=${start.nativeLibDir}`,
      `-Dsqlite4java.library.path=${start.nativeLibDir}`,
    ],
    mainClass: MAIN_CLASS,
    // -sharedDb: one database whatever credentials and region a client signs with, so every test and
    // tool sees the same tables. DynamoDB Local has no bind-address option; we always connect to 127.0.0.1.
    args: ['-port', String(start.port), '-sharedDb', '-disableTelemetry', ...storage],
    markerDir: start.dir,
    logFile,
    cwd: start.dir,
    detached: start.detached,
  });
  const address = `http://127.0.0.1:${start.port}`;
  return awaitService('dynamodb', child, start, {
    address,
    logFile,
    startedMs,
    probe: () => probeDynamoDb(address, PROBE_TIMEOUT_MS),
  });
}
