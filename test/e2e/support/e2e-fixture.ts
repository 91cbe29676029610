/**
 * What the e2e tests share: a connector of a test bundle packaged and started under the emulator (stopped
 * after each test), with the stack's addresses in its environment, and the figures the bench needs.
 * @module
 */
import { afterEach, inject } from 'vitest';
import { stackEnv } from '../../stack/env.ts';
import { type RunningFunction, startEmulator } from './lambda-emulator.ts';
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
  /** The function's timeout (the emulator's `AWS_LAMBDA_FUNCTION_TIMEOUT`). Default 30. */
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
  const env = { ...functionEnv(connector), ...options.env };
  const packageEnv = { ...process.env, ...functionEnv(connector), ...options.packageEnv };
  const functionDir = await packagedFunction(bundleDir, connector, packageEnv);
  options.edit?.(functionDir);
  const fn = await startEmulator({
    tools: inject('lambdaTools'),
    functionDir,
    handler: 'index.handler',
    env,
    timeoutSeconds: options.timeoutSeconds ?? 30,
  });
  running.push(fn);
  return fn;
}

export const unique = () => Math.random().toString(36).slice(2, 8);
