/**
 * `connect-fn validate` on the adversarial review's reproductions: each bundle as a user would run it, the
 * exact lines they see, and the secrets in it nowhere in the text or the --json output.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBundle } from '../../../src/config/bundle.ts';
import { builtinRegistry } from '../../../src/connectors/builtins.ts';
import { formatProblem } from '../../../src/errors.ts';
import { sourceProps, writeBundle } from '../../support/bundle-fixture.ts';
import { runValidate, testEnv } from '../../support/cli.ts';

const LITERAL =
  'a literal value: config providers supply values, not the structure of the bundle (names, classes, aliases)';
const LIMIT = 'config providers read regular files of at most 1 MiB';

const env = testEnv;

const run = runValidate;

/** Runs validate as text and as --json; both must exit 1 (or `code`) and hide every secret. */
async function validate(dir: string, secrets: readonly string[] = [], code = 1) {
  const text = await run(dir);
  const json = await run(dir, '--json');
  for (const r of [text, json]) {
    expect(r.code).toBe(code);
    for (const secret of secrets) {
      expect(r.all).not.toContain(secret);
      expect(r.all).not.toContain(JSON.stringify(secret).slice(1, -1));
    }
  }
  return { text, json: JSON.parse(json.out.join('')) };
}

describe('providers supply values, not structure', () => {
  it('refuses a reference in transforms and predicates, without leaking the aliases it would give (b1, b3)', async () => {
    env({ CFN_T_ALIAS: 'maskSSN,dropCardNumber', CFN_T_SHORT: 'ab' });
    const dir = writeBundle({
      'connectors/a.properties': sourceProps(
        'transforms=${env:CFN_T_ALIAS}\ntransforms.other.type=Nope\npredicates=${env:CFN_T_SHORT}\ntransforms.zz.predicate=q\n',
        'a',
      ),
    });
    const { text } = await validate(dir, ['maskSSN', 'dropCardNumber', 'predicates.ab', "'ab'"]);
    expect(text.out).toEqual([
      `connectors/a.properties:5: transforms: ${LITERAL} (got \${env:CFN_T_ALIAS})`,
      `connectors/a.properties:7: predicates: ${LITERAL} (got \${env:CFN_T_SHORT})`,
    ]);
  });

  it('refuses a provider name, so it never becomes a secret key hiding every `name` in logs (b5, t5, t18)', async () => {
    env({ CFN_T_CNAME: 'tenant-acme-orders' });
    const dir = writeBundle({ 'connectors/a.properties': sourceProps('', '${env:CFN_T_CNAME}') });
    const { text } = await validate(dir, ['tenant-acme-orders']);
    expect(text.out).toEqual([`connectors/a.properties:1: name: ${LITERAL} (got \${env:CFN_T_CNAME})`]);
    expect(() => loadBundle(dir, { registry: builtinRegistry() })).toThrow(/name: a literal value/);

    const valid = writeBundle({ 'connectors/a.properties': sourceProps('topic=${env:CFN_T_CNAME}\n') });
    const bundle = loadBundle(valid, { registry: builtinRegistry() });
    expect(bundle.redactor.isSecretKey('name')).toBe(false);
    expect(bundle.redactor.deep({ name: 'src' })).toEqual({ name: 'src' });
  });

  it('refuses a provider connector.class: no suggestion quotes the value (b19)', async () => {
    env({ CFN_T_CLASS: 'FileStreamSourc' });
    const dir = writeBundle({
      'connectors/d.properties': 'name=d\nconnector.class=${env:CFN_T_CLASS}\nfile=x\ntopic=t\n',
    });
    const { text, json } = await validate(dir, ['FileStreamSourc', 'did you mean']);
    expect(text.out).toEqual([
      `connectors/d.properties:2: connector.class: ${LITERAL} (got \${env:CFN_T_CLASS})`,
    ]);
    expect(json.problems).toEqual([
      {
        file: 'connectors/d.properties',
        key: 'connector.class',
        expected: LITERAL,
        got: '${env:CFN_T_CLASS}',
        line: 2,
      },
    ]);
  });

  it('refuses a reference in a provider setting: allowed.paths cannot come from the environment (b23)', async () => {
    env({ CFN_T_SECDIR: '/cfn-secret-dir' });
    const dir = writeBundle({
      'worker.properties':
        'config.providers=file\nconfig.providers.file.param.allowed.paths=${env:CFN_T_SECDIR}\n',
      'secrets/s.properties': 'pw=abcdef-secret\n',
      'connectors/d.properties': sourceProps('file=${file:secrets/s.properties:pw}\n', 'd'),
    });
    const { text } = await validate(dir, ['/cfn-secret-dir', 'abcdef-secret']);
    expect(text.out).toEqual([
      `worker.properties:2: config.providers.file.param.allowed.paths: ${LITERAL} (got \${env:CFN_T_SECDIR})`,
      "connectors/d.properties:5: file: a value from config provider 'file' (got none: the provider's config.providers.file.* settings have problems)",
    ]);
  });
});

