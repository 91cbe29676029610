/**
 * Lambda entry point of a triggered sink connector: the target of a Kafka event source mapping (Amazon MSK
 * or self-managed Kafka) with `FunctionResponseTypes: ["ReportBatchItemFailures"]`. Returns the partial
 * batch response: per partition, the first record not delivered (the mapping retries from there). The
 * bundle is the directory `CONNECT_FN_BUNDLE` (default `bundle/` beside this file); the connector is
 * `CONNECT_FN_CONNECTOR`. Both are read, and the bundle validated, once per cold start.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSinkFunction } from './sink-function.ts';

const here = dirname(fileURLToPath(import.meta.url));
const connector = process.env.CONNECT_FN_CONNECTOR;
if (connector === undefined || connector === '') {
  throw new Error('CONNECT_FN_CONNECTOR is not set: it names the connector of the bundle this function runs');
}

export const handler = createSinkFunction({
  bundleDir: process.env.CONNECT_FN_BUNDLE ?? join(here, 'bundle'),
  connector,
}).triggerHandler;
