/**
 * The structured JSON logger: one JSON object per line on stdout, with the invocation's context on every
 * line and secrets hidden from every line.
 *
 * A line reads `{"level","timestamp","message", <invocation context>, <persistent keys>, <invocation keys>,
 * <call fields>}`. The invocation context (`connector`, `task`, `invocationId`, `coldStart`) is set when an
 * invocation starts and dropped when it ends, so nothing of one invocation shows up in the next.
 *
 * Why not Powertools' Logger (`@aws-lambda-powertools/logger` 2.36): `bench/logger-cold-start.ts` measured
 * it at +4.2..5.2 ms of cold start over an empty bundle (p50, Node 20, 4 runs of 30-60) and 23 KiB minified,
 * against +1.2..2.7 ms and 5 KiB for this file and its two helpers. It would still need a custom formatter
 * holding all of `log-value.ts` (it has no redaction, and its error shape has no `code`, `retriable`,
 * `stage`), and it writes through its own `Console`, so there is no sink to inject.
 *
 * @example
 * ```ts
 * const logger = createLogger({ redact: (v) => bundle.redactor.deep(v) }); // module scope, once per cold start
 * logger.startInvocation({ connector: 'orders', task: 0, invocationId: context.awsRequestId });
 * try {
 *   logger.info('batch produced', { records: 500, durationMs: 41 });
 * } catch (err) {
 *   logger.error('cycle failed', err);
 * } finally {
 *   logger.endInvocation();
 * }
 * ```
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { LogValueWalker, type Redactor } from './log-value.ts';

export { isSecretKeyName } from '../secret-keys.ts';
export { HIDDEN, type Redactor } from './log-value.ts';

/** Log levels, least severe first. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Fields of one line or of a logger's persistent context. Values are made JSON-safe and redacted. */
export type LogFields = Readonly<Record<string, unknown>>;

/** Receives each complete line, `\n` included. */
export type LogSink = (line: string) => void;

/** Who is running: set at invocation start, on every line until the invocation ends. */
export interface InvocationContext {
  readonly connector: string;
  readonly task: number;
  /** The Lambda `awsRequestId` (or a generated id for local runs). */
  readonly invocationId: string;
  /** Defaults to `true` for the first invocation this logger sees, `false` after. */
  readonly coldStart?: boolean;
}

export interface LoggerOptions {
  /** Wins over `LOG_LEVEL` / `AWS_LAMBDA_LOG_LEVEL`; default `info`. */
  readonly level?: LogLevel;
  /** Where `LOG_LEVEL` is read; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Default: `process.stdout.write`. */
  readonly sink?: LogSink;
  /** Hides secret values (supplied by the config bundle); applied on top of the secret-key rule. */
  readonly redact?: Redactor;
  /** Epoch milliseconds for `timestamp`; default `Date.now`. */
  readonly nowMs?: () => number;
  /** Persistent keys of the root logger. */
  readonly fields?: LogFields;
}

export interface Logger {
  readonly level: LogLevel;
  isLevelEnabled(level: LogLevel): boolean;
  /** Below the logger's level these return before touching `fields`. An `Error` is logged as `error`. */
  debug(message: string, fields?: LogFields | Error): void;
  info(message: string, fields?: LogFields | Error): void;
  warn(message: string, fields?: LogFields | Error): void;
  error(message: string, fields?: LogFields | Error): void;
  /** A logger that adds `fields` to every line, and sees this logger's keys and invocation, live. */
  child(fields: LogFields): Logger;
  /** Adds persistent keys to this logger (and its children); they outlive invocations. */
  appendKeys(fields: LogFields): void;
  removeKeys(...keys: readonly string[]): void;
  /** Sets the invocation context for this logger's whole family until {@link endInvocation}. */
  startInvocation(context: InvocationContext): void;
  /** Adds keys that are dropped with the invocation; ignored when no invocation is running. */
  appendInvocationKeys(fields: LogFields): void;
  endInvocation(): void;
  /**
   * Runs `fn` with its own invocation context, scoped to `fn`'s async flow: it ends when `fn` settles and
   * does not mix with invocations running concurrently in the same process (`connect-fn run`).
   */
  withInvocation<T>(context: InvocationContext, fn: () => T): T;
}

const RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };
/** Lambda's advanced logging controls use TRACE..FATAL; map them onto ours. */
const LEVEL_ALIASES: Readonly<Record<string, LogLevel>> = {
  trace: 'debug',
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  error: 'error',
  fatal: 'error',
};
const RESERVED_KEYS: ReadonlySet<string> = new Set(['level', 'timestamp', 'message']);

interface InvocationState {
  readonly context: Readonly<Record<string, unknown>>;
  readonly keys: Record<string, unknown>;
}

/** What a logger and all its children share. */
interface LoggerCore {
  readonly level: LogLevel;
  readonly rank: number;
  readonly sink: LogSink;
  readonly redact: Redactor;
  readonly nowMs: () => number;
  readonly scoped: AsyncLocalStorage<InvocationState>;
  invocation: InvocationState | undefined;
  coldStartPending: boolean;
}

