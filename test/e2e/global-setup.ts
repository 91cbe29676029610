/**
 * vitest global setup for the `e2e` project: AWS's Lambda Runtime Interface Emulator and Node.js runtime
 * interface client, installed into the cache on the first run (./support/lambda-tools.ts: minutes, with
 * progress on stderr), and the stack the integration tier uses, started at the same time. The stack's
 * setup is the one test/faults/global-setup.ts wraps, for the same reason: it leaves the environment as
 * it found it, so the integration project, whose setup may run after this one, still starts its own.
 * @module
 */
import type { TestProject } from 'vitest/node';
import setupStack from '../faults/global-setup.ts';
import { ensureLambdaTools, type LambdaTools } from './support/lambda-tools.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The emulator and the runtime interface client the e2e tests run functions with. */
    lambdaTools: LambdaTools;
  }
}

export default async function setupE2e(project: TestProject): Promise<() => Promise<void>> {
  const tools = ensureLambdaTools((line) => process.stderr.write(`[e2e] ${line}\n`));
  tools.catch(() => undefined); // awaited below, after the stack
  const teardown = await setupStack(project);
  try {
    project.provide('lambdaTools', await tools);
  } catch (err) {
    await teardown();
    throw err;
  }
  return teardown;
}