describe('cross-key checks hide the values they quote', () => {
  it('does not show a provider timeout parsed into another form (b2, t22)', async () => {
    env({ CFN_T_TMO: ' 03000 ' });
    const dir = writeBundle({
      'connectors/a.properties': sourceProps(
        'invocation.timeout.ms=${env:CFN_T_TMO}\ninvocation.safety.margin.ms=9999\n',
        'a',
      ),
    });
    const { text } = await validate(dir, ['3000']);
    expect(text.out).toEqual([
      'connectors/a.properties:6: invocation.safety.margin.ms: less than invocation.timeout.ms ([hidden]) (got 9999)',
    ]);
    expect(() => loadBundle(dir, { registry: builtinRegistry() })).toThrow(/\(\[hidden\]\) \(got 9999\)/);
  });

  it("does not show the worker's provider values in its cross-key problems", async () => {
    env({ CFN_T_STORE: ' dynamodb ', CFN_T_PROTO: ' SASL_SSL ' });
    const dir = writeBundle({
      'worker.properties':
        'exactly.once.source.support=enabled\noffset.storage=${env:CFN_T_STORE}\nsecurity.protocol=${env:CFN_T_PROTO}\n',
      'connectors/a.properties': sourceProps(),
    });
    const { text } = await validate(dir, ['dynamodb', 'SASL_SSL']);
    expect(text.out).toEqual([
      'worker.properties:1: exactly.once.source.support: offset.storage=kafka (offsets must share the transaction with the records) (got enabled with offset.storage=[hidden])',
      'worker.properties: sasl.jaas.config: required with security.protocol=[hidden] and sasl.mechanism=PLAIN',
    ]);
  });
});

describe('declared config providers only', () => {
  it('has only the providers config.providers lists: ${dir:...} cannot read around a confined file (b4)', async () => {
    const outside = writeBundle({ 'o.properties': 'pw=hunter2-outside\n' });
    const dir = writeBundle({
      'worker.properties':
        'config.providers=file\nconfig.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider\nconfig.providers.file.param.allowed.paths=secrets\n',
      'secrets/s.properties': 'pw=inside\n',
      'connectors/a.properties': `name=a\nconnector.class=FileStreamSource\nfile=\${dir:${outside}:o.properties}\ntopic=\${file:${outside}/o.properties:pw}\ntasks.max=\${dir:${outside}:o.properties}\n`,
    });
    const { text } = await validate(dir, ['hunter2-outside']);
    expect(text.out).toEqual([
      'connectors/a.properties:3: file: a declared config provider (file) (got dir)',
      `connectors/a.properties:4: topic: a value from config provider 'file' (got path ${outside}/o.properties is outside allowed.paths (secrets))`,
      'connectors/a.properties:5: tasks.max: a declared config provider (file) (got dir)',
    ]);
  });
});

