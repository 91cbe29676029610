import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectBundle } from '../../../src/config/bundle.ts';
import { parseJsonConfig, readConfigFile } from '../../../src/config/config-file.ts';
import { builtinRegistry } from '../../../src/connectors/builtins.ts';
import { formatProblem } from '../../../src/errors.ts';
import { writeBundle } from '../../support/bundle-fixture.ts';

const FILE = 'connectors/c.json';

/** Values and lines as plain objects, for toEqual. */
function read(text: string) {
  const r = parseJsonConfig(text, FILE);
  return {
    values: r.file === undefined ? undefined : { ...r.file.values },
    lines: r.file === undefined ? undefined : { ...r.file.lines },
    problems: r.problems,
  };
}

describe('parseJsonConfig', () => {
  it('reads the flat shape with each key at its line', () => {
    expect(read('{\n  "name": "a",\n  "connector.class": "FileStreamSource",\n  "tasks.max": 2\n}')).toEqual({
      values: { name: 'a', 'connector.class': 'FileStreamSource', 'tasks.max': '2' },
      lines: { name: 2, 'connector.class': 3, 'tasks.max': 4 },
      problems: [],
    });
  });

  it('reports a syntax error by line and column without quoting the text, an unquoted secret included', () => {
    const text = '{\n  "name": "a",\n  "ssl.key.password": hunter2-secret-value\n}\n';
    const r = parseJsonConfig(text, FILE);
    expect(r).toEqual({
      problems: [
        {
          file: FILE,
          key: '(syntax)',
          expected: 'valid JSON',
          got: 'unexpected character at line 3, column 23',
          line: 3,
        },
      ],
    });
    const shown = JSON.stringify(r) + r.problems.map(formatProblem).join('\n');
    expect(shown).not.toMatch(/hunter|secret-value|password/);
  });

  it('places errors V8 reports without a position (unexpected token, end of input)', () => {
    // JSON.parse says "Unexpected token 'h', "…hunter2…" is not valid JSON": text, but no position.
    expect(parseJsonConfig('{\n"a": 1,\n"b": hunter2}', FILE).problems).toEqual([
      expect.objectContaining({ got: 'unexpected character at line 3, column 6', line: 3 }),
    ]);
    expect(parseJsonConfig('{\n  "a": "x",\n', FILE).problems).toEqual([
      expect.objectContaining({ got: 'unexpected end of input at line 3, column 1', line: 3 }),
    ]);
    expect(parseJsonConfig('', FILE).problems).toEqual([
      expect.objectContaining({ got: 'unexpected end of input at line 1, column 1', line: 1 }),
    ]);
    expect(parseJsonConfig('{"password": "hunter2\n"}', FILE).problems).toEqual([
      expect.objectContaining({ got: 'unexpected line break at line 1, column 22', line: 1 }),
    ]);
  });

  it('ignores a leading byte order mark, lines and columns unchanged', () => {
    expect(read('\uFEFF{"name": "a",\n"topic": "t"}')).toEqual({
      values: { name: 'a', topic: 't' },
      lines: { name: 1, topic: 2 },
      problems: [],
    });
    expect(parseJsonConfig('\uFEFF{"a": x}', FILE).problems[0]?.got).toBe(
      'unexpected character at line 1, column 7',
    );
  });

  it('gives a key its own line, not that of an equal value or an earlier key', () => {
    const r = read('{\n  "name": "file",\n  "connector.class": "FileStreamSource",\n  "file": "/tmp/in"\n}');
    expect(r.lines).toEqual({ name: 2, 'connector.class': 3, file: 4 });
  });

  it('lets the last of duplicate keys win, at its line', () => {
    expect(read('{\n"topic": "a",\n"name": "n",\n"topic": "b"\n}')).toEqual({
      values: { topic: 'b', name: 'n' },
      lines: { topic: 4, name: 3 },
      problems: [],
    });
  });

  it('keeps __proto__, constructor and toString as ordinary keys of null-prototype objects', () => {
    const r = parseJsonConfig('{"__proto__": "p", "constructor": "c", "toString": 1, "name": "a"}', FILE);
    const values = r.file?.values ?? {};
    expect(Object.getPrototypeOf(values)).toBe(null);
    expect(Object.getPrototypeOf(r.file?.lines)).toBe(null);
    expect(Object.entries(values)).toEqual([
      ['__proto__', 'p'],
      ['constructor', 'c'],
      ['toString', '1'],
      ['name', 'a'],
    ]);
    expect(Object.entries(r.file?.lines ?? {})[0]).toEqual(['__proto__', 1]);
    const rest = parseJsonConfig('{"name": "a", "config": {"__proto__": "p", "hasOwnProperty": "h"}}', FILE);
    expect(Object.keys(rest.file?.values ?? {}).sort()).toEqual(['__proto__', 'hasOwnProperty', 'name']);
  });

  it('turns numbers and booleans into strings, numbers as written', () => {
    expect(
      read('{"a": 1, "b": 1.0, "c": -2.5e3, "d": 12345678901234567890, "e": true, "f": false}').values,
    ).toEqual({
      a: '1',
      b: '1.0',
      c: '-2.5e3',
      d: '12345678901234567890',
      e: 'true',
      f: 'false',
    });
  });

  it('reports null, objects and arrays as values at their line, reading the other keys', () => {
    const r = read('{\n"a": null,\n"b": {"x": 1},\n"c": [1],\n"d": "ok"\n}');
    expect(r.values).toEqual({ d: 'ok' });
    const expected = 'a string, number or boolean';
    expect(r.problems).toEqual([
      { file: FILE, key: 'a', expected, got: 'null', line: 2 },
      { file: FILE, key: 'b', expected, got: 'an object', line: 3 },
      { file: FILE, key: 'c', expected, got: 'an array', line: 4 },
    ]);
  });

  it('reports a document that is not an object, with no values', () => {
    expect(parseJsonConfig('\n["a"]', FILE)).toEqual({
      problems: [{ file: FILE, key: '(document)', expected: 'a JSON object', got: 'an array', line: 2 }],
    });
  });

  describe('the REST body shape', () => {
    it('reads config, with the name beside it and lines from inside it', () => {
      expect(read('{\n"name": "a",\n"config": {\n  "connector.class": "X",\n  "tasks.max": 3\n}\n}')).toEqual(
        {
          values: { 'connector.class': 'X', 'tasks.max': '3', name: 'a' },
          lines: { 'connector.class': 4, 'tasks.max': 5, name: 2 },
          problems: [],
        },
      );
    });

    it('reports an extra top-level key at its line and still reads every value', () => {
      const r = read(
        '{\n"name": "a",\n"tasks.max": "2",\n"config": {\n  "tasks.max": "0",\n  "topic": "t"\n}\n}',
      );
      expect(r.values).toEqual({ 'tasks.max': '0', topic: 't', name: 'a' });
      expect(r.lines).toEqual({ 'tasks.max': 5, topic: 6, name: 2 });
      expect(r.problems).toEqual([
        {
          file: FILE,
          key: 'tasks.max',
          expected:
            'only "name" and "config" at the top level of the REST body shape (move it into "config")',
          line: 3,
        },
      ]);
    });

    it('still validates the rest of a file with an extra top-level key (through inspectBundle)', () => {
      const dir = writeBundle({
        'connectors/a.json':
          '{\n"name": "a",\n"extra": 1,\n"config": {\n"connector.class": "FileStreamSource",\n' +
          '"file": "x",\n"topic": "t",\n"tasks.max": "0"\n}\n}',
      });
      const r = inspectBundle(dir, { registry: builtinRegistry() });
      expect(r.problems.map((p) => [p.file, p.key, p.line])).toEqual([
        ['connectors/a.json', 'extra', 3],
        ['connectors/a.json', 'tasks.max', 8],
      ]);
    });

    it('reports a name inside config that differs from the one beside it, without either value', () => {
      const r = read('{\n"name": "outer-name",\n"config": {\n"name": "inner-name", "topic": "t"}}');
      expect(r.values).toEqual({ topic: 't', name: 'outer-name' });
      expect(r.problems).toEqual([
        { file: FILE, key: 'name', expected: 'the same name inside "config" as beside it', line: 4 },
      ]);
      expect(JSON.stringify(r.problems)).not.toMatch(/inner-name|outer-name/);
      expect(read('{"name": "a", "config": {"name": "a"}}').problems).toEqual([]);
      expect(read('{"config": {"name": "a"}}').values).toEqual({ name: 'a' });
    });

    it('uses the last "config", and reports one that is not an object at its line, reading nothing', () => {
      expect(read('{"config": {"a": "1"}, "config": {"b": "2"}}').values).toEqual({ b: '2' });
      const expected =
        'an object of connector settings: {"name": ..., "config": {...}} (the REST body shape)';
      expect(read('{"name": "a", "config": "x"}')).toEqual({
        values: undefined,
        lines: undefined,
        problems: [{ file: FILE, key: 'config', expected, got: 'a string', line: 1 }],
      });
      // The last one wins, as in JSON.parse: a valid first "config" does not hide a second that is not one.
      expect(read('{"name": "a",\n"config": {"b": "2"},\n"config": 1}').problems).toEqual([
        { file: FILE, key: 'config', expected, got: 'a number', line: 3 },
      ]);
    });
  });
});

