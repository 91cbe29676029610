import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateKeys } from '../../../src/config/validate-keys.ts';
import { jsonConverterDef } from '../../../src/data/converter-configs.ts';
import {
  ByteArrayConverter,
  createConverter,
  createHeaderConverter,
  JsonConverter,
  StringConverter,
} from '../../../src/data/converters/index.ts';
import { ConfigInvalidError, ConversionError, Stage } from '../../../src/errors.ts';

const text = (bytes: Uint8Array | null) => (bytes === null ? null : Buffer.from(bytes).toString('utf8'));
const bytesOf = (s: string) => Buffer.from(s, 'utf8');

function conversionFailure(fn: () => unknown): ConversionError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConversionError);
    return err as ConversionError;
  }
  throw new Error('expected a ConversionError');
}

describe('StringConverter', () => {
  const converter = new StringConverter(Stage.VALUE_CONVERTER);

  it('writes strings as UTF-8 and reads them back', () => {
    expect([...(converter.fromConnectData('t', 'héllo') ?? [])]).toEqual([
      0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f,
    ]);
    expect(converter.toConnectData('t', bytesOf('héllo'))).toBe('héllo');
  });

  it('writes numbers, bigints and booleans as their text, and null as null', () => {
    expect(text(converter.fromConnectData('t', 42))).toBe('42');
    expect(text(converter.fromConnectData('t', 1.5))).toBe('1.5');
    expect(text(converter.fromConnectData('t', 12345678901234567890n))).toBe('12345678901234567890');
    expect(text(converter.fromConnectData('t', false))).toBe('false');
    expect(converter.fromConnectData('t', null)).toBeNull();
    expect(converter.toConnectData('t', null)).toBeNull();
  });

  it('decodes malformed UTF-8 as U+FFFD, as Java does', () => {
    expect(converter.toConnectData('t', Uint8Array.of(0x61, 0xff, 0x62))).toBe('a\uFFFDb');
  });

  it('refuses objects with an error naming the topic, the type and its stage', () => {
    const err = conversionFailure(() => converter.fromConnectData('orders', { a: 1 }));
    expect(err.stage).toBe('VALUE_CONVERTER');
    expect(err.code).toBe('CONNECT_FN_CONVERSION');
    expect(err.message).toContain('topic orders');
    expect(err.message).toContain('type object');
    expect(conversionFailure(() => converter.fromConnectData('t', Uint8Array.of(1))).message).toContain(
      'Uint8Array',
    );
  });
});

describe('ByteArrayConverter', () => {
  const converter = new ByteArrayConverter(Stage.KEY_CONVERTER);

  it('passes bytes through unchanged, without copying', () => {
    const bytes = Uint8Array.of(0, 1, 255);
    expect(converter.fromConnectData('t', bytes)).toBe(bytes);
    expect(converter.toConnectData('t', bytes)).toBe(bytes);
    const buffer = Buffer.from('x');
    expect(converter.fromConnectData('t', buffer)).toBe(buffer);
    expect(converter.fromConnectData('t', null)).toBeNull();
  });

  it('refuses a value that is not bytes, naming the topic and the type', () => {
    const err = conversionFailure(() => converter.fromConnectData('raw-events', 'text'));
    expect(err.stage).toBe('KEY_CONVERTER');
    expect(err.message).toContain('topic raw-events');
    expect(err.message).toContain('type string');
  });
});

