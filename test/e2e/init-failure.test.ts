/**
 * A package whose bundle is not valid when the function starts fails its cold start with the validation
 * message: the runtime reports the init error, and the Invoke API answers with it (Lambda's error shape),
 * naming the file and the key. Nothing runs, nothing is written.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeBundle } from '../support/bundle-fixture.ts';
import { runPackaged, unique } from './support/e2e-fixture.ts';

const WORKER = 'bootstrap.servers=${env:KAFKA_BROKERS}\nvalue.converter=string\n';

describe('a bundle that is invalid at cold start, packaged, under the Lambda runtime emulator', () => {
  it('fails at init with the validation message naming the file and the unknown key', async () => {
    // Prepare: a valid package whose connector file then gains a key no connector has (a hand-edited artifact)
    const id = unique();
    const name = `gen-${id}`;
    const dir = writeBundle({
      'worker.properties': `${WORKER}offset.storage.topic=offsets-${id}\noffset.storage.replication.factor=1\n`,
      'connectors/gen.properties': `name=${name}\nconnector.class=datagen\nkafka.topic=never-${id}\n`,
    });
    const fn = await runPackaged(dir, name, {
      edit: (functionDir) =>
        appendFileSync(join(functionDir, 'bundle', 'connectors', 'gen.properties'), 'kafka.topik=x\n'),
    });
    // Act
    const invocation = await fn.invoke({ task: 0 });
    // Assess: the init error, as Lambda's Invoke API returns it
    expect(invocation.status).toBe(502);
    expect(invocation.report).toBeUndefined();
    expect(invocation.body).toMatchObject({
      errorType: 'ConfigInvalidError',
      errorMessage: expect.stringMatching(/connectors\/gen\.properties.*kafka\.topik/s),
    });
    expect(fn.lines).toContainEqual(expect.stringContaining('Init Error'));
  });

  it('fails at init when the function environment gives a referenced value the bundle refuses', async () => {
    // Prepare: `invocation.max.records=${env:MAX_RECORDS}`, packaged with 100, deployed with "many"
    const id = unique();
    const name = `gen-${id}`;
    const dir = writeBundle({
      'worker.properties': `${WORKER}offset.storage.topic=offsets-${id}\noffset.storage.replication.factor=1\n`,
      'connectors/gen.properties': `name=${name}\nconnector.class=datagen\nkafka.topic=never-${id}\ninvocation.max.records=\${env:MAX_RECORDS}\n`,
    });
    const fn = await runPackaged(dir, name, {
      packageEnv: { MAX_RECORDS: '100' },
      env: { MAX_RECORDS: 'many' },
    });
    // Act
    const invocation = await fn.invoke({ task: 0 });
    // Assess
    expect(invocation.status).toBe(502);
    expect(invocation.body).toMatchObject({
      errorType: 'ConfigInvalidError',
      errorMessage: expect.stringMatching(/connectors\/gen\.properties.*invocation\.max\.records/s),
    });
  });
});