describe('the Kafka client settings', () => {
  it('are checked by validate, with provider values hidden (b14)', async () => {
    env({ CFN_T_ACKS: 'zero-s3cret' });
    const dir = writeBundle({
      'worker.properties': 'producer.acks=${env:CFN_T_ACKS}\nproducer.bogus=1\n',
      'connectors/d.properties': sourceProps('', 'd'),
    });
    const { text, json } = await validate(dir, ['zero-s3cret']);
    expect(text.out).toEqual([
      'worker.properties:1: producer.acks: all (or -1): connect-fn producers are idempotent and wait for every replica (got [hidden])',
      expect.stringMatching(
        /^worker\.properties:2: producer\.bogus: a producer setting connect-fn supports \(/,
      ),
    ]);
    expect(json.problems[0]).toMatchObject({
      file: 'worker.properties',
      key: 'producer.acks',
      got: '[hidden]',
    });
  });
});

describe('files that are not what they seem', () => {
  it('warns about a dangling symlink in connectors/ instead of crashing (b7)', async () => {
    const dir = writeBundle({ 'connectors/a.properties': sourceProps() });
    symlinkSync('/nonexistent/cfn-readme', join(dir, 'connectors', 'README'));
    symlinkSync('/nonexistent/cfn-b', join(dir, 'connectors', 'b.properties'));
    mkdirSync(join(dir, 'connectors', 'c.json'));
    mkdirSync(join(dir, 'connectors', 'drafts'));
    const { text } = await validate(dir);
    expect(text.err).toEqual([
      'warning: connectors/README: (file): ignored: not a .properties or .json file',
      `${dir}: 2 problems`,
    ]);
    expect(text.out).toEqual([
      'connectors/b.properties: (file): a readable file (got ENOENT)',
      'connectors/c.json: (file): a readable file (got a directory)',
    ]);
  });

  it('refuses a FIFO or a device as a connector file without blocking on it', async () => {
    const dir = writeBundle({ 'connectors/a.properties': sourceProps() });
    expect(spawnSync('mkfifo', [join(dir, 'connectors', 'fifo.properties')]).status).toBe(0);
    symlinkSync('/dev/zero', join(dir, 'connectors', 'zero.json'));
    const { text } = await validate(dir);
    expect(text.out).toEqual([
      'connectors/fifo.properties: (file): a readable file (got not a regular file)',
      'connectors/zero.json: (file): a readable file (got not a regular file)',
    ]);
  });

  it('reports connectors that is a file, not a directory (b8)', async () => {
    const dir = writeBundle({ connectors: '' });
    const { text } = await validate(dir);
    expect(text.out).toEqual([
      'connectors: (file): a directory of connector files (*.properties or *.json) (got a file)',
    ]);
  });

  it('reports a dangling worker.properties symlink instead of ignoring it (b24)', async () => {
    const dir = writeBundle({ 'connectors/d.properties': sourceProps() });
    symlinkSync('/nonexistent/worker.properties', join(dir, 'worker.properties'));
    const { text } = await validate(dir);
    expect(text.out).toEqual(['worker.properties: (file): a readable file (got ENOENT)']);
  });

  it('reads provider files only when regular and at most 1 MiB, naming the path and the limit (b16, b20)', async () => {
    const dir = writeBundle({
      'connectors/d.properties': sourceProps(
        'file=${dir:/dev:zero}\ntopic=${dir:s:big}\nbatch.size=${file:s/big.properties:k}\ntasks.max=x\n',
        'd',
      ),
      's/ok': 'x'.repeat(1024 * 1024),
    });
    writeFileSync(join(dir, 's', 'big'), Buffer.alloc(1024 * 1024 + 1, 'B'));
    writeFileSync(join(dir, 's', 'big.properties'), `k=${'P'.repeat(1024 * 1024)}\n`);
    const started = performance.now();
    const { text } = await validate(dir, ['BBBBBBBB', 'PPPPPPPP']);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(text.out).toEqual([
      `connectors/d.properties:5: file: a value from config provider 'dir' (got /dev/zero is not a regular file (${LIMIT}))`,
      `connectors/d.properties:6: topic: a value from config provider 'dir' (got ${dir}/s/big is too large (${LIMIT}))`,
      `connectors/d.properties:7: batch.size: a value from config provider 'file' (got ${dir}/s/big.properties is too large (${LIMIT}))`,
      'connectors/d.properties:8: tasks.max: an integer from 1 to 1000 (got x)',
    ]);
    // Exactly 1 MiB is within the limit.
    const ok = writeBundle({
      'connectors/d.properties': sourceProps('file=${dir:s:ok}\n'),
      's/ok': 'y'.repeat(1024 * 1024),
    });
    expect((await run(ok)).code).toBe(0);
  });
});

describe('output a value cannot forge', () => {
  it('escapes line breaks and terminal escapes in a value (b17)', async () => {
    const dir = writeBundle({
      'connectors/d.properties': sourceProps(
        'tasks.max=1\\nconnectors/d.properties:1: sasl.jaas.config: fake\\u001b[2K\n',
        'd',
      ),
    });
    const { text, json } = await validate(dir);
    expect(text.out).toEqual([
      'connectors/d.properties:5: tasks.max: an integer from 1 to 1000 (got 1\\nconnectors/d.properties:1: sasl.jaas.config: fake\\u001b[2K)',
    ]);
    expect(text.out[0]).not.toMatch(/\p{Cc}/u);
    // JSON keeps the value as it is: escaping there is JSON's.
    expect(json.problems[0].got).toBe('1\nconnectors/d.properties:1: sasl.jaas.config: fake\u001b[2K');
  });

  it('escapes every field of a problem: C0, DEL, C1, line separators and bidi controls', () => {
    const line = formatProblem({
      file: 'connectors/a\nb.json',
      key: 'k\r\u0085',
      expected: 'e\u2028\u202e',
      got: '\t\u007f\u0000',
      suggestion: 's\u2066',
      line: 3,
    });
    expect(line).toBe(
      "connectors/a\\nb.json:3: k\\r\\u0085: e\\u2028\\u202e (got \\t\\u007f\\u0000); did you mean 's\\u2066'?",
    );
  });
});

describe('suggestions stay cheap', () => {
  it('suggests nothing for a huge unknown key, bounds it, and answers quickly (b9)', async () => {
    const dir = writeBundle({
      'connectors/a.properties': sourceProps(`${'k'.repeat(200_000)}=1\n${'tasks.max'.repeat(40)}=2\n`, 'a'),
    });
    const started = performance.now();
    const { text } = await validate(dir);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(text.out.map((l) => l.replace(/[kt][a-z.]{60,}/, '<long key>'))).toEqual([
      'connectors/a.properties:5: <long key>… [cut: 200000 characters in all]: unknown key',
      'connectors/a.properties:6: <long key>… [cut: 360 characters in all]: unknown key',
    ]);
  });
});

describe('one problem per cause', () => {
  it('gives a failed reference no second problem from its unresolved value (b4, b10)', async () => {
    const dir = writeBundle({
      'worker.properties': 'sasl.jaas.config=${env:CFN_T_UNSET_PW}\n',
      'connectors/a.properties':
        'connector.class=FileStreamSource\nfile=x\ntopic=${env:CFN_T_UNSET_TOPIC}\ntasks.max=many\nbatch.size=${env:CFN_T_UNSET_BATCH}\n',
    });
    const { text } = await validate(dir);
    expect(text.out).toEqual([
      // The reason is hidden with the value of a secret key, though it holds none.
      "worker.properties:1: sasl.jaas.config: a value from config provider 'env' (got [hidden])",
      "connectors/a.properties:3: topic: a value from config provider 'env' (got environment variable CFN_T_UNSET_TOPIC is not set)",
      'connectors/a.properties:4: tasks.max: an integer from 1 to 1000 (got many)',
      "connectors/a.properties:5: batch.size: a value from config provider 'env' (got environment variable CFN_T_UNSET_BATCH is not set)",
      'connectors/a.properties: name: required: a non-empty name of letters, digits, ".", "_" and "-" (at most 64 characters)',
    ]);
  });

  it('reports a "config" that is not an object at its line, the last one winning (b12, b13)', async () => {
    const dir = writeBundle({
      'connectors/a.json': '{"name":"a","config":"a string"}',
      'connectors/b.json':
        '{"name":"b","config": {"connector.class":"FileStreamSource","file":"x","topic":"t"},\n"config": 1}',
      'connectors/c.json':
        '{"name":"c",\n"config": {"connector.class":"FileStreamSource","file":"x","topic":"t"},\n"name": {"x":1}}',
    });
    const expected = 'an object of connector settings: {"name": ..., "config": {...}} (the REST body shape)';
    const { text } = await validate(dir);
    expect(text.out).toEqual([
      `connectors/a.json:1: config: ${expected} (got a string)`,
      `connectors/b.json:2: config: ${expected} (got a number)`,
      'connectors/c.json:3: name: a string, number or boolean (got an object)',
    ]);
  });

  it('survives provider and alias names like Object.prototype members (b12)', async () => {
    const dir = writeBundle({
      'worker.properties':
        'config.providers=__proto__,constructor,toString\nconfig.providers.__proto__.class=env\nconfig.providers.constructor.class=file\nconfig.providers.toString.param.x=1\n',
      'connectors/a.properties':
        'name=a\nconnector.class=FileStreamSource\nfile=${__proto__:toString}\ntopic=${constructor:__proto__:hasOwnProperty}\ntransforms=__proto__\ntransforms.__proto__.type=x\n',
    });
    const { text } = await validate(dir);
    expect(text.out).toEqual([
      'worker.properties:1: config.providers.toString.class: a config provider class (env, file, dir, org.apache.kafka.common.config.provider.EnvVarConfigProvider, org.apache.kafka.common.config.provider.FileConfigProvider, org.apache.kafka.common.config.provider.DirectoryConfigProvider)',
      "connectors/a.properties:3: file: a value from config provider '__proto__' (got environment variable toString is not set)",
      `connectors/a.properties:4: topic: a value from config provider 'constructor' (got cannot read ${dir}/__proto__ (ENOENT))`,
      'connectors/a.properties:6: transforms.__proto__.type: a known transformation (none is built in yet) (got x)',
    ]);
  });

  it('gives a missing transforms.<alias>.type the line of the transforms list', async () => {
    const dir = writeBundle({ 'connectors/a.properties': sourceProps('transforms=mask\n') });
    const { text } = await validate(dir);
    expect(text.out).toEqual([
      "connectors/a.properties:5: transforms.mask.type: required: the class of transformation 'mask'",
    ]);
  });

  it('keeps the lines of nested JSON values and of repeated keys (b6, b21)', async () => {
    const dir = writeBundle({
      'connectors/a.json':
        '{\n "name": "a",\n "config": {\n  "connector.class": "FileStreamSource",  "file": "x", "topic": "t",\n  "tasks.max": "abc",\n  "bogus": {"a":\n1},\n  "x": [1,\n2]\n }\n}',
      'connectors/d.properties': sourceProps('tasks.max=abc\ntasks.max=1\ntasks\\\n  .max=zz\n', 'd'),
      'connectors/e.json':
        '{"name":"e",\n"config":{"connector.class":"FileStreamSource",\n"file":"x","topic":"t"},\n"tasks.max":"zz",\n"config":{"connector.class":"FileStreamSource",\n"file":"x","topic":"t", "tasks.max": "q"}}',
    });
    const { text } = await validate(dir);
    expect(text.out).toEqual([
      'connectors/a.json:5: tasks.max: an integer from 1 to 1000 (got abc)',
      'connectors/a.json:6: bogus: a string, number or boolean (got an object)',
      'connectors/a.json:8: x: a string, number or boolean (got an array)',
      'connectors/d.properties:7: tasks.max: an integer from 1 to 1000 (got zz)',
      'connectors/e.json:4: tasks.max: only "name" and "config" at the top level of the REST body shape (move it into "config")',
      'connectors/e.json:6: tasks.max: an integer from 1 to 1000 (got q)',
    ]);
  });
});

describe('the installed command', () => {
  it('exits quietly with its own exit code when the reader of its output goes away (EPIPE)', () => {
    const keys = Array.from({ length: 3000 }, (_, i) => `unknown.key.number.${i}.with.some.length=1`);
    const dir = writeBundle({ 'connectors/a.properties': sourceProps(`${keys.join('\n')}\n`) });
    const r = spawnSync(
      'bash',
      ['-c', 'node bin/connect-fn.mjs validate "$0" | head -1; echo "exit=${PIPESTATUS[0]}" >&2', dir],
      { encoding: 'utf8' },
    );
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/EPIPE|Error|at /);
    expect(r.stderr).toContain('exit=1');
  });
});
