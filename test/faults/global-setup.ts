/**
 * vitest global setup for the `faults` project: the integration stack's own setup
 * (test/stack/global-setup.ts) — one Kafka + DynamoDB Local, or the ones KAFKA_BROKERS / DYNAMODB_ENDPOINT
 * name — without leaving the addresses it started in the environment.
 *
 * vitest runs the projects' global setups one after another, in an order that depends on which project's
 * file glob finishes first. The shared setup exports the addresses of a stack it starts (for processes
 * tests spawn); a setup running after it would take them as an external stack and lose what only a started
 * stack provides (the SCRAM listener the integration tests use, `stackStarted`). So when this project
 * starts the stack, the environment is put back; when the integration project started it first, its
 * addresses are in the environment and this project uses the same stack. The fault tests pass the addresses
 * to their children themselves (`stackEnv()`).
 * @module
 */
import type { TestProject } from 'vitest/node';
import setupStack from '../stack/global-setup.ts';

const EXPORTED = ['KAFKA_BROKERS', 'DYNAMODB_ENDPOINT'] as const;

export default async function setupFaultsStack(project: TestProject): Promise<() => Promise<void>> {
  const before = Object.fromEntries(EXPORTED.map((name) => [name, process.env[name]]));
  const teardown = await setupStack(project);
  for (const name of EXPORTED) {
    const value = before[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  return teardown;
}
