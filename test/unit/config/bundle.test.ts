import { describe, expect, it } from 'vitest';
import { inspectBundle, loadBundle } from '../../../src/config/bundle.ts';
import { builtinRegistry } from '../../../src/connectors/builtins.ts';
import { ConfigInvalidError } from '../../../src/errors.ts';
import { sinkProps, sourceProps, writeBundle } from '../../support/bundle-fixture.ts';

const registry = builtinRegistry();

describe('loadBundle', () => {
  it('loads the file-to-file example with defaults applied and aliases resolved', () => {
    const bundle = loadBundle('examples/file-to-file', { registry });
    expect(bundle.connectors.map((c) => [c.name, c.plugin, c.kind])).toEqual([
      ['local-file-sink', 'file-sink', 'sink'],
      ['local-file-source', 'file-source', 'source'],
    ]);
    const source = bundle.connector('local-file-source');
    expect(source.common['tasks.max']).toBe(1);
    expect(source.common.schedule).toEqual({ kind: 'rate', expression: 'rate(1 minute)', everyMs: 60_000 });
    expect(source.config).toEqual({
      file: 'test.txt',
      topic: 'connect-test',
      'batch.size': 2000,
      'line.max.bytes': 1_048_576,
    });
    expect(source.converters.value).toEqual({ name: 'string', config: { 'converter.encoding': 'UTF-8' } });
    expect(bundle.worker.values['offset.storage']).toBe('file');
    expect(bundle.worker.values['offset.storage.partitions']).toBe(25);
  });

  it('returns a deeply frozen bundle', () => {
    const bundle = loadBundle('examples/file-to-file', { registry });
    const source = bundle.connector('local-file-source');
    expect(Object.isFrozen(bundle)).toBe(true);
    expect(Object.isFrozen(bundle.connectors)).toBe(true);
    expect(Object.isFrozen(source.common)).toBe(true);
    expect(Object.isFrozen(source.common.schedule)).toBe(true);
    expect(() => {
      (source.config as Record<string, unknown>).file = '/etc/passwd';
    }).toThrow(TypeError);
  });

  it('reads JSON connector files in the REST body shape and as a flat map, with numbers and booleans', () => {
    const dir = writeBundle({
      'connectors/a.json': JSON.stringify({
        name: 'a',
        config: { 'connector.class': 'FileStreamSource', file: 'x', topic: 't', 'tasks.max': 3 },
      }),
      'connectors/b.json': JSON.stringify({
        name: 'b',
        'connector.class': 'file-sink',
        file: 'y',
        topics: 't',
        'errors.log.enable': true,
      }),
    });
    const bundle = loadBundle(dir, { registry });
    expect(bundle.connector('a').common['tasks.max']).toBe(3);
    expect(bundle.connector('b').common['errors.log.enable']).toBe(true);
  });

  it('accepts a worker.json', () => {
    const dir = writeBundle({
      'worker.json': '{"offset.storage":"dynamodb"}',
      'connectors/a.properties': sourceProps(),
    });
    expect(loadBundle(dir, { registry }).worker.values['offset.storage']).toBe('dynamodb');
  });

  it('resolves Connect class names, short names and aliases to the same connector and converter', () => {
    const dir = writeBundle({
      'connectors/a.properties': sourceProps(
        'value.converter=org.apache.kafka.connect.json.JsonConverter\nvalue.converter.schemas.enable=false\n',
        'a',
      ),
      'connectors/b.properties': sourceProps('value.converter=json\n', 'b').replace(
        'FileStreamSource',
        'org.apache.kafka.connect.file.FileStreamSourceConnector',
      ),
    });
    const bundle = loadBundle(dir, { registry });
    expect(bundle.connector('a').converters.value).toMatchObject({
      name: 'json',
      config: { 'schemas.enable': false },
    });
    expect(bundle.connector('b').converters.value).toMatchObject({
      name: 'json',
      config: { 'schemas.enable': true },
    });
    expect(bundle.connector('b').plugin).toBe('file-source');
  });

  it("uses the worker's converter settings unless the connector sets its own converter, and warns about ignored ones", () => {
    const dir = writeBundle({
      'worker.properties': 'value.converter=json\nvalue.converter.schemas.enable=false\n',
      'connectors/a.properties': sourceProps('value.converter.schemas.enable=true\n'),
    });
    const result = inspectBundle(dir, { registry });
    expect(result.bundle?.connector('src').converters.value.config['schemas.enable']).toBe(false);
    expect(result.warnings.map((w) => w.key)).toEqual(['value.converter.schemas.enable']);
  });

  it('accepts Connect worker keys that mean nothing here, with a warning saying why', () => {
    const dir = writeBundle({
      'worker.properties': 'plugin.path=/usr/share/java\nrest.port=8083\n',
      'connectors/a.properties': sourceProps(),
    });
    const result = inspectBundle(dir, { registry });
    expect(result.problems).toEqual([]);
    expect(result.warnings.map((w) => w.key).sort()).toEqual(['plugin.path', 'rest.port']);
    expect(result.warnings[0]?.expected).toMatch(/^ignored: /);
  });

  it('throws one ConfigInvalidError listing every problem', () => {
    const dir = writeBundle({ 'connectors/a.properties': sourceProps('tasks.max=0\nbatch.size=x\n') });
    const err = (() => {
      try {
        loadBundle(dir, { registry });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigInvalidError);
    expect((err as ConfigInvalidError).problems.map((p) => p.key).sort()).toEqual([
      'batch.size',
      'tasks.max',
    ]);
  });

  it('checks a sink has exactly one of topics and topics.regex, and a source none', () => {
    const dir = writeBundle({
      'connectors/a.properties': sinkProps('topics.regex=t.*\n', 'a'),
      'connectors/b.properties': sinkProps('', 'b').replace('topics=t\n', ''),
      'connectors/c.properties': sourceProps('topics=x\n', 'c'),
      'connectors/d.properties': sinkProps('trigger=kafka\n', 'd'),
    });
    const problems = inspectBundle(dir, { registry }).problems;
    expect(problems.map((p) => `${p.file} ${p.key}`).sort()).toEqual([
      'connectors/a.properties topics.regex',
      'connectors/b.properties topics',
      'connectors/c.properties topics',
    ]);
  });
});
