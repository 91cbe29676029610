/**
 * Makes sure attached JVMs do not outlive the Node process that started them.
 *
 * A normal teardown calls `stack.stop()`. This guard covers the rest: Ctrl-C / SIGTERM / SIGHUP sent to
 * this process only (a signal to the terminal's process group already reaches the JVMs), and
 * `process.exit()` from anywhere. Both paths must be synchronous, so the JVMs get SIGKILL (a test stack
 * holds nothing worth a graceful shutdown) and the temp dir is removed with `rmSync`.
 * @module
 */
import { rmSync } from 'node:fs';
import type { RunningStack } from './index.ts';
import { killNow } from './jvm-process.ts';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Registers the handlers; returns a function that removes them (call it after `stack.stop()`).
 *
 * @example
 * ```ts
 * const release = guardStackOnExit(stack);
 * try { await runTests(); } finally { await stack.stop(); release(); }
 * ```
 */
export function guardStackOnExit(stack: RunningStack): () => void {
  if (stack.started.length === 0) return () => undefined;
  let killed = false;
  function killStackNow(): void {
    if (killed) return;
    killed = true;
    for (const service of stack.started) killNow(service.pid, service.dir);
    if (stack.rootDir !== undefined) rmSync(stack.rootDir, { recursive: true, force: true });
  }
  function onSignal(signal: NodeJS.Signals): void {
    killStackNow();
    release();
    // If nobody else handles this signal, die of it as Node would have without our handler.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  }
  function release(): void {
    process.off('exit', killStackNow);
    for (const signal of SIGNALS) process.off(signal, onSignal);
  }
  process.on('exit', killStackNow);
  for (const signal of SIGNALS) process.on(signal, onSignal);
  return release;
}
