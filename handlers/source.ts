/**
 * Lambda entry point of a source connector (EventBridge schedule; input `{"task": N}` picks the task).
 * The bundle is the directory `CONNECT_FN_BUNDLE` (default `bundle/` beside this file); the connector is
 * `CONNECT_FN_CONNECTOR`. Both are read, and the bundle validated, once per cold start.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { functionFromEnv } from '../src/app/function-common.ts';
import { createSourceFunction } from '../src/app/source-function.ts';

export const handler = createSourceFunction(functionFromEnv(dirname(fileURLToPath(import.meta.url)))).handler;
