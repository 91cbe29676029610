import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sinkProps, sourceProps, writeBundle } from '../../support/bundle-fixture.ts';
import { runValidate } from '../../support/cli.ts';

const validate = runValidate;

describe('connect-fn validate', () => {
  it('exits 0 with one line per connector: name, class, kind, schedule or trigger', async () => {
    const dir = writeBundle({
      'connectors/a.properties': sourceProps('schedule=rate(5 minutes)\n', 'a'),
      'connectors/b.properties': sinkProps('trigger=kafka\ntasks.max=4\n', 'b'),
    });
    const r = await validate(dir);
    expect(r.code).toBe(0);
    expect(r.out).toEqual([
      'a  class=FileStreamSource  kind=source  tasks.max=1  schedule=rate(5 minutes)',
      'b  class=FileStreamSink  kind=sink  tasks.max=4  trigger=kafka',
    ]);
  });

  it('reports malformed properties with the line number', async () => {
    const dir = writeBundle({ 'connectors/a.properties': `${sourceProps()}bad=\\u12G4\n` });
    const r = await validate(dir);
    expect(r.code).toBe(1);
    expect(r.out).toHaveLength(1);
    expect(r.out[0]).toMatch(/^connectors\/a\.properties:5: .*\\uXXXX/);
  });

  it('reports malformed JSON with the line number', async () => {
    const dir = writeBundle({
      'connectors/a.json': '{\n  "name": "a",\n  "config": {\n    "file": "x",,\n  }\n}\n',
    });
    const r = await validate(dir);
    expect(r.code).toBe(1);
    expect(r.out).toHaveLength(1);
    expect(r.out[0]).toMatch(/^connectors\/a\.json:4: \(syntax\): valid JSON/);
  });

  it('reports an unknown key with its line and the closest known key', async () => {
    const dir = writeBundle({ 'connectors/a.properties': sourceProps('task.max=2\nbatch.sise=10\n') });
    const r = await validate(dir);
    expect(r.code).toBe(1);
    expect(r.out).toEqual([
      "connectors/a.properties:5: task.max: unknown key; did you mean 'tasks.max'?",
      "connectors/a.properties:6: batch.sise: unknown key; did you mean 'batch.size'?",
    ]);
  });

  it("checks a connector's client overrides as the Kafka layer reads them, in the connector's file", async () => {
    const dir = writeBundle({
      'connectors/a.properties': sinkProps(
        'consumer.override.max.poll.records=50\nconsumer.override.auto.offset.reset=sometimes\n',
      ),
    });
    const r = await validate(dir);
    expect(r.code).toBe(1);
    expect(r.out).toEqual([
      'connectors/a.properties:6: consumer.override.auto.offset.reset: earliest, latest or none (got sometimes)',
    ]);
  });

  it('reports missing required keys, wrong types and out-of-range values, all of them', async () => {
    const dir = writeBundle({
      'connectors/a.properties':
        'name=a\nconnector.class=FileStreamSource\ntasks.max=zero\nbatch.size=0\nerrors.tolerance=some\n',
    });
    const r = await validate(dir);
    expect(r.code).toBe(1);
    expect(r.out.sort()).toEqual(
      [
        'connectors/a.properties: file: required: a string that is not empty or only spaces',
        'connectors/a.properties: topic: required: a Kafka topic name: 1 to 249 characters of letters, digits, ".", "_" and "-", and not "." or ".."',
        'connectors/a.properties:3: tasks.max: an integer from 1 to 1000 (got zero)',
        'connectors/a.properties:4: batch.size: an integer from 1 to 2147483647 (a 32-bit int, as in Connect) (got 0)',
        'connectors/a.properties:5: errors.tolerance: one of none, all (got some)',
      ].sort(),
    );
  });

  it('reports a connector name used by two files', async () => {
    const dir = writeBundle({
      'connectors/a.properties': sourceProps('', 'dup'),
      'connectors/b.json': JSON.stringify({
        name: 'dup',
        config: { 'connector.class': 'FileStreamSink', file: 'o', topics: 't' },
      }),
    });
    const r = await validate(dir);
    expect(r.code).toBe(1);
    expect(r.out).toEqual([
      'connectors/b.json:1: name: a name unique in the bundle (also used by connectors/a.properties) (got dup)',
    ]);
  });

  it('names the key and provider of an unresolvable ${env:...} and never prints a value', async () => {
    const dir = writeBundle({
      'connectors/a.properties': sourceProps('file=${env:CONNECT_FN_TEST_UNSET_VAR}\n'),
    });
    const r = await validate(dir);
    expect(r.code).toBe(1);
    expect(r.out).toEqual([
      "connectors/a.properties:5: file: a value from config provider 'env' (got environment variable CONNECT_FN_TEST_UNSET_VAR is not set)",
    ]);
  });

  it("refuses a file provider read outside the provider's allowed paths", async () => {
    const dir = writeBundle({
      'worker.properties':
        'config.providers=secrets\nconfig.providers.secrets.class=org.apache.kafka.common.config.provider.FileConfigProvider\nconfig.providers.secrets.param.allowed.paths=allowed\n',
      'allowed/ok.properties': 'topic=from-file\n',
      'other/creds.properties': 'password=s3cr3t-value\n',
      'connectors/a.properties': sourceProps(
        'file=${secrets:other/creds.properties:password}\ntopic=${secrets:allowed/ok.properties:topic}\n',
      ),
    });
    const r = await validate(dir);
    expect(r.code).toBe(1);
    expect(r.out).toEqual([
      "connectors/a.properties:5: file: a value from config provider 'secrets' (got path other/creds.properties is outside allowed.paths (allowed))",
    ]);
    expect(r.all).not.toContain('s3cr3t-value');
  });

  it('refuses rest.modify.enable=true and says how changes are made instead', async () => {
    const dir = writeBundle({
      'worker.properties': 'rest.modify.enable=true\n',
      'connectors/a.properties': sourceProps(),
    });
    const r = await validate(dir);
    expect(r.code).toBe(1);
    expect(r.out).toHaveLength(1);
    expect(r.out[0]).toMatch(
      /^worker\.properties:1: rest\.modify\.enable: false: connect-fn has no mutable REST surface/,
    );
    expect(r.out[0]).toMatch(/redeploying the bundle/);
    expect(r.out[0]).toMatch(/connect-fn offsets alter\|reset/);
    expect(r.out[0]).toMatch(/\(got true\)$/);
  });

  it('reports an unknown connector.class with the closest known class', async () => {
    const dir = writeBundle({
      'connectors/a.properties': 'name=a\nconnector.class=FileStreamSorce\nfile=x\ntopic=t\n',
    });
    const r = await validate(dir);
    expect(r.code).toBe(1);
    expect(r.out).toHaveLength(1);
    expect(r.out[0]).toMatch(
      /^connectors\/a\.properties:2: connector\.class: a known connector \(file-source, file-sink, datagen, dynamodb-sink, dynamodb-streams\) \(got FileStreamSorce\); did you mean 'FileStreamSource'\?$/,
    );
  });

  it('never prints a secret: passwords, sasl.jaas.config and provider-resolved values', async () => {
    const jaas =
      'org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="hunter2-jaas";';
    const dir = writeBundle({
      'worker.properties': `security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config=${jaas}\nssl.key.password=hunter2-key\noffset.storage.partitions=\${env:CFN_SECRET_PARTS}\n`,
      'connectors/a.properties': sourceProps('batch.size=${env:CFN_SECRET_BATCH}\n'),
    });
    process.env.CFN_SECRET_PARTS = 'not-a-number-secret';
    process.env.CFN_SECRET_BATCH = 'batch-secret-value';
    try {
      const text = await validate(dir);
      const json = await validate(dir, '--json');
      for (const r of [text, json]) {
        expect(r.code).toBe(1);
        for (const secret of ['hunter2-jaas', 'hunter2-key', 'not-a-number-secret', 'batch-secret-value']) {
          expect(r.all).not.toContain(secret);
        }
      }
      expect(text.out).toContain(
        'worker.properties:5: offset.storage.partitions: an integer from 1 to 2147483647 (a 32-bit int, as in Connect) (got [hidden])',
      );
      expect(text.out).toContain(
        'connectors/a.properties:5: batch.size: an integer from 1 to 2147483647 (a 32-bit int, as in Connect) (got [hidden])',
      );
    } finally {
      delete process.env.CFN_SECRET_PARTS;
      delete process.env.CFN_SECRET_BATCH;
    }
  });

  it('prints machine-readable results with --json', async () => {
    const good = await validate('examples/file-to-file', '--json');
    expect(good.code).toBe(0);
    const body = JSON.parse(good.out.join(''));
    expect(body.valid).toBe(true);
    expect(body.connectors.map((c: { name: string }) => c.name)).toEqual([
      'local-file-sink',
      'local-file-source',
    ]);
    const dir = writeBundle({ 'connectors/a.properties': sourceProps('tasks.max=-1\n') });
    const bad = JSON.parse((await validate(dir, '--json')).out.join(''));
    expect(bad).toMatchObject({
      valid: false,
      problems: [{ file: 'connectors/a.properties', key: 'tasks.max', line: 5 }],
    });
  });

  it('exits 2 for usage errors', async () => {
    expect((await validate()).code).toBe(2);
    expect((await validate('a', 'b')).code).toBe(2);
    expect((await validate('--yaml', 'examples/file-to-file')).code).toBe(2);
    expect((await validate('/no/such/bundle')).code).toBe(2);
  });

  it('runs as the installed connect-fn command with the same exit codes', () => {
    const dir = writeBundle({ 'connectors/a.properties': sourceProps('tasks.max=0\n') });
    writeFileSync(join(dir, 'connectors', 'notes.txt'), 'not config');
    const bad = spawnSync(process.execPath, ['bin/connect-fn.mjs', 'validate', dir], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain('connectors/a.properties:5: tasks.max: an integer from 1 to 1000 (got 0)');
    expect(bad.stderr).toContain('warning: connectors/notes.txt: (file): ignored');
    const good = spawnSync(process.execPath, ['bin/connect-fn.mjs', 'validate', 'examples/file-to-file'], {
      encoding: 'utf8',
    });
    expect(good.status).toBe(0);
    expect(good.stdout.trim().split('\n')).toHaveLength(2);
  });
});

describe('connect-fn validate, encoding', () => {
  it('says so when a file starts with a byte order mark', async () => {
    const dir = writeBundle({ 'connectors/a.properties': `\uFEFF${sourceProps()}` });
    const r = await validate(dir);
    expect(r.code).toBe(1);
    expect(r.out).toContainEqual(
      expect.stringMatching(
        /^connectors\/a\.properties:1: \uFEFFname: unknown key \(it starts with a byte order mark/,
      ),
    );
  });

  it('refuses bytes that are not UTF-8, naming the line', async () => {
    const dir = writeBundle({ 'connectors/a.properties': 'x' });
    writeFileSync(
      join(dir, 'connectors', 'a.properties'),
      Buffer.concat([Buffer.from(sourceProps()), Buffer.from([0x64, 0x3d, 0xe9, 0x0a])]),
    );
    const r = await validate(dir);
    expect(r.code).toBe(1);
    expect(r.out).toEqual([expect.stringMatching(/^connectors\/a\.properties:5: \(syntax\): UTF-8 text/)]);
  });
});
