/**
 * The function of any connector of a bundle, for `connect-fn run`: loads the bundle once and builds the
 * source or the sink function, as the connector's kind says.
 * @module
 */
import { builtinParts } from './builtin-parts.ts';
import type { FunctionOptions } from './function-common.ts';
import { loadFunctionBundle } from './function-common.ts';
import { createSinkFunction, type SinkFunction } from './sink-function.ts';
import { createSourceFunction, type SourceFunction } from './source-function.ts';

export type ConnectorFunction =
  | ({ readonly kind: 'source' } & SourceFunction)
  | ({ readonly kind: 'sink' } & SinkFunction);

/** The function of `options.connector`, whichever kind it is; validates the bundle now. */
export function createConnectorFunction(options: FunctionOptions): ConnectorFunction {
  const loaded = loadFunctionBundle({ ...options, parts: builtinParts });
  const kind = loaded.bundle.connector(options.connector).kind;
  return kind === 'sink'
    ? { kind, ...createSinkFunction(options, loaded) }
    : { kind, ...createSourceFunction(options, loaded) };
}
