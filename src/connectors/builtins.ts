/**
 * The registry of everything built in: connectors and converters (transformations and predicates arrive
 * with the data plane). Composition roots (`handlers/`, `cli/`) call this; nothing below them does.
 * @module
 */
import { Registry } from '../config/registry.ts';
import { converterDefs } from '../data/converter-configs.ts';
import { fileSinkDef, fileSourceDef } from './file/config.ts';

/** A frozen registry of the built-in plugins. */
export function builtinRegistry(): Registry {
  const registry = new Registry().connector(fileSourceDef).connector(fileSinkDef);
  for (const def of converterDefs) registry.converter(def);
  return registry.freeze();
}
