import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBundle } from '../../../src/config/bundle.ts';
import { k } from '../../../src/config/keys.ts';
import { Registry } from '../../../src/config/registry.ts';
import { builtinRegistry } from '../../../src/connectors/builtins.ts';
import { converterDefs } from '../../../src/data/converter-configs.ts';
import { ConfigInvalidError } from '../../../src/errors.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { sinkProps, sourceProps, writeBundle } from '../../support/bundle-fixture.ts';
import { runValidate, testEnv } from '../../support/cli.ts';

const env = testEnv;

const validate = runValidate;

/** Asserts `text` holds neither `secret` nor its JSON-escaped form. */
function expectHidden(text: string, secret: string): void {
  expect(text).not.toContain(secret);
  expect(text).not.toContain(JSON.stringify(secret).slice(1, -1));
}

describe('validate never prints a secret', () => {
  it('hides provider values that JSON escaping would change, in --json output too', async () => {
    const dir = writeBundle({
      'secrets/cls': 'SomeCl\\ass\n',
      'connectors/a.properties':
        'name=a\nconnector.class=FileStreamSource\nfile=x\ntopic=t\ntasks.max=${dir:secrets:cls}\n',
    });
    for (const args of [[dir], [dir, '--json']]) {
      const r = await validate(...args);
      expect(r.code).toBe(1);
      expectHidden(r.all, 'SomeCl\\ass\n');
      expectHidden(r.all, 'SomeCl\\ass');
    }
  });

  it('keeps --json valid JSON and file names intact when a common value is a provider secret', async () => {
    env({ CFN_T_LOGS: 'true', CFN_T_TOPIC: 'orders' });
    const dir = writeBundle({
      'connectors/orders.properties': sourceProps(
        'errors.log.enable=${env:CFN_T_LOGS}\ntopic=${env:CFN_T_TOPIC}\n',
      ),
    });
    const r = await validate(dir, '--json');
    expect(r.code).toBe(0);
    const body = JSON.parse(r.out.join(''));
    expect(body).toMatchObject({
      valid: true,
      connectors: [{ name: 'src', file: 'connectors/orders.properties' }],
    });
  });

  it('hides short provider values, in problems of every kind', async () => {
    env({ CFN_T_CN: 'abc' });
    const dir = writeBundle({
      'connectors/a.properties': sourceProps('tasks.max=${env:CFN_T_CN}\n'),
      'connectors/b.properties': sinkProps('errors.deadletterqueue.topic.name=${env:CFN_T_CN}\n').replace(
        'topics=t',
        'topics=t,abc',
      ),
    });
    const r = await validate(dir);
    expect(r.out).toEqual([
      'connectors/a.properties:5: tasks.max: an integer from 1 to 1000 (got [hidden])',
      'connectors/b.properties:5: errors.deadletterqueue.topic.name: a topic the connector does not read (got [hidden])',
    ]);
  });

  it("hides provider values in the error a cold start throws, and in a valid bundle's summary", async () => {
    env({ CFN_T_CN: 'Xy9-prod-secret', CFN_T_SCHED: 'rate(7 minutes)' });
    const bad = writeBundle({
      'connectors/a.properties': sourceProps('tasks.max=${env:CFN_T_CN}\n', 'a'),
      'connectors/b.properties': sourceProps('batch.size=${env:CFN_T_CN}\n', 'b'),
    });
    const err = (() => {
      try {
        loadBundle(bad, { registry: builtinRegistry() });
      } catch (e) {
        return e as ConfigInvalidError;
      }
    })();
    expect(err).toBeInstanceOf(ConfigInvalidError);
    expect(err?.message).toContain('(got [hidden])');
    expectHidden(String(err?.message), 'Xy9-prod-secret');
    const good = writeBundle({ 'connectors/a.properties': sourceProps('schedule=${env:CFN_T_SCHED}\n') });
    const r = await validate(good);
    expect(r.out).toEqual(['src  class=FileStreamSource  kind=source  tasks.max=1  schedule=[hidden]']);
  });

  it('echoes no source text from syntax errors: JSON, a malformed \\u escape, bytes that are not UTF-8', async () => {
    const dir = writeBundle({
      'connectors/a.json': '{\n  "name": "a",\n  "ssl.key.password": hunter2-secret-value\n}\n',
      'connectors/b.properties': `${sourceProps('', 'b')}my.password=\\u12hunter3\n`,
    });
    writeFileSync(
      join(dir, 'connectors', 'c.properties'),
      Buffer.concat([
        Buffer.from('name=c\nssl.key.password=p'),
        Buffer.from([0xe9]),
        Buffer.from('ssw0rd-tail\n'),
      ]),
    );
    const r = await validate(dir);
    expect(r.code).toBe(1);
    expect(r.out.map((l) => l.split(':').slice(0, 2).join(':'))).toEqual([
      'connectors/a.json:3',
      'connectors/b.properties:5',
      'connectors/c.properties:2',
    ]);
    for (const secret of ['hunter2', 'hunter3', 'ssw0rd', 'e9 73']) expect(r.all).not.toContain(secret);
  });

  it('hides keys a schema marks secret, and literal values of secret-named keys, wherever they appear later', () => {
    const registry = new Registry().connector({
      name: 'mongo',
      aliases: [],
      kind: 'source',
      doc: 'test connector',
      schema: { keys: { 'connection.uri': k.password('URI with credentials'), topic: k.string('topic') } },
    });
    for (const def of converterDefs) registry.converter(def);
    const dir = writeBundle({
      'worker.properties': 'ssl.key.password=Lit3ralPass\n',
      'connectors/m.properties':
        'name=m\nconnector.class=mongo\nconnection.uri=mongodb://u:pw-in-uri@h\ntopic=t\n',
    });
    const bundle = loadBundle(dir, { registry: registry.freeze() });
    const lines: string[] = [];
    const logger = createLogger({
      env: {},
      sink: (l) => lines.push(l),
      redact: (v) => bundle.redactor.deep(v),
    });
    logger.info('connecting', {
      'connection.uri': 'mongodb://u:pw-in-uri@h',
      note: 'kafkajs said: bad password Lit3ralPass',
    });
    logger.error('failed', new Error('cannot reach mongodb://u:pw-in-uri@h'));
    expectHidden(lines.join(''), 'pw-in-uri');
    expectHidden(lines.join(''), 'Lit3ralPass');
  });
});

