/**
 * A record larger than max.request.size (issue 10, defect 8): the invocation fails naming the record's
 * source coordinates (the file and the position after its line) and its size against the limit, sends
 * nothing of its batch, and commits nothing.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createSourceFunction,
  InvocationFailedError,
  type SourceFunction,
} from '../../handlers/source-function.ts';
import { localContext } from '../../src/lambda/lambda-context.ts';
import { stackEnv } from '../stack/env.ts';
import { writeBundle } from '../support/bundle-fixture.ts';

const opened: SourceFunction[] = [];
afterEach(async () => {
  for (const fn of opened.splice(0)) await fn.close();
});

describe('a record too large to send', () => {
  it('fails the invocation naming the file, the position and the size against max.request.size', async () => {
    // Prepare: a 1.2 MB line between two short ones; the producer's limit is Kafka's default, 1 MiB.
    const id = Math.random().toString(36).slice(2, 8);
    const dir = writeBundle({
      'worker.properties':
        'bootstrap.servers=${env:KAFKA_BROKERS}\nkey.converter=string\nvalue.converter=string\n' +
        'offset.storage=file\noffset.storage.file.filename=offsets.json\n',
      'connectors/big.properties': '',
    });
    const input = join(dir, 'in.txt');
    writeFileSync(
      join(dir, 'connectors', 'big.properties'),
      `name=big-${id}\nconnector.class=FileStreamSource\nfile=${input}\ntopic=big-${id}\n`,
    );
    const big = 'x'.repeat(1_200_000);
    writeFileSync(input, `a\n${big}\nc\n`);
    const fn = createSourceFunction({
      bundleDir: dir,
      connector: `big-${id}`,
      env: { ...process.env, KAFKA_BROKERS: stackEnv().kafkaBrokers, LOG_LEVEL: 'error' },
      logSink: () => {},
    });
    opened.push(fn);
    // Act
    const err = await fn.handler({ task: 0 }, localContext('test', 30_000)).catch((e: unknown) => e);
    // Assess
    expect(err).toBeInstanceOf(InvocationFailedError);
    const summary = (err as InvocationFailedError).summary;
    expect(summary).toMatchObject({ stopReason: 'error', records: 0, committed: [] });
    expect(summary.error?.code).toBe('CONNECT_FN_RECORD_TOO_LARGE');
    expect(summary.error?.message).toBe(
      `the record of source partition {"filename":${JSON.stringify(input)}} at offset {"position":${2 + big.length + 1}}: ` +
        `a record for topic big-${id} is ${big.length + 24} bytes, more than max.request.size (1048576 bytes); ` +
        "raise producer.max.request.size (and the topic's max.message.bytes), or make the record smaller",
    );
    expect(existsSync(join(dir, 'offsets.json'))).toBe(false);
  });
});