describe('JsonConverter with schemas.enable=false', () => {
  const converter = new JsonConverter({ schemasEnable: false, stage: Stage.VALUE_CONVERTER });
  const write = (value: unknown) => text(converter.fromConnectData('t', value));

  it('writes the bare payload as compact JSON, as Connect does', () => {
    expect(write({ a: 1 })).toBe('{"a":1}');
    expect(write({ b: [1, 'x', null, true], a: { c: 1.5 } })).toBe('{"b":[1,"x",null,true],"a":{"c":1.5}}');
    expect(write('x')).toBe('"x"');
    expect(write(7)).toBe('7');
    expect(write('héllo "q"\n')).toBe('"héllo \\"q\\"\\n"');
  });

  it('writes null as null (a tombstone) and reads null back', () => {
    expect(converter.fromConnectData('t', null)).toBeNull();
    expect(converter.fromConnectData('t', undefined)).toBeNull();
    expect(converter.toConnectData('t', null)).toBeNull();
  });

  it('writes bytes as base64, bigints as integers, NaN and infinities as strings, Maps as objects or pairs', () => {
    expect(write({ b: Uint8Array.of(1, 2, 3) })).toBe('{"b":"AQID"}');
    expect(write(Buffer.from('hello'))).toBe('"aGVsbG8="');
    expect(write({ n: 9007199254740993n })).toBe('{"n":9007199254740993}');
    expect(write([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])).toBe(
      '["NaN","Infinity","-Infinity"]',
    );
    expect(write(new Map([['k', 1]]))).toBe('{"k":1}');
    expect(write(new Map([[1, 'a']]))).toBe('[[1,"a"]]');
  });

  it('leaves out undefined fields and writes undefined array elements as null', () => {
    expect(write({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(write({ big: 1n, a: undefined, l: [undefined] })).toBe('{"big":1,"l":[null]}');
  });

  it('refuses values with no schemaless JSON form, and reference cycles', () => {
    expect(conversionFailure(() => write(new Date(0))).message).toContain('type Date');
    expect(conversionFailure(() => write({ f: () => 1 })).message).toContain('type function');
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(conversionFailure(() => write(cycle)).message).toContain('cycle');
  });

  it('writes exactly what JSON.stringify writes for plain JSON (null aside: a tombstone), and reads it back', () => {
    fc.assert(
      fc.property(
        fc.jsonValue().filter((value) => value !== null),
        (value) => {
          const bytes = converter.fromConnectData('t', value);
          expect(text(bytes)).toBe(JSON.stringify(value));
          expect(converter.toConnectData('t', bytes)).toEqual(JSON.parse(JSON.stringify(value)));
        },
      ),
    );
  });

  it('reports invalid JSON with the topic and the size, not the content', () => {
    const err = conversionFailure(() => converter.toConnectData('t', bytesOf('{"secret": ')));
    expect(err.message).toContain('invalid JSON (11 bytes)');
    expect(err.message).not.toContain('secret');
  });
});

describe('JsonConverter with schemas.enable=true', () => {
  const converter = new JsonConverter({ schemasEnable: true, stage: Stage.VALUE_CONVERTER });

  it("writes Connect's envelope for a value without a schema, and reads the payload back", () => {
    const bytes = converter.fromConnectData('t', { a: 1 });
    expect(text(bytes)).toBe('{"schema":null,"payload":{"a":1}}');
    expect(converter.toConnectData('t', bytes)).toEqual({ a: 1 });
    expect(converter.fromConnectData('t', null)).toBeNull();
  });

  it('refuses plain JSON and envelopes carrying a schema, with a hint', () => {
    expect(conversionFailure(() => converter.toConnectData('t', bytesOf('{"a":1}'))).message).toContain(
      'schemas.enable=false',
    );
    const withSchema = bytesOf('{"schema":{"type":"int32","optional":false},"payload":1}');
    expect(conversionFailure(() => converter.toConnectData('t', withSchema)).message).toContain(
      'not supported yet',
    );
  });
});

describe('SimpleHeaderConverter', () => {
  const headers = createHeaderConverter('simple', {});

  it('writes primitives as text and bytes as base64', () => {
    expect(text(headers.fromConnectHeader('t', 'h', 'v'))).toBe('v');
    expect(text(headers.fromConnectHeader('t', 'h', 3))).toBe('3');
    expect(text(headers.fromConnectHeader('t', 'h', true))).toBe('true');
    expect(text(headers.fromConnectHeader('t', 'h', Uint8Array.of(1, 2, 3)))).toBe('AQID');
    expect(headers.fromConnectHeader('t', 'h', null)).toBeNull();
  });

  it('parses primitives back, and leaves other text as strings', () => {
    const read = (s: string) => headers.toConnectHeader('t', 'h', bytesOf(s));
    expect([read('3'), read('-1.5'), read('true'), read('null'), read('abc'), read('[1,2]')]).toEqual([
      3,
      -1.5,
      true,
      null,
      'abc',
      '[1,2]',
    ]);
    expect(read('12345678901234567890')).toBe(12345678901234567890n);
    expect(read('')).toBe('');
    expect(headers.toConnectHeader('t', 'h', null)).toBeNull();
  });

  it('refuses structured header values at the HEADER_CONVERTER stage', () => {
    const err = conversionFailure(() => headers.fromConnectHeader('t', 'trace', { id: 1 }));
    expect(err.stage).toBe('HEADER_CONVERTER');
    expect(err.message).toContain('header trace');
  });
});

describe('createConverter / createHeaderConverter', () => {
  it('builds converters from the validated config of the registry definitions', () => {
    const validated = validateKeys(
      jsonConverterDef.schema,
      { 'schemas.enable': 'false' },
      {
        file: 'f',
        show: (_k, v) => v,
      },
    );
    const json = createConverter('json', validated.values, false);
    expect(text(json.fromConnectData('t', { a: 1 }))).toBe('{"a":1}');
    const enveloped = createConverter('json', { 'schemas.enable': true }, false);
    expect(text(enveloped.fromConnectData('t', 1))).toBe('{"schema":null,"payload":1}');
    expect(text(createConverter('string', {}, true).fromConnectData('t', 'k'))).toBe('k');
    expect(createConverter('bytearray', {}, false)).toBeInstanceOf(ByteArrayConverter);
  });

  it('tags failures with KEY_CONVERTER or VALUE_CONVERTER by role, HEADER_CONVERTER for headers', () => {
    expect(
      conversionFailure(() => createConverter('bytearray', {}, true).fromConnectData('t', 1)).stage,
    ).toBe('KEY_CONVERTER');
    expect(
      conversionFailure(() => createConverter('bytearray', {}, false).fromConnectData('t', 1)).stage,
    ).toBe('VALUE_CONVERTER');
    const header = createHeaderConverter('string', {});
    expect(conversionFailure(() => header.fromConnectHeader('t', 'h', {})).stage).toBe('HEADER_CONVERTER');
  });

  it('refuses simple as a key or value converter, and unknown names', () => {
    expect(() => createConverter('simple', {}, false)).toThrow(ConfigInvalidError);
    expect(() => createConverter('avro', {}, true)).toThrow(/key\.converter/);
    expect(() => createHeaderConverter('avro', {})).toThrow(/header\.converter/);
    expect(() => createConverter('toString', {}, true)).toThrow(ConfigInvalidError);
  });
});
