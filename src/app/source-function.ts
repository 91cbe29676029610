/**
 * The source function of any built-in connector: ./source-core.ts composed of every built-in part
 * (./builtin-parts.ts). What `handlers/source.ts`, `connect-fn run`, the benchmarks and the tests use.
 * @module
 */
import { builtinParts } from './builtin-parts.ts';
import type { FunctionOptions, LoadedBundle } from './function-common.ts';
import { composeSourceFunction, type SourceFunction } from './source-core.ts';

export { InvocationFailedError } from './function-common.ts';
export type { SourceFunction, SourceHandler } from './source-core.ts';
export type SourceFunctionOptions = FunctionOptions;

/** Builds the function for `options.connector`: validates the bundle now (cold start), fails fast. */
export function createSourceFunction(options: FunctionOptions, loaded?: LoadedBundle): SourceFunction {
  return composeSourceFunction({ ...options, parts: builtinParts }, loaded);
}
