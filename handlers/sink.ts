/**
 * Lambda entry point of a scheduled sink connector (EventBridge schedule; input `{"task": N}` picks the
 * task): each invocation reads the task's partitions itself, group-less, from the committed offsets. The
 * bundle is the directory `CONNECT_FN_BUNDLE` (default `bundle/` beside this file); the connector is
 * `CONNECT_FN_CONNECTOR`. Both are read, and the bundle validated, once per cold start.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { functionFromEnv } from '../src/app/function-common.ts';
import { createSinkFunction } from '../src/app/sink-function.ts';

export const handler = createSinkFunction(functionFromEnv(dirname(fileURLToPath(import.meta.url)))).handler;