describe('validate, hostile and mistyped keys', () => {
  it('reports keys named after Object.prototype members as unknown keys instead of crashing', async () => {
    const dir = writeBundle({
      'worker.properties': 'toString=1\n',
      'connectors/a.properties': sourceProps('constructor=x\n__proto__=1\nhasOwnProperty=y\n'),
      // Written by hand: in an object literal `__proto__` would set the prototype, not a key.
      'connectors/b.json':
        '{"name":"b","config":{"connector.class":"FileStreamSink","file":"o","topics":"t","__proto__":"z"}}',
    });
    const r = await validate(dir);
    expect(r.code).toBe(1);
    expect(r.out.map((l) => l.replace(/:\d+:/, ':'))).toEqual([
      'worker.properties: toString: unknown key',
      'connectors/a.properties: constructor: unknown key',
      'connectors/a.properties: __proto__: unknown key',
      'connectors/a.properties: hasOwnProperty: unknown key',
      'connectors/b.json: __proto__: unknown key',
    ]);
  });

  it('reports a bad worker converter setting once, however many connectors use it', async () => {
    const dir = writeBundle({
      'worker.properties': 'value.converter=json\nvalue.converter.schemas.enable=maybe\n',
      'connectors/a.properties': sourceProps('', 'a'),
      'connectors/b.properties': sourceProps('', 'b'),
    });
    const r = await validate(dir);
    expect(r.out).toEqual([
      'worker.properties:2: value.converter.schemas.enable: true or false (in any case) (got maybe)',
    ]);
  });

  it('suggests the right key for a typo in a prefix', async () => {
    const dir = writeBundle({
      'worker.properties': 'prodcuer.acks=all\n',
      'connectors/a.properties': sourceProps(
        'producer.overide.acks=1\nvalue.converter=json\nvalue.convertr.schemas.enable=false\n',
      ),
    });
    const r = await validate(dir);
    expect(r.out).toEqual([
      "worker.properties:1: prodcuer.acks: unknown key; did you mean 'producer.acks'?",
      "connectors/a.properties:5: producer.overide.acks: unknown key; did you mean 'producer.override.acks'?",
      "connectors/a.properties:7: value.convertr.schemas.enable: unknown key; did you mean 'value.converter.schemas.enable'?",
    ]);
  });

  it('freezes the bundle all the way down, its lookup function included', () => {
    const bundle = loadBundle('examples/file-to-file', { registry: builtinRegistry() });
    expect(Object.isFrozen(bundle.connector)).toBe(true);
    expect(Object.isFrozen(bundle.worker.clients.producer)).toBe(true);
    expect(Object.isFrozen(bundle.connector('local-file-sink').converters.value.config)).toBe(true);
  });
});
