/**
 * A DynamoDB Local of a test's own, started with `-dbPath` on a free port, that the test can freeze
 * (SIGSTOP) and kill (SIGKILL, a crash: nothing is flushed or closed) and start again on the same port and the same `-dbPath`, so its
 * tables and items survive the restart and clients that kept its address reconnect to it.
 *
 * Every life gets its own directory under the instance's temp dir (its log and its ownership marker);
 * the database lives beside them in `db/`. {@link RestartableDynamoDb.stop} kills the JVM and removes the
 * temp dir; an exit of this process without it (a crashed worker) still kills the JVM.
 *
 * @example
 * ```ts
 * const ddb = await RestartableDynamoDb.start();
 * try {
 *   ddb.kill();
 *   await ddb.waitUntilDown();
 *   await ddb.restart(); // same endpoint, same tables
 * } finally {
 *   await ddb.stop();
 * }
 * ```
 * @module
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDynamoDbLocal } from '../../../src/stack/dynamodb-local.ts';
import { isAlive, isOurProcess, killNow, sleep, stopProcess } from '../../../src/stack/jvm-process.ts';
import {
  defaultCacheRoot,
  resolveStackClasspaths,
  type StackClasspaths,
} from '../../../src/stack/maven-classpath.ts';
import { requireJava, requireMaven, toolEnvironment } from '../../../src/stack/preconditions.ts';
import { freePorts, type StartedService } from '../../../src/stack/service.ts';

/** How long one life gets to answer `ListTables` (a loaded 2-core machine takes ~5-15 s). */
const READY_TIMEOUT_MS = 120_000;
const POLL_MS = 20;

export class RestartableDynamoDb {
  readonly endpoint: string;
  readonly port: number;
  readonly dbPath: string;
  readonly #rootDir: string;
  readonly #javaPath: string;
  readonly #classpaths: StackClasspaths;
  #life: StartedService | undefined;
  #lives = 0;
  /** What was done to the current life: frozen (SIGSTOP), or killed (SIGKILL, maybe not reaped yet). */
  #fate: 'frozen' | 'killed' | undefined;
  /** Milliseconds each life took to answer. */
  readonly readyMs: number[] = [];
  readonly #onExit = () => this.#killSync();

  private constructor(rootDir: string, port: number, javaPath: string, classpaths: StackClasspaths) {
    this.#rootDir = rootDir;
    this.port = port;
    this.endpoint = `http://127.0.0.1:${port}`;
    this.dbPath = join(rootDir, 'db');
    this.#javaPath = javaPath;
    this.#classpaths = classpaths;
    process.on('exit', this.#onExit);
  }

  /** Starts the first life (the classpath cache is the stack's; Maven only runs on a cold cache). */
  static async start(log: (line: string) => void = () => undefined): Promise<RestartableDynamoDb> {
    const tools = toolEnvironment(process.env);
    const java = await requireJava(tools, ['DynamoDB Local']);
    const classpaths = await resolveStackClasspaths({
      cacheRoot: defaultCacheRoot(process.env),
      requireMaven: () => requireMaven(tools, ['DynamoDB Local']),
      log,
    });
    const rootDir = await mkdtemp(join(tmpdir(), 'connect-fn-faults-ddb-'));
    const [port] = await freePorts(1);
    const ddb = new RestartableDynamoDb(rootDir, port!, java.javaPath, classpaths);
    try {
      await ddb.restart();
    } catch (err) {
      await ddb.stop();
      throw err;
    }
    return ddb;
  }

  /** The JVM of the current life, if one runs. */
  get pid(): number | undefined {
    return this.#life?.pid;
  }

  /** Whether the current life's JVM runs. */
  get running(): boolean {
    return this.#life !== undefined && isAlive(this.#life.pid);
  }

  /** The current life's log. */
  get logFile(): string | undefined {
    return this.#life?.logFile;
  }

  /** Starts a new life on the same port and `-dbPath`; resolves once it answers `ListTables`. */
  async restart(): Promise<StartedService> {
    if (this.#life !== undefined && isAlive(this.#life.pid)) {
      throw new Error(`DynamoDB Local (pid ${this.#life.pid}) is still running`);
    }
    this.#lives++;
    this.#fate = undefined;
    const dir = join(this.#rootDir, `life-${this.#lives}`);
    await mkdir(dir);
    this.#life = await startDynamoDbLocal({
      javaPath: this.#javaPath,
      classpath: this.#classpaths.dynamodbClasspath,
      nativeLibDir: this.#classpaths.nativeLibDir,
      dir,
      port: this.port,
      detached: false,
      deadlineMs: Date.now() + READY_TIMEOUT_MS,
      dbPath: this.dbPath,
    });
    this.readyMs.push(this.#life.readyMs);
    return this.#life;
  }

  /** SIGKILL, now (a crash). */
  kill(): void {
    this.#fate = 'killed';
    this.#killSync();
  }

  /**
   * After a scenario, whatever it left: a frozen life is killed, a killed one waited for until it is gone
   * (a SIGKILLed JVM still counts as {@link running} until the kernel has reaped it), then a new life is
   * started unless the current one runs.
   */
  async ensureRunning(): Promise<void> {
    if (this.#fate === 'frozen') this.kill();
    if (this.#fate === 'killed') await this.waitUntilDown();
    if (!this.running) await this.restart();
  }

  /**
   * SIGSTOP, now: the JVM answers nothing more, while the kernel still accepts connections and request
   * bytes for it. A {@link kill} after a frozen spell crashes it with those requests in flight.
   */
  freeze(): void {
    const life = this.#life;
    if (life !== undefined && isOurProcess(life.pid, life.dir)) {
      this.#fate = 'frozen';
      process.kill(life.pid, 'SIGSTOP');
    }
  }

  /** Resolves once the killed JVM is gone (its port closed), or throws after `timeoutMs`. */
  async waitUntilDown(timeoutMs = 30_000): Promise<void> {
    const pid = this.#life?.pid;
    const untilMs = Date.now() + timeoutMs;
    while (pid !== undefined && isAlive(pid)) {
      if (Date.now() >= untilMs)
        throw new Error(`DynamoDB Local (pid ${pid}) still runs ${timeoutMs} ms after SIGKILL`);
      await sleep(POLL_MS);
    }
  }

  /** Stops the JVM (if it runs) and removes the temp dir, database included. Idempotent. */
  async stop(): Promise<void> {
    process.off('exit', this.#onExit);
    const life = this.#life;
    if (life !== undefined) await stopProcess(life.pid, life.dir, 1_000);
    await rm(this.#rootDir, { recursive: true, force: true });
  }

  #killSync(): void {
    const life = this.#life;
    if (life !== undefined) killNow(life.pid, life.dir);
  }
}
