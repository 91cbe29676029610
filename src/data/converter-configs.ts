/**
 * Configuration of the built-in converters, under our short names and Kafka Connect's class names, so a
 * Connect config's `value.converter=org.apache.kafka.connect.json.JsonConverter` and
 * `value.converter.schemas.enable=false` validate unchanged. The implementations are in `converters/`.
 * @module
 */
import { k } from '../config/keys.ts';
import type { PluginDef } from '../config/registry.ts';

const encoding = {
  'converter.encoding': k.enum(['UTF-8', 'UTF8'], 'Character encoding of strings (UTF-8 only).', {
    default: 'UTF-8',
    caseInsensitive: true,
  }),
} as const;

export const stringConverterDef: PluginDef = {
  name: 'string',
  aliases: ['StringConverter', 'org.apache.kafka.connect.storage.StringConverter'],
  doc: 'Strings as UTF-8 bytes (Connect StringConverter).',
  schema: { keys: encoding },
};

export const byteArrayConverterDef: PluginDef = {
  name: 'bytearray',
  aliases: ['ByteArrayConverter', 'org.apache.kafka.connect.converters.ByteArrayConverter'],
  doc: 'Bytes passed through unchanged (Connect ByteArrayConverter).',
  schema: { keys: {} },
};

export const jsonConverterDef: PluginDef = {
  name: 'json',
  aliases: ['JsonConverter', 'org.apache.kafka.connect.json.JsonConverter'],
  doc: 'JSON (Connect JsonConverter). Schemaless values for now: bytes as base64; with schemas.enable=true each message is the envelope {"schema":null,"payload":...}.',
  schema: {
    keys: {
      'schemas.enable': k.boolean('Wrap each message as {"schema":...,"payload":...}.', { default: true }),
      'schemas.cache.size': k.int('Schemas cached per converter.', { default: 1000, min: 0 }),
      'decimal.format': k.enum(['BASE64', 'NUMERIC'], 'How Decimal values are written.', {
        default: 'BASE64',
      }),
      'replace.null.with.default': k.boolean("Write a field's default instead of null.", { default: true }),
    },
  },
};

export const simpleHeaderConverterDef: PluginDef = {
  name: 'simple',
  aliases: ['SimpleHeaderConverter', 'org.apache.kafka.connect.storage.SimpleHeaderConverter'],
  doc: 'Header values as text (bytes as base64), parsing primitives back (Connect SimpleHeaderConverter). Header converter only.',
  schema: { keys: encoding },
};

export const converterDefs = [
  stringConverterDef,
  byteArrayConverterDef,
  jsonConverterDef,
  simpleHeaderConverterDef,
] as const;
