/**
 * What the source and sink functions share at cold start and per invocation: the validated bundle and its
 * logger, the connector's converters and error policy, the failure shape of an invocation.
 * @module
 */

import { join } from 'node:path';
import { type Bundle, loadBundle } from '../config/bundle.ts';
import type { ConnectorConfig } from '../config/connector-config.ts';
import { type ConnectorPlugin, registryOf } from '../connectors/plugin.ts';
import { createConverter, createHeaderConverter } from '../data/converters/index.ts';
import { ConfigInvalidError, ConnectFnError } from '../errors.ts';
import { checkClientOverrides, checkKafkaClientConfig } from '../kafka/index.ts';
import { createLogger, type Logger } from '../observability/logger.ts';
import { type BudgetLimits, beforeHardDeadline } from '../runtime/budget.ts';
import type { Clock } from '../runtime/ports.ts';
import type { RecordConverters } from '../runtime/record-converter.ts';
import type { ErrorPolicy } from '../runtime/source-cycle.ts';
import { type InvocationSummary, summaryError } from '../runtime/summary.ts';
import type { FunctionParts } from './parts.ts';

export interface FunctionOptions {
  readonly bundleDir: string;
  readonly connector: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where log lines go (default stdout, as Lambda expects). */
  readonly logSink?: (line: string) => void;
  /** Local runs: create the DynamoDB offsets table when missing. */
  readonly createOffsetsTable?: boolean;
}

/** Options of a function composed of `parts` (./parts.ts). */
export interface ComposedOptions extends FunctionOptions {
  readonly parts: FunctionParts;
}

/** A loaded bundle with the logger that redacts with its redactor, and the environment it was loaded with. */
export interface LoadedBundle {
  readonly bundle: Bundle;
  readonly logger: Logger;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The bundle, loaded and validated (cold start), and the logger that redacts with its redactor. */
export function loadFunctionBundle(options: ComposedOptions): LoadedBundle {
  const env = options.env ?? process.env;
  const bundle = loadBundle(options.bundleDir, {
    registry: registryOf(options.parts.plugins),
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
    error: summaryError(err),
  };
}

/** The invocation failed (`stopReason: "error"`); the summary says how far it got, and whether a retry may help. */
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
        retriable: summary.error?.retriable ?? false,
      },
    );
    this.summary = summary;
  }
}

/** What a plugin of `kind` creates. */
type Implementation<K extends 'source' | 'sink'> = ReturnType<
  Extract<ConnectorPlugin, { kind: K }>['create']
>;

/** The connector `name` of the bundle and its implementation, from its plugin among `plugins`, of `kind`. */
export function connectorPlugin<K extends 'source' | 'sink'>(
  loaded: LoadedBundle,
  name: string,
  kind: K,
  plugins: readonly ConnectorPlugin[],
): { config: ConnectorConfig; plugin: Implementation<K> } {
  const { bundle, logger } = loaded;
  const config = bundle.connector(name);
  const log = {
    warn: (message: string, fields?: Readonly<Record<string, unknown>>) => logger.warn(message, fields),
  };
  const found = plugins.find((p) => p.def.name === config.plugin);
  if (config.kind !== kind || found?.kind !== kind) {
    throw new ConfigInvalidError([
      { file: config.file, key: 'connector.class', expected: `a ${kind} connector`, got: config.className },
    ]);
  }
  return { config, plugin: found.create({ log, baseDir: bundle.dir }) as Implementation<K> };
}

/**
 * A store opened on first use (once per cold start), within the invocation's hard deadline. A failure
 * fails the invocation with a summary naming what was being opened, and the next invocation tries again.
 */
export class LazyStore<T extends { close(): Promise<void> }> {
  #pending: Promise<T> | undefined;
  readonly #open: () => Promise<T>;
  readonly #what: string;
  readonly #kind: InvocationSummary['kind'];
  readonly #connector: string;

  constructor(open: () => Promise<T>, what: string, kind: InvocationSummary['kind'], connector: string) {
    this.#open = open;
    this.#what = what;
    this.#kind = kind;
    this.#connector = connector;
  }

  async get(task: number, limits: BudgetLimits, startedMs: number, clock: Clock): Promise<T> {
    this.#pending ??= this.#open();
    const pending = this.#pending;
    try {
      return await beforeHardDeadline(pending, limits.hardDeadlineMs, () => this.#what, clock);
    } catch (err) {
      if (this.#pending === pending) this.#pending = undefined;
      // Abandoned, not awaited: an open still retrying a dead broker is closed whenever it settles.
      pending.then((o) => o.close()).catch(() => undefined);
      throw new InvocationFailedError(
        failedBeforeStart(this.#kind, this.#connector, task, clock.nowMs() - startedMs, err),
      );
    }
  }

  async close(): Promise<void> {
    const pending = this.#pending;
    this.#pending = undefined;
    await pending?.then((o) => o.close()).catch(() => undefined);
  }
}

/**
 * Closes what an invocation opened (a producer, an admin) within its hard deadline; a close still hanging
 * then (a disconnect from a dead broker, an abort that is retried) is abandoned, not awaited: the summary
 * is returned in time, and the next invocation uses fresh clients. Never throws.
 */
export async function releaseWithinDeadline(
  close: () => Promise<void>,
  limits: BudgetLimits,
  clock: Clock,
): Promise<void> {
  await beforeHardDeadline(close(), limits.hardDeadlineMs, () => 'closing a client', clock).catch(
    () => undefined,
  );
}

/**
 * What a Lambda entry point runs: the connector `CONNECT_FN_CONNECTOR` of the bundle in `CONNECT_FN_BUNDLE`
 * (default `bundle/` beside the entry). Throws at import — a failed cold start — when no connector is named.
 */
export function functionFromEnv(entryDir: string): FunctionOptions {
  const connector = process.env.CONNECT_FN_CONNECTOR;
  if (connector === undefined || connector === '') {
    throw new Error(
      'CONNECT_FN_CONNECTOR is not set: it names the connector of the bundle this function runs',
    );
  }
  return { bundleDir: process.env.CONNECT_FN_BUNDLE ?? join(entryDir, 'bundle'), connector };
}
