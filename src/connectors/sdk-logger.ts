/**
 * The logger the connectors give their AWS SDK clients: silent, as the SDK's default, but without `info`
 * and `error`. The SDK's logger middleware calls `logger?.info?.({ input: filterSensitive(input),
 * output: filterSensitive(output), ... })` after every request (and `error` after every failed one): with
 * the default `NoOpLogger`, which has both, each request and answer is walked and copied only to be
 * thrown away — about a tenth of the client's CPU for BatchWriteItem of 25 ~1 KB items
 * (bench/dynamodb-sink-throughput.ts), and a GetRecords page of 1000 changes walked once more (the SDK's
 * self time per 10,000 changes fell from ~780 to ~320 ms; bench/dynamodb-streams-throughput.ts). Without
 * them the calls, and the copies, are skipped. `trace`, `debug` and `warn` stay, as no-ops, for the SDK's
 * direct calls. (The connector's own failures are reported by the connector, not by the SDK's logger.)
 * @module
 */
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';

type Logger = NonNullable<DynamoDBClientConfig['logger']>;

export const quietSdkLogger = {
  trace: () => undefined,
  debug: () => undefined,
  warn: () => undefined,
} as Partial<Logger> as Logger;