/**
 * Creates a root logger. Create it once at module scope; start and end an invocation on every invoke.
 *
 * @example
 * ```ts
 * const logger = createLogger({ level: 'debug', sink: (line) => lines.push(line) });
 * logger.child({ component: 'offsets' }).debug('read', { partitions: 3 });
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const env = options.env ?? process.env;
  const fromEnv = env.LOG_LEVEL ?? env.AWS_LAMBDA_LOG_LEVEL;
  const envLevel = fromEnv === undefined ? undefined : LEVEL_ALIASES[fromEnv.trim().toLowerCase()];
  const level = options.level ?? envLevel ?? 'info';
  const core: LoggerCore = {
    level,
    rank: RANK[level],
    sink: options.sink ?? writeToStdout,
    redact: options.redact ?? identity,
    nowMs: options.nowMs ?? Date.now,
    scoped: new AsyncLocalStorage<InvocationState>(),
    invocation: undefined,
    coldStartPending: true,
  };
  const logger = new JsonLogger(core, undefined, options.fields ?? {});
  if (options.level === undefined && fromEnv !== undefined && envLevel === undefined) {
    logger.warn('unknown log level in environment, using info', { value: fromEnv, known: LOG_LEVELS });
  }
  return logger;
}

class JsonLogger implements Logger {
  readonly #core: LoggerCore;
  readonly #parent: JsonLogger | undefined;
  readonly #keys: Record<string, unknown> = {};

  constructor(core: LoggerCore, parent: JsonLogger | undefined, fields: LogFields) {
    this.#core = core;
    this.#parent = parent;
    this.appendKeys(fields);
  }

  get level(): LogLevel {
    return this.#core.level;
  }

  isLevelEnabled(level: LogLevel): boolean {
    return RANK[level] >= this.#core.rank;
  }

  debug(message: string, fields?: LogFields | Error): void {
    if (this.#core.rank <= RANK.debug) this.#write('debug', message, fields);
  }

  info(message: string, fields?: LogFields | Error): void {
    if (this.#core.rank <= RANK.info) this.#write('info', message, fields);
  }

  warn(message: string, fields?: LogFields | Error): void {
    if (this.#core.rank <= RANK.warn) this.#write('warn', message, fields);
  }

  error(message: string, fields?: LogFields | Error): void {
    this.#write('error', message, fields);
  }

  child(fields: LogFields): Logger {
    return new JsonLogger(this.#core, this, fields);
  }

  appendKeys(fields: LogFields): void {
    Object.assign(this.#keys, fields);
  }

  removeKeys(...keys: readonly string[]): void {
    for (const key of keys) delete this.#keys[key];
  }

  startInvocation(context: InvocationContext): void {
    this.#core.invocation = this.#newInvocation(context);
  }

  appendInvocationKeys(fields: LogFields): void {
    const state = this.#currentInvocation();
    if (state !== undefined) Object.assign(state.keys, fields);
  }

  endInvocation(): void {
    this.#core.invocation = undefined;
  }

  withInvocation<T>(context: InvocationContext, fn: () => T): T {
    return this.#core.scoped.run(this.#newInvocation(context), fn);
  }

  #newInvocation(context: InvocationContext): InvocationState {
    const coldStart = context.coldStart ?? this.#core.coldStartPending;
    this.#core.coldStartPending = false;
    const { connector, task, invocationId } = context;
    return { context: { connector, task, invocationId, coldStart }, keys: {} };
  }

  #currentInvocation(): InvocationState | undefined {
    return this.#core.scoped.getStore() ?? this.#core.invocation;
  }

  #write(level: LogLevel, message: string, fields: LogFields | Error | undefined): void {
    const core = this.#core;
    const timestamp = new Date(core.nowMs()).toISOString();
    let line: string;
    try {
      line = JSON.stringify(this.#record(level, timestamp, message, fields));
    } catch (err) {
      // A throwing getter or redactor costs the caller its fields, never the line or the invocation.
      const problem = err instanceof Error ? err.name : typeof err;
      line = JSON.stringify({
        level,
        timestamp,
        message: safeRedact(core.redact, message),
        logError: problem,
      });
    }
    try {
      core.sink(`${line}\n`);
    } catch {
      // Nowhere left to report to; logging must not break the invocation.
    }
  }

  #record(level: LogLevel, timestamp: string, message: string, fields: LogFields | Error | undefined) {
    const walker = new LogValueWalker(this.#core.redact);
    const body: Record<string, unknown> = {};
    const invocation = this.#currentInvocation();
    if (invocation !== undefined) walker.assign(body, invocation.context);
    for (const keys of this.#keyChain()) walker.assign(body, withoutReserved(keys));
    if (invocation !== undefined) walker.assign(body, withoutReserved(invocation.keys));
    if (fields instanceof Error) walker.assign(body, { error: fields });
    else if (fields !== undefined) walker.assign(body, withoutReserved(fields));
    // Second pass over the whole line: the bundle's redactor also knows keys a schema declares secret and
    // keys whose value came from a config provider.
    const redacted = this.#core.redact(body);
    const rest = typeof redacted === 'object' && redacted !== null ? redacted : body;
    return { level, timestamp, message: walker.string(message), ...rest };
  }

  /** Persistent keys from the root down to this logger, so a child's keys win over its parent's. */
  #keyChain(): Record<string, unknown>[] {
    const chain: Record<string, unknown>[] = [];
    for (let l: JsonLogger | undefined = this; l !== undefined; l = l.#parent) chain.unshift(l.#keys);
    return chain;
  }
}

/** `level`, `timestamp` and `message` belong to the logger; fields of those names are dropped. */
function withoutReserved(fields: LogFields): LogFields {
  if (!Object.keys(fields).some((key) => RESERVED_KEYS.has(key))) return fields;
  return Object.fromEntries(Object.entries(fields).filter(([key]) => !RESERVED_KEYS.has(key)));
}

function safeRedact(redact: Redactor, message: string): string {
  try {
    const out = redact(message);
    return typeof out === 'string' ? out : '[hidden]';
  } catch {
    return '[message hidden: redactor failed]';
  }
}

function writeToStdout(line: string): void {
  process.stdout.write(line);
}

function identity(value: unknown): unknown {
  return value;
}
