/**
 * A packaged function's cold start under AWS's Lambda Runtime Interface Emulator, with AWS's Node.js
 * runtime interface client (the e2e tier's harness, test/e2e/support/): one fresh emulator per sample,
 * two invocations (cold, then warm), the emulator stopped.
 *
 * The figures of one sample:
 * - `reportInitMs`: the `REPORT` line's Init Duration, as the emulator prints it. It is ~0 ms: the emulator
 *   starts the runtime inside the first invocation and times only its own hand-over, not the runtime's init;
 * - `runtimeInitMs`: the emulator's `INIT REPORT(durationMs: …)`, from starting the runtime (node, the
 *   runtime client) to the runtime asking for its first event, i.e. after importing the handler: node's
 *   start, the client's load and the handler module's evaluation (for ours: loading and validating the
 *   bundle, composing the function). This is the figure that compares with Lambda's Init Duration;
 * - `firstMinusWarmMs`: the first invocation's Duration less the second's. The first Duration contains the
 *   runtime's init (the emulator starts the runtime inside it), so this is init plus what the first call
 *   does once: for ours, refusing the event the first time source-maps the error's stack trace
 *   (`--enable-source-maps`, parsing `index.mjs.map`), which the baseline (no error) never does.
 *
 * The event is `{"task": -1}`, which every connect-fn handler refuses before any I/O (no task -1, not a
 * Kafka event), and the baseline's handler answers with `{}`: no Kafka round trip enters the figures, only
 * init. The emulator is what Lambda runs functions in locally; the timings are this machine's, not Lambda's.
 * @module
 */

import { startEmulator } from '../../test/e2e/support/lambda-emulator.ts';
import type { LambdaTools } from '../../test/e2e/support/lambda-tools.ts';

export { ensureLambdaTools } from '../../test/e2e/support/lambda-tools.ts';

export interface EmulatorSample {
  readonly reportInitMs: number;
  readonly runtimeInitMs: number;
  readonly firstMinusWarmMs: number;
}

/** The event the bench invokes with: refused by our handlers before any I/O. */
export const INIT_ONLY_EVENT = { task: -1 };

/** One cold start of the unpacked function in `functionDir`. */
export async function emulatorSample(
  tools: LambdaTools,
  functionDir: string,
  handler: string,
  env: Readonly<Record<string, string>>,
): Promise<EmulatorSample> {
  const fn = await startEmulator({ tools, functionDir, handler, env });
  try {
    const first = await fn.invoke(INIT_ONLY_EVENT);
    const warm = await fn.invoke(INIT_ONLY_EVENT);
    const runtimeInitMs = fn.runtimeInitMs();
    if (first.report === undefined || warm.report === undefined || runtimeInitMs === undefined) {
      throw new Error(
        `${functionDir}: no REPORT or INIT REPORT (status ${first.status}):\n${fn.lines.join('\n')}`,
      );
    }
    return {
      reportInitMs: first.report.initDurationMs ?? 0,
      runtimeInitMs,
      firstMinusWarmMs: first.report.durationMs - warm.report.durationMs,
    };
  } finally {
    await fn.stop();
  }
}
