/**
 * Starting and stopping the stack's JVMs by pid.
 *
 * Every JVM gets `-Dconnect-fn.stack.dir=<its temp dir>` on its command line. Before signalling a pid we
 * check that marker in the process's command line, so a pid recycled by the OS after our JVM died (a stale
 * state file) is never touched: processes we did not start are left alone.
 * @module
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';

/** How long a JVM gets to shut down after SIGTERM before SIGKILL (Kafka's controlled shutdown ~1-2 s). */
export const STOP_GRACE_MS = 5_000;
const POLL_MS = 50;

export interface JvmLaunch {
  readonly javaPath: string;
  readonly classpath: string;
  readonly jvmArgs: readonly string[];
  readonly mainClass: string;
  readonly args: readonly string[];
  /** The temp dir the process belongs to; becomes its ownership marker. */
  readonly markerDir: string;
  /** stdout and stderr are appended here. */
  readonly logFile: string;
  readonly cwd: string;
  /** Own process group, not tied to ours: survives this Node process (background mode). */
  readonly detached: boolean;
}

/** The command-line flag that marks a JVM as started by the stack for `dir`. */
export function markerFlag(dir: string): string {
  return `-Dconnect-fn.stack.dir=${dir}`;
}

/** Spawns a JVM. The classpath goes through CLASSPATH so `ps` shows a readable command line. */
export function spawnJvm(launch: JvmLaunch): ChildProcess {
  const logFd = openSync(launch.logFile, 'a');
  try {
    const argv = [...launch.jvmArgs, markerFlag(launch.markerDir), launch.mainClass, ...launch.args];
    const child = spawn(launch.javaPath, argv, {
      cwd: launch.cwd,
      env: { ...process.env, CLASSPATH: launch.classpath },
      stdio: ['ignore', logFd, logFd],
      detached: launch.detached,
    });
    // A background JVM must not keep this process alive; Node still reaps it if it exits first.
    if (launch.detached) child.unref();
    return child;
  } finally {
    closeSync(logFd);
  }
}

/** Resolves with the exit code (or signal name) when `child` exits. */
export function exitOf(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve(String(child.exitCode ?? child.signalCode));
      return;
    }
    child.once('error', (err) => resolve(`spawn error: ${err.message}`));
    child.once('exit', (code, signal) => resolve(code === null ? `signal ${signal}` : `code ${code}`));
  });
}

/** True if `pid` is a live process (zombies count as dead). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else, so it is certainly not ours.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (macOS): kill(0) is all we know
  }
}

/** True if `pid` is alive and its command line carries the marker for `dir`. */
export function isOurProcess(pid: number, dir: string): boolean {
  if (!isAlive(pid)) return false;
  return commandLine(pid)?.includes(markerFlag(dir)) ?? false;
}

function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    try {
      return execFileSync('ps', ['-p', String(pid), '-o', 'args='], { encoding: 'utf8' });
    } catch {
      return undefined;
    }
  }
}

/**
 * Stops our JVM: SIGTERM, then SIGKILL after `graceMs`. Returns false (and sends nothing) when the pid is
 * gone or is not ours.
 */
export async function stopProcess(pid: number, dir: string, graceMs = STOP_GRACE_MS): Promise<boolean> {
  if (!isOurProcess(pid, dir)) return false;
  process.kill(pid, 'SIGTERM');
  if (await waitForExit(pid, graceMs)) return true;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return true; // it exited between the check and the kill
  }
  await waitForExit(pid, graceMs);
  return true;
}

/** SIGKILL without waiting; for exit paths that cannot await. */
export function killNow(pid: number, dir: string): void {
  try {
    if (isOurProcess(pid, dir)) process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadlineMs = Date.now() + timeoutMs;
  while (Date.now() < deadlineMs) {
    if (!isAlive(pid)) return true;
    await sleep(POLL_MS);
  }
  return !isAlive(pid);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The last `lines` lines of a file (read from its last 16 KiB), or a note that it cannot be read. */
export async function tailOfFile(file: string, lines: number): Promise<string> {
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, 16_384);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      return buffer.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } finally {
      await handle.close();
    }
  } catch (err) {
    return `(cannot read ${file}: ${(err as Error).message})`;
  }
}
