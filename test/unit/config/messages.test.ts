/**
 * What configuration messages say (issue 10, defects 7 and 8): every echoed value and key bounded, and
 * every expectation naming the rule the validator really applies.
 */
import { realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectBundle } from '../../../src/config/bundle.ts';
import { builtinRegistry } from '../../../src/connectors/builtins.ts';
import { ConfigInvalidError, formatProblem, MAX_SHOWN_CHARS } from '../../../src/errors.ts';
import { sourceProps, writeBundle } from '../../support/bundle-fixture.ts';
import { runValidate } from '../../support/cli.ts';

const registry = builtinRegistry();

function problemLines(dir: string): string[] {
  return inspectBundle(dir, { registry }).problems.map(formatProblem);
}

describe('configuration messages', () => {
  it('bounds a 30 MB invalid value and a 1 MB unknown key, and names Kafka topic rule', () => {
    const huge = 'a,'.repeat(15 * 1024 * 1024);
    const longKey = 'k'.repeat(1024 * 1024);
    const dir = writeBundle({
      'connectors/a.properties': `name=a\nconnector.class=FileStreamSource\nfile=/tmp/in.txt\ntopic=${huge}\n${longKey}=1\n`,
    });
    const lines = problemLines(dir);
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line.length).toBeLessThan(1200);
    const topic = lines.find((l) => l.includes(': topic: '));
    expect(topic).toContain(
      'a Kafka topic name: 1 to 249 characters of letters, digits, ".", "_" and "-", and not "." or ".."',
    );
    expect(topic).toContain(`[cut: ${huge.length} characters in all]`);
    expect(lines.find((l) => l.includes('unknown key'))).toContain(
      `[cut: ${longKey.length} characters in all]`,
    );
    // The error a cold start throws holds bounded problems too.
    const err = new ConfigInvalidError(inspectBundle(dir, { registry }).problems);
    expect(err.message.length).toBeLessThan(2500);
    expect(JSON.stringify(err.problems).length).toBeLessThan(2500);
    expect(err.problems.every((p) => (p.got ?? '').length <= MAX_SHOWN_CHARS + 50)).toBe(true);
  });

  it('refuses the topic names Kafka refuses: ".", "..", 250 characters', () => {
    for (const topic of ['.', '..', 'x'.repeat(250), 'a b']) {
      const lines = problemLines(
        writeBundle({ 'connectors/a.properties': sourceProps().replace('topic=t', `topic=${topic}`) }),
      );
      expect(lines.join('\n')).toContain('topic: a Kafka topic name');
    }
    expect(
      problemLines(writeBundle({ 'connectors/a.properties': sourceProps().replace('topic=t', 'topic=...') })),
    ).toEqual([]);
  });

  it('says an integer beyond its type is out of the type range, not just "an integer >= 1"', () => {
    const dir = writeBundle({
      'connectors/a.properties': sourceProps(
        'invocation.max.records=99999999999999999999\ninvocation.max.bytes=9007199254740993\n',
      ),
    });
    const text = problemLines(dir).join('\n');
    expect(text).toContain(
      'invocation.max.records: an integer from 1 to 2147483647 (a 32-bit int, as in Connect)',
    );
    expect(text).toContain(
      'invocation.max.bytes: an integer from 1 to 9007199254740991 (2^53 - 1 is the largest integer connect-fn holds exactly)',
    );
    expect(text).not.toMatch(/>= 1/);
  });

  it('says a bundle directory does not exist, or is a file, instead of "at least one connector file"', () => {
    const dir = writeBundle({ 'x.txt': 'x' });
    const missing = problemLines(join(dir, 'nope'));
    expect(missing).toEqual([
      `${join(dir, 'nope')}: (bundle): a bundle directory (holding connectors/ and an optional worker file) (got no such directory)`,
    ]);
    const file = join(dir, 'x.txt');
    writeFileSync(file, 'x');
    expect(problemLines(file).join('\n')).toContain('(got a file, not a directory)');
  });

  it('warns of a key set twice in a .properties or .json file, naming both lines and the key, never a value', () => {
    const dir = writeBundle({
      'worker.properties':
        'sasl.jaas.config=first-Secret-1\nbootstrap.servers=localhost:9092\nsasl.jaas.config=second-Secret-2\n',
      'connectors/a.properties': sourceProps('file=/tmp/other.txt\n'),
      'connectors/b.json':
        '{"name": "b",\n "connector.class": "FileStreamSource",\n "file": "/tmp/b",\n "topic": "t",\n "topic": "u"}',
    });
    const inspection = inspectBundle(dir, { registry });
    const warnings = inspection.warnings.map(formatProblem);
    expect(warnings).toEqual([
      "worker.properties:3: sasl.jaas.config: set once: it is also set at line 1, and this later one wins (as in Java's Properties.load); remove one of them",
      "connectors/a.properties:5: file: set once: it is also set at line 3, and this later one wins (as in Java's Properties.load); remove one of them",
      'connectors/b.json:5: topic: set once: it is also set at line 4, and this later one wins (as in JSON.parse); remove one of them',
    ]);
    expect(warnings.join('\n')).not.toMatch(/Secret|other\.txt|\/tmp\/in/);
  });

  it('warns of a connector file that links outside the bundle, naming the file and its target', () => {
    const elsewhere = writeBundle({ 'shared/orders.properties': sourceProps('', 'orders') });
    const dir = writeBundle({ 'connectors/a.properties': sourceProps() });
    symlinkSync(join(elsewhere, 'shared/orders.properties'), join(dir, 'connectors/orders.properties'));
    symlinkSync(join(dir, 'connectors/a.properties'), join(dir, 'connectors/inside.properties'));
    const inspection = inspectBundle(dir, { registry });
    const target = realpathSync(join(elsewhere, 'shared/orders.properties'));
    expect(inspection.warnings.map(formatProblem)).toEqual([
      `connectors/orders.properties: (file): a file inside the bundle: it links to ${target}, outside it, so a copy or package of the bundle directory would not contain it`,
    ]);
  });

  it('says a connect-log4j.properties in connectors/ is not a connector, instead of suggesting keys for it', () => {
    const dir = writeBundle({
      'connectors/a.properties': sourceProps(),
      'connectors/connect-log4j.properties': [
        'log4j.rootLogger=INFO, stdout, connectAppender',
        'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
        'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
        'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
        '',
      ].join('\n'),
    });
    expect(problemLines(dir)).toEqual([
      'connectors/connect-log4j.properties: (file): a connector configuration, which this is not: it has no connector.class and its keys are a log4j configuration; move it out of connectors/, where every file is read as a connector',
    ]);
  });

  it('offers a suggestion only when it is a likely typo, for whole keys and for prefixes', () => {
    const dir = writeBundle({
      'connectors/a.properties': sourceProps(
        'log4j.appender.stdout.layout=x\nprodcuer.override.acks=all\ntsk=1\ntpic.x=1\n',
      ),
    });
    const lines = problemLines(dir);
    expect(lines).toEqual([
      'connectors/a.properties:5: log4j.appender.stdout.layout: unknown key',
      "connectors/a.properties:6: prodcuer.override.acks: unknown key; did you mean 'producer.override.acks'?",
      'connectors/a.properties:7: tsk: unknown key',
      'connectors/a.properties:8: tpic.x: unknown key',
    ]);
  });

  it('keeps offsets in the file a Connect standalone worker file names, saying so, instead of a Kafka topic', () => {
    const dir = writeBundle({
      'worker.properties':
        'bootstrap.servers=localhost:9092\noffset.storage.file.filename=/tmp/connect.offsets\n',
      'connectors/a.properties': sourceProps(),
    });
    const inspection = inspectBundle(dir, { registry });
    expect(inspection.bundle?.worker.values['offset.storage']).toBe('file');
    expect(inspection.bundle?.worker.values['offset.storage.file.filename']).toBe('/tmp/connect.offsets');
    expect(inspection.warnings.map(formatProblem)).toEqual([
      "worker.properties:2: offset.storage.file.filename: read as a Connect standalone worker file: without offset.storage, offsets go to this file (offset.storage=file). connect-fn writes it as JSON and cannot read Connect's own standalone offsets file (Java-serialised): name a new file, and set offset.storage to choose where offsets go",
    ]);
    // An explicit offset.storage is kept, without a word.
    const explicit = writeBundle({
      'worker.properties': 'offset.storage=kafka\noffset.storage.file.filename=/tmp/connect.offsets\n',
      'connectors/a.properties': sourceProps(),
    });
    const kept = inspectBundle(explicit, { registry });
    expect(kept.bundle?.worker.values['offset.storage']).toBe('kafka');
    expect(kept.warnings).toEqual([]);
  });

  it('bounds what validate prints, as text and as --json', async () => {
    const value = 'v'.repeat(1024 * 1024);
    const dir = writeBundle({
      'connectors/a.properties': sourceProps(`tasks.max=${value}\n${'k'.repeat(5000)}=1\n`),
    });
    for (const args of [[dir], [dir, '--json']]) {
      const r = await runValidate(...args);
      expect(r.code).toBe(1);
      expect(r.all.length).toBeLessThan(2000);
      expect(r.all).toContain(`[cut: ${value.length} characters in all]`);
    }
  });
});
