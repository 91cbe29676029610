/**
 * vitest global setup for the `integration` project: one stack per test run, started here and stopped by
 * the returned teardown (which vitest runs even when tests fail). Tests read the addresses with
 * `stackEnv()` from ./env.ts (vitest's provide/inject); they are also exported as KAFKA_BROKERS and
 * DYNAMODB_ENDPOINT for any process a test spawns.
 * @module
 */
import type { TestProject } from 'vitest/node';
import { guardStackOnExit } from '../../src/stack/exit-guard.ts';
import { startStack } from '../../src/stack/index.ts';

export default async function setupStack(project: TestProject): Promise<() => Promise<void>> {
  const stack = await startStack({ log: (line) => process.stderr.write(`[stack] ${line}\n`) });
  const releaseGuard = guardStackOnExit(stack);
  project.provide('kafkaBrokers', stack.kafkaBrokers);
  project.provide('dynamodbEndpoint', stack.dynamodbEndpoint);
  project.provide('kafkaScram', stack.kafkaScram ?? null);
  const startedNames = stack.started.map((service) => service.name);
  project.provide('stackStarted', {
    kafka: startedNames.includes('kafka'),
    dynamodb: startedNames.includes('dynamodb'),
  });
  const previousEnv = {
    KAFKA_BROKERS: process.env.KAFKA_BROKERS,
    DYNAMODB_ENDPOINT: process.env.DYNAMODB_ENDPOINT,
  };
  process.env.KAFKA_BROKERS = stack.kafkaBrokers;
  process.env.DYNAMODB_ENDPOINT = stack.dynamodbEndpoint;
  return async function teardownStack() {
    try {
      await stack.stop();
    } finally {
      releaseGuard();
      restoreEnv(previousEnv);
    }
  };
}

function restoreEnv(previous: Record<string, string | undefined>): void {
  for (const [key, value] of Object.entries(previous)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
}
