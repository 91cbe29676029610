/**
 * The sink function of any built-in connector: ./sink-core.ts composed of every built-in part
 * (./builtin-parts.ts). What `handlers/sink.ts`, `connect-fn run`, the benchmarks and the tests use.
 * @module
 */
import { builtinParts } from './builtin-parts.ts';
import type { FunctionOptions, LoadedBundle } from './function-common.ts';
import { composeSinkFunction, type SinkFunction } from './sink-core.ts';

export type { SinkFunction, SinkHandler, SinkTriggerHandler, TriggeredInvocation } from './sink-core.ts';
export type SinkFunctionOptions = FunctionOptions;

/** Builds the functions for `options.connector`: validates the bundle now (cold start), fails fast. */
export function createSinkFunction(options: FunctionOptions, loaded?: LoadedBundle): SinkFunction {
  return composeSinkFunction({ ...options, parts: builtinParts }, loaded);
}
