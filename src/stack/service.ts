/**
 * The shape shared by the stack's two services, and the free-port helper they start with.
 * @module
 */
import type { ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { exitOf, stopProcess } from './jvm-process.ts';
import { waitUntilReady } from './readiness.ts';

export type ServiceName = 'kafka' | 'dynamodb';

/** A service this stack started (services taken from the environment are never represented here). */
export interface StartedService {
  readonly name: ServiceName;
  /** `127.0.0.1:port` for Kafka, `http://127.0.0.1:port` for DynamoDB Local. */
  readonly address: string;
  readonly pid: number;
  /** The service's own temp dir: its data, config and log; also the pid ownership marker. */
  readonly dir: string;
  readonly logFile: string;
  /** From spawning the JVM (or formatting storage) to the first successful real request. */
  readonly readyMs: number;
}

/** What every service start needs. */
export interface ServiceStart {
  readonly javaPath: string;
  readonly classpath: string;
  /** An existing, empty directory owned by this service. */
  readonly dir: string;
  readonly port: number;
  /** Background mode: the JVM survives this process. */
  readonly detached: boolean;
  /** Epoch ms by which the service must answer. */
  readonly deadlineMs: number;
}

/**
 * Waits until the JVM `child` answers `probe`, then describes it as a started service; when it exits or
 * misses the deadline it is stopped and the `StackError` from {@link waitUntilReady} thrown.
 */
export async function awaitService(
  name: ServiceName,
  child: ChildProcess,
  start: ServiceStart,
  ready: {
    readonly address: string;
    readonly logFile: string;
    readonly startedMs: number;
    readonly probe: () => Promise<void>;
  },
): Promise<StartedService> {
  try {
    await waitUntilReady({
      name,
      probe: ready.probe,
      deadlineMs: start.deadlineMs,
      exited: exitOf(child),
      logFiles: [ready.logFile],
    });
  } catch (err) {
    if (child.pid !== undefined) await stopProcess(child.pid, start.dir);
    throw err;
  }
  return {
    name,
    address: ready.address,
    pid: child.pid!,
    dir: start.dir,
    logFile: ready.logFile,
    readyMs: Date.now() - ready.startedMs,
  };
}

/**
 * `count` distinct free TCP ports on 127.0.0.1: listen on port 0 (the OS picks), read the port, close.
 * All are held open together so the OS cannot hand the same port out twice. A port can in principle be
 * taken by someone else before the JVM binds it; the JVM then exits and the start fails with its log.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i += 1) servers.push(await listenOnAnyPort());
    return servers.map((server) => {
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
      return address.port;
    });
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

function listenOnAnyPort(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}