describe('readConfigFile', () => {
  it('reads .json and .properties files into null-prototype values and lines', () => {
    const dir = writeBundle({
      'c.json': '{\n"name": "j",\n"__proto__": "p"\n}',
      'c.properties': 'name=p\n__proto__=x\n',
    });
    const json = readConfigFile(join(dir, 'c.json'), 'c.json');
    expect(json.problems).toEqual([]);
    expect({ ...json.file?.values }).toEqual({ name: 'j', ['__proto__']: 'p' });
    expect({ ...json.file?.lines }).toEqual({ name: 2, ['__proto__']: 3 });
    const props = readConfigFile(join(dir, 'c.properties'), 'c.properties');
    expect(props.problems).toEqual([]);
    expect(props.file?.file).toBe('c.properties');
    expect(Object.getPrototypeOf(props.file?.values)).toBe(null);
    expect(Object.getPrototypeOf(props.file?.lines)).toBe(null);
    expect(Object.entries(props.file?.values ?? {})).toEqual([
      ['name', 'p'],
      ['__proto__', 'x'],
    ]);
    expect({ ...props.file?.lines }).toEqual({ name: 1, ['__proto__']: 2 });
  });

  it('reports a .json file that is not UTF-8 by line, without its bytes', () => {
    const dir = writeBundle({});
    writeFileSync(join(dir, 'c.json'), Buffer.from('{\n"password": "caf\xe9"\n}', 'latin1'));
    expect(readConfigFile(join(dir, 'c.json'), 'c.json')).toEqual({
      problems: [
        {
          file: 'c.json',
          key: '(syntax)',
          expected: 'UTF-8 text (RFC 8259)',
          got: 'a byte that is not UTF-8 at byte 17 of the line',
          line: 2,
        },
      ],
    });
  });

  it('reports an unreadable file and a .properties syntax error with no values', () => {
    const dir = writeBundle({ 'bad.properties': 'a=\\u12\n' });
    expect(readConfigFile(join(dir, 'missing.json'), 'missing.json')).toEqual({
      problems: [{ file: 'missing.json', key: '(file)', expected: 'a readable file', got: 'ENOENT' }],
    });
    const bad = readConfigFile(join(dir, 'bad.properties'), 'bad.properties');
    expect(bad.file).toBeUndefined();
    expect(bad.problems).toEqual([expect.objectContaining({ file: 'bad.properties', key: 'a', line: 1 })]);
  });
});
