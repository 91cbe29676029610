/**
 * Lambda entry point of a triggered sink connector: the target of a Kafka event source mapping (Amazon MSK
 * or self-managed Kafka) with `FunctionResponseTypes: ["ReportBatchItemFailures"]`. Returns the partial
 * batch response: per partition, the first record not delivered (the mapping retries from there). The
 * bundle is the directory `CONNECT_FN_BUNDLE` (default `bundle/` beside this file); the connector is
 * `CONNECT_FN_CONNECTOR`. Both are read, and the bundle validated, once per cold start.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { functionFromEnv } from '../src/app/function-common.ts';
import { createSinkFunction } from '../src/app/sink-function.ts';

export const handler = createSinkFunction(
  functionFromEnv(dirname(fileURLToPath(import.meta.url))),
).triggerHandler;
