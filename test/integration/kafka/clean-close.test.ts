import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { stackEnv } from '../../stack/env.ts';

const run = promisify(execFile);

it('leaves nothing behind that keeps the process alive once every client is closed', async () => {
  const { kafkaBrokers, kafkaScram } = stackEnv();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KAFKA_BROKERS: kafkaBrokers,
    TOPIC: `close-${randomUUID()}`,
  };
  if (kafkaScram !== undefined) {
    env.SCRAM_BROKERS = kafkaScram.brokers;
    env.SCRAM_USERNAME = kafkaScram.username;
  }

  // execFile rejects if the process has not exited by itself within the timeout (it is then killed).
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'use-and-close.ts')],
    { env, timeout: 60_000 },
  );

  const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as { read: number; resources: string[] };
  expect(report.read).toBe(2); // the idempotent record and the committed one; not the fenced, not the aborted
  expect(report.resources.filter((r) => /TCP|Timeout/.test(r))).toEqual([]);
});
