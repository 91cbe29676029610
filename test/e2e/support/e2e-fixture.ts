/**
 * What the e2e tests share: a connector of a test bundle packaged and started under the emulator (stopped
 * after each test), with the stack's addresses in its environment, and the figures the bench needs.
 * @module
 */
import { afterEach, expect, inject } from 'vitest';
import { stackEnv } from '../../stack/env.ts';
import { type Invocation, type RunningFunction, startEmulator } from './lambda-emulator.ts';
import { packagedFunction } from './packaged-function.ts';

const running: RunningFunction[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((fn) => fn.stop()));
});

/** The function's environment: the connector it runs, and what the test bundles' `${env:...}` read. */
export function functionEnv(connector: string): Record<string, string> {
  const { kafkaBrokers, dynamodbEndpoint } = stackEnv();
  return {
    CONNECT_FN_CONNECTOR: connector,
    KAFKA_BROKERS: kafkaBrokers,
    DYNAMODB_ENDPOINT: dynamodbEndpoint,
    LOG_LEVEL: 'info',
  };
}

export interface PackagedRun {
  /** The function's timeout (the emulator's `AWS_LAMBDA_FUNCTION_TIMEOUT`). Default: the manifest's. */
  readonly timeoutSeconds?: number;
  /** Changes to the unpacked function before it starts (e.g. a file of its bundle edited). */
  readonly edit?: (functionDir: string) => void;
  /** More variables of the function's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** More variables of the environment the package is built (validated) in. */
  readonly packageEnv?: Readonly<Record<string, string>>;
}

/** `connector` of the bundle in `bundleDir`, packaged, unpacked and running under the emulator. */
export async function runPackaged(
  bundleDir: string,
  connector: string,
  options: PackagedRun = {},
): Promise<RunningFunction> {
  const packageEnv = { ...process.env, ...functionEnv(connector), ...options.packageEnv };
  const { dir, manifest } = await packagedFunction(bundleDir, connector, packageEnv);
  options.edit?.(dir);
  // As the infrastructure deploys it: the manifest's handler, environment, memory and timeout, and a
  // value for each variable the manifest says the bundle reads
  // (the connector's name only from the manifest)
  const provided: Record<string, string> = Object.fromEntries(
    Object.entries(functionEnv(connector)).filter(([name]) => name !== 'CONNECT_FN_CONNECTOR'),
  );
  const given = { ...provided, ...options.env };
  const missing = manifest.function.requiredEnvironment.filter((name) => given[name] === undefined);
  expect(missing, 'variables the manifest requires and the test does not set').toEqual([]);
  const fn = await startEmulator({
    tools: inject('lambdaTools'),
    functionDir: dir,
    handler: manifest.function.handler,
    env: { ...given, ...manifest.function.environment },
    timeoutSeconds: options.timeoutSeconds ?? manifest.function.timeoutSeconds,
    memoryMb: manifest.function.memoryMb,
  });
  running.push(fn);
  return fn;
}

export const unique = () => Math.random().toString(36).slice(2, 8);

/**
 * Prints the cold start as the emulator measures it, for the bench (`npm run bench` reads the same
 * figures): the REPORT line's Init Duration (the emulator's, ~0: it starts the runtime inside the first
 * invocation), the runtime's INIT REPORT, and the first invocation's Duration less a warm one's.
 */
export function reportColdStart(
  what: string,
  cold: Invocation,
  warm: Invocation,
  runtimeInitMs: number | undefined,
) {
  const coldMs = cold.report?.durationMs;
  const warmMs = warm.report?.durationMs;
  expect(coldMs).toBeGreaterThan(0);
  expect(warmMs).toBeGreaterThan(0);
  console.log(
    JSON.stringify({
      e2eColdStart: what,
      reportInitDurationMs: cold.report?.initDurationMs,
      runtimeInitReportMs: runtimeInitMs,
      coldInvocationMs: coldMs,
      warmInvocationMs: warmMs,
      coldMinusWarmMs:
        coldMs === undefined || warmMs === undefined ? undefined : +(coldMs - warmMs).toFixed(2),
    }),
  );
}
