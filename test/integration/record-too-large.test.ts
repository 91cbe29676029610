/**
 * A record too large to send (issue 10, defect 8): the invocation fails naming the record's source
 * coordinates (the file and the position after its line) and its size against the limit, and commits
 * nothing — whether the producer's max.request.size or the topic's max.message.bytes refuses it.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createSourceFunction,
  InvocationFailedError,
  type SourceFunction,
} from '../../src/app/source-function.ts';
import { localContext } from '../../src/lambda/lambda-context.ts';
import { stackEnv } from '../stack/env.ts';
import { writeBundle } from '../support/bundle-fixture.ts';

const opened: SourceFunction[] = [];
afterEach(async () => {
  for (const fn of opened.splice(0)) await fn.close();
});

const BIG = 'x'.repeat(1_200_000);

/** `text` as a regular expression that matches it literally. */
const literally = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A file source over a file holding a 1.2 MB line between two short ones, invoked once. */
async function sendBigLine(workerExtra: string) {
  const id = Math.random().toString(36).slice(2, 8);
  const dir = writeBundle({
    'worker.properties':
      'bootstrap.servers=${env:KAFKA_BROKERS}\nkey.converter=string\nvalue.converter=string\n' +
      `offset.storage=file\noffset.storage.file.filename=offsets.json\n${workerExtra}`,
    'connectors/big.properties': '',
  });
  const input = join(dir, 'in.txt');
  writeFileSync(
    join(dir, 'connectors', 'big.properties'),
    // line.max.bytes above the line: the producer's (or the broker's) limit is what refuses it here.
    `name=big-${id}\nconnector.class=FileStreamSource\nfile=${input}\ntopic=big-${id}\nline.max.bytes=2000000\n`,
  );
  writeFileSync(input, `a\n${BIG}\nc\n`);
  const fn = createSourceFunction({
    bundleDir: dir,
    connector: `big-${id}`,
    env: { ...process.env, KAFKA_BROKERS: stackEnv().kafkaBrokers, LOG_LEVEL: 'error' },
    logSink: () => {},
  });
  opened.push(fn);
  const err = await fn.handler({ task: 0 }, localContext('test', 30_000)).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(InvocationFailedError);
  const summary = (err as InvocationFailedError).summary;
  expect(summary).toMatchObject({ stopReason: 'error', committed: [] });
  expect(summary.error?.code).toBe('CONNECT_FN_RECORD_TOO_LARGE');
  expect(existsSync(join(dir, 'offsets.json'))).toBe(false);
  // The offset names the position after the line, then the file's identity (file-identity.ts).
  const where = new RegExp(
    `^the record of source partition \\{"filename":${literally(JSON.stringify(input))}\\} at offset \\{"position":${2 + BIG.length + 1},"inode":"\\d+","head_bytes":1024,"head_sha256":"[0-9a-f]{64}"\\}: `,
  );
  return { message: summary.error?.message, where, topic: `big-${id}`, records: summary.records };
}

describe('a record too large to send', () => {
  it('fails the invocation naming the file, the position and the size against max.request.size', async () => {
    // Act: the producer's limit is Kafka's default, 1 MiB.
    const { message, where, topic, records } = await sendBigLine('');
    // Assess: nothing of the batch was sent.
    expect(records).toBe(0);
    expect(message).toMatch(where);
    expect(message?.replace(where, '')).toBe(
      `a record for topic ${topic} is ${BIG.length + 24} bytes, more than max.request.size (1048576 bytes); ` +
        "raise producer.max.request.size (and the topic's max.message.bytes), or make the record smaller",
    );
  });

  it('names the record the broker refuses as larger than the topic takes (max.message.bytes)', async () => {
    // Act: the producer may send 2 MB, the topic (created with the broker's defaults) takes ~1 MiB.
    const { message, where, topic } = await sendBigLine('producer.max.request.size=2000000\n');
    // Assess
    expect(message).toMatch(where);
    expect(message?.replace(where, '')).toBe(
      `the broker refused a record for topic ${topic} of ${BIG.length + 24} bytes (the largest of its request) as larger than it takes: ` +
        "more than the topic's max.message.bytes (the broker's message.max.bytes by default); raise it, or make the record smaller",
    );
  });
});
