/**
 * The built-in converters, created by the registry's canonical names (`string`, `bytearray`, `json`,
 * `simple`) from a connector's validated converter config (`ConnectorConfig.converters`).
 *
 * Key and value converters: `string`, `bytearray`, `json`. Header converters: those three (as in Connect,
 * each also implements `HeaderConverter`) and `simple`, Connect's default header converter.
 *
 * @example
 * ```ts
 * const { key, value, header } = connector.converters;
 * const converters = {
 *   key: createConverter(key.name, key.config, true),
 *   value: createConverter(value.name, value.config, false),
 *   header: createHeaderConverter(header.name, header.config),
 * };
 * ```
 * @module
 */
import { ConfigInvalidError, Stage } from '../../errors.ts';
import type { Converter, HeaderConverter } from '../../spi/converter.ts';
import { ByteArrayConverter } from './bytearray-converter.ts';
import { type ConverterStage, converterStage } from './conversion.ts';
import { JsonConverter } from './json-converter.ts';
import { SimpleHeaderConverter } from './simple-header-converter.ts';
import { StringConverter } from './string-converter.ts';

export { ByteArrayConverter } from './bytearray-converter.ts';
export { type ConverterStage, describeType } from './conversion.ts';
export { JsonConverter, type JsonConverterOptions } from './json-converter.ts';
export { writeJson } from './json-writer.ts';
export { parseHeaderText, SimpleHeaderConverter } from './simple-header-converter.ts';
export { StringConverter } from './string-converter.ts';

/** A converter's validated keys, as `ConnectorConfig.converters.<role>.config` holds them. */
export type ConverterConfig = Readonly<Record<string, unknown>>;

type Both = Converter & HeaderConverter;

const dataConverters: Readonly<Record<string, (config: ConverterConfig, stage: ConverterStage) => Both>> = {
  string: (_config, stage) => new StringConverter(stage),
  bytearray: (_config, stage) => new ByteArrayConverter(stage),
  // Connect's default for schemas.enable is true; the validated config always holds the key.
  json: (config, stage) => new JsonConverter({ schemasEnable: config['schemas.enable'] !== false, stage }),
};

function unknownConverter(key: string, name: string, expected: string): ConfigInvalidError {
  return new ConfigInvalidError([{ file: '(connector config)', key, expected, got: name }]);
}

/**
 * The key (`isKey`) or value converter registered as `name`. Throws `ConfigInvalidError` for a name that
 * is not a key/value converter (`simple` is a header converter only, as in Connect).
 */
export function createConverter(name: string, config: ConverterConfig, isKey: boolean): Converter {
  const create = Object.hasOwn(dataConverters, name) ? dataConverters[name] : undefined;
  if (create === undefined) {
    const key = isKey ? 'key.converter' : 'value.converter';
    throw unknownConverter(key, name, `a key/value converter (${Object.keys(dataConverters).join(', ')})`);
  }
  return create(config, converterStage(isKey));
}

/** The header converter registered as `name`: `simple`, or one of the key/value converters. */
export function createHeaderConverter(name: string, config: ConverterConfig): HeaderConverter {
  if (name === 'simple') return new SimpleHeaderConverter();
  const create = Object.hasOwn(dataConverters, name) ? dataConverters[name] : undefined;
  if (create === undefined) {
    throw unknownConverter('header.converter', name, 'a header converter (simple, string, bytearray, json)');
  }
  return create(config, Stage.HEADER_CONVERTER);
}
