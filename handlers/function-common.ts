/**
 * What the source and sink functions share at cold start and per invocation: the validated bundle and its
 * logger, the connector's converters and error policy, the failure shape of an invocation.
 * @module
 */
import { type Bundle, loadBundle } from '../src/config/bundle.ts';
import type { ConnectorConfig } from '../src/config/connector-config.ts';
import { builtinRegistry } from '../src/connectors/builtins.ts';
import { createConverter, createHeaderConverter } from '../src/data/converters/index.ts';
import { ConnectFnError } from '../src/errors.ts';
import { checkClientOverrides, checkKafkaClientConfig } from '../src/kafka/index.ts';
import { createLogger, type Logger } from '../src/observability/logger.ts';
import type { RecordConverters } from '../src/runtime/record-converter.ts';
import type { ErrorPolicy } from '../src/runtime/source-cycle.ts';
import type { InvocationSummary } from '../src/runtime/summary.ts';

export interface FunctionOptions {
  readonly bundleDir: string;
  readonly connector: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where log lines go (default stdout, as Lambda expects). */
  readonly logSink?: (line: string) => void;
  /** Local runs: create the DynamoDB offsets table when missing. */
  readonly createOffsetsTable?: boolean;
}

/** A loaded bundle with the logger that redacts with its redactor, and the environment it was loaded with. */
export interface LoadedBundle {
  readonly bundle: Bundle;
  readonly logger: Logger;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The bundle, loaded and validated (cold start), and the logger that redacts with its redactor. */
export function loadFunctionBundle(options: FunctionOptions): LoadedBundle {
  const env = options.env ?? process.env;
  const bundle = loadBundle(options.bundleDir, {
    registry: builtinRegistry(),
    env,
    workerChecks: [(worker) => checkKafkaClientConfig(worker, { env })],
    connectorChecks: [(worker, c) => checkClientOverrides(worker, c.overrides, c.file, { env })],
  });
  const logger = createLogger({
    env,
    redact: (v) => bundle.redactor.deep(v),
    ...(options.logSink ? { sink: options.logSink } : {}),
  });
  return { bundle, logger, env };
}

/** The connector's key, value and header converters (its own, or the worker's). */
export function connectorConverters(config: ConnectorConfig): RecordConverters {
  return {
    key: createConverter(config.converters.key.name, config.converters.key.config, true),
    value: createConverter(config.converters.value.name, config.converters.value.config, false),
    header: createHeaderConverter(config.converters.header.name, config.converters.header.config),
  };
}

/** Connect's `errors.*` keys of the connector. */
export function errorPolicy(config: ConnectorConfig): ErrorPolicy {
  return {
    tolerance: config.common['errors.tolerance'],
    retryTimeoutMs: config.common['errors.retry.timeout'],
    retryDelayMaxMs: config.common['errors.retry.delay.max.ms'],
  };
}

/** The summary's `error` for `err`; never holds record data. */
export function errorOf(err: unknown): NonNullable<InvocationSummary['error']> {
  return err instanceof ConnectFnError
    ? { code: err.code, message: err.message, ...(err.stage === undefined ? {} : { stage: err.stage }) }
    : { code: 'CONNECT_FN_UNEXPECTED', message: err instanceof Error ? err.message : String(err) };
}

/** The summary of an invocation that failed before its cycle began (e.g. the offsets store could not be set up). */
export function failedBeforeStart(
  kind: InvocationSummary['kind'],
  connector: string,
  task: number,
  durationMs: number,
  err: unknown,
): InvocationSummary {
  return {
    connector,
    task,
    kind,
    records: 0,
    bytes: 0,
    batches: 0,
    durationMs,
    stopReason: 'error',
    committed: [],
    error: errorOf(err),
  };
}

/** The invocation failed (`stopReason: "error"`); the summary says how far it got. */
export class InvocationFailedError extends ConnectFnError {
  readonly code = 'CONNECT_FN_INVOCATION_FAILED';
  readonly summary: InvocationSummary;

  constructor(summary: InvocationSummary) {
    super(
      `${summary.connector}/${summary.task}: ${summary.error?.code ?? 'error'}: ${summary.error?.message ?? ''}`,
      {
        ...(summary.error?.stage === undefined
          ? {}
          : { stage: summary.error.stage as ConnectFnError['stage'] & string }),
      },
    );
    this.summary = summary;
  }
}
