/**
 * One error hierarchy for connect-fn.
 *
 * Every error carries a stable `code` (tests, alarms and callers match on `code` or `instanceof`, never on
 * message text), `retriable` (whether repeating the same operation may succeed), and an optional `stage`
 * naming where in the pipeline it happened, using Kafka Connect's stage names so DLQ headers and logs read
 * the same as Connect's. `name` is always the concrete class name.
 *
 * @example
 * ```ts
 * try { await loadBundle(dir) } catch (err) {
 *   if (err instanceof ConfigInvalidError) for (const p of err.problems) console.error(formatProblem(p));
 * }
 * ```
 * @module
 */

/** Kafka Connect's pipeline stages (`__connect.errors.stage`). */
export const Stage = {
  TASK_START: 'TASK_START',
  TASK_POLL: 'TASK_POLL',
  TASK_PUT: 'TASK_PUT',
  TRANSFORMATION: 'TRANSFORMATION',
  KEY_CONVERTER: 'KEY_CONVERTER',
  VALUE_CONVERTER: 'VALUE_CONVERTER',
  HEADER_CONVERTER: 'HEADER_CONVERTER',
  KAFKA_PRODUCE: 'KAFKA_PRODUCE',
  KAFKA_CONSUME: 'KAFKA_CONSUME',
  OFFSET_COMMIT: 'OFFSET_COMMIT',
} as const;
export type Stage = (typeof Stage)[keyof typeof Stage];

/** Options every connect-fn error accepts. */
export interface ConnectFnErrorOptions {
  readonly cause?: unknown;
  readonly retriable?: boolean;
  readonly stage?: Stage;
}

/** The base of every error connect-fn throws on purpose. */
export abstract class ConnectFnError extends Error {
  /** Stable identifier, `CONNECT_FN_*`; part of the public contract. */
  abstract readonly code: string;
  readonly retriable: boolean;
  readonly stage: Stage | undefined;

  constructor(message: string, options: ConnectFnErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable ?? false;
    this.stage = options.stage;
  }
}

/**
 * One thing wrong with a configuration: the file, the key, what was expected and (already redacted) what
 * was found. `suggestion` names the closest known key for an unknown one.
 */
export interface ConfigProblem {
  readonly file: string;
  readonly key: string;
  readonly expected: string;
  /** The offending value as it may be shown: redacted when secret, absent when there was none. */
  readonly got?: string;
  readonly suggestion?: string;
  /** 1-based line for syntax errors. */
  readonly line?: number;
}

/**
 * The most characters of any one field of a problem (file, key, expected, got, suggestion) that is ever
 * shown: a 30 MB value or a 1 MB key name is cut to this, with the cut and the full length said.
 */
export const MAX_SHOWN_CHARS = 200;

/**
 * `text` cut to `max` characters, followed by `… [cut: N characters in all]` when longer. A cut never
 * splits a surrogate pair.
 */
export function boundText(text: string, max = MAX_SHOWN_CHARS): string {
  if (text.length <= max) return text;
  const end = /[\ud800-\udbff]/.test(text.charAt(max - 1)) ? max - 1 : max;
  return `${text.slice(0, end)}… [cut: ${text.length} characters in all]`;
}

/**
 * `p` with every field bounded by {@link boundText}. Every way a problem leaves connect-fn goes through
 * it: {@link formatProblem} (text), {@link ConfigInvalidError} (its `problems`) and `validate --json`.
 * `expected` texts are ours, but some quote a file name or another key's value, so they are bounded too
 * (with room for the longest list of accepted values).
 */
export function boundProblem(p: ConfigProblem): ConfigProblem {
  return {
    ...p,
    file: boundText(p.file),
    key: boundText(p.key),
    expected: boundText(p.expected, 4 * MAX_SHOWN_CHARS),
    ...(p.got === undefined ? {} : { got: boundText(p.got) }),
    ...(p.suggestion === undefined ? {} : { suggestion: boundText(p.suggestion) }),
  };
}

/**
 * Renders a problem as `<file>[:line]: <key>: <expected> (got <value>)[; did you mean '<key>'?]`, on one
 * line: every field is bounded ({@link boundProblem}), and control characters (C0, DEL, C1), line and
 * paragraph separators and bidirectional controls in any field are escaped (`\n`, `\r`, `\t`, else
 * `\uXXXX`), so a value cannot forge a problem line or send a terminal escape sequence.
 */
export function formatProblem(problem: ConfigProblem): string {
  const p = boundProblem(problem);
  const safe = (text: string) =>
    text.replace(/[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu, (c) => {
      if (c === '\n') return '\\n';
      if (c === '\r') return '\\r';
      if (c === '\t') return '\\t';
      return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
    });
  const where = p.line === undefined ? safe(p.file) : `${safe(p.file)}:${p.line}`;
  const got = p.got === undefined ? '' : ` (got ${safe(p.got)})`;
  const hint = p.suggestion === undefined ? '' : `; did you mean '${safe(p.suggestion)}'?`;
  return `${where}: ${safe(p.key)}: ${safe(p.expected)}${got}${hint}`;
}

/** A configuration bundle that cannot be used; lists every problem found, not just the first. */
export class ConfigInvalidError extends ConnectFnError {
  readonly code = 'CONNECT_FN_CONFIG_INVALID';
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[], options: ConnectFnErrorOptions = {}) {
    const n = problems.length;
    super(
      `configuration is invalid (${n} problem${n === 1 ? '' : 's'}):\n${problems.map(formatProblem).join('\n')}`,
      options,
    );
    this.problems = Object.freeze(problems.map(boundProblem));
  }
}

/** A `${provider:path:key}` reference that could not be resolved. The message never holds a value. */
export class ConfigProviderError extends ConnectFnError {
  readonly code = 'CONNECT_FN_CONFIG_PROVIDER';
}

/** A required program or service is missing from this machine (Java, Maven, a port, ...). */
export class EnvironmentError extends ConnectFnError {
  readonly code = 'CONNECT_FN_ENVIRONMENT';
}

/** The local Kafka / DynamoDB Local stack failed to start or answer. */
export class StackError extends ConnectFnError {
  readonly code = 'CONNECT_FN_STACK';
  /** Log files worth reading to find out why. */
  readonly logFiles: readonly string[];

  constructor(message: string, logFiles: readonly string[], options: ConnectFnErrorOptions = {}) {
    super(logFiles.length === 0 ? message : `${message}\nlogs:\n  ${logFiles.join('\n  ')}`, options);
    this.logFiles = Object.freeze([...logFiles]);
  }
}

/** A command line that cannot be understood (exit code 2). */
export class UsageError extends ConnectFnError {
  readonly code = 'CONNECT_FN_USAGE';
}

/**
 * This invocation no longer owns its task: a newer invocation fenced its transactional producer, or took
 * over its offsets lease. It must stop without committing anything; it is not a failure of the connector.
 */
export class FencedError extends ConnectFnError {
  readonly code = 'CONNECT_FN_FENCED';
}

/**
 * What a sink writes to cannot take records as it stands — a table that does not exist or whose key schema
 * is not the one the connector writes, a file that cannot be opened or written, access denied. It is about
 * the target, not about a record: it is never handed to the errant record reporter and never skipped under
 * `errors.tolerance=all`; the invocation fails and commits nothing more. Never retriable: the same
 * invocation fails the same way until the target or the configuration is fixed.
 */
export class SinkTargetError extends ConnectFnError {
  readonly code = 'CONNECT_FN_SINK_TARGET';

  constructor(message: string, options: Omit<ConnectFnErrorOptions, 'retriable'> = {}) {
    super(message, { ...options, retriable: false });
  }
}

/**
 * A Kafka event source mapping delivered records of topics the sink connector does not subscribe to
 * (`topics` / `topics.regex`): the mapping and the connector disagree, a deployment error. The whole
 * event is refused, nothing of it written. Not retriable: the same event is refused the same way.
 */
export class TopicNotSubscribedError extends ConnectFnError {
  readonly code = 'CONNECT_FN_TOPIC_NOT_SUBSCRIBED';
}

/**
 * A converter could not turn a value into bytes, or bytes into a value. `stage` says which converter
 * (KEY_CONVERTER, VALUE_CONVERTER or HEADER_CONVERTER); the message names the topic and the value's type,
 * never the value itself (it may hold personal data).
 */
export class ConversionError extends ConnectFnError {
  readonly code = 'CONNECT_FN_CONVERSION';
}

/**
 * A record larger than the producer may send (`max.request.size`, as Kafka's producer refuses it:
 * `RecordTooLargeException`; nothing of its batch is sent), or than the broker takes (the topic's
 * `max.message.bytes`: the broker refuses the request holding it). `index` is its place in the records handed to
 * one send, for the runtime to name the record's coordinates (source partition and offset); the message
 * names its topic and size against the limit, never its bytes. Not retriable: the same record fails again.
 */
export class RecordTooLargeError extends ConnectFnError {
  readonly code = 'CONNECT_FN_RECORD_TOO_LARGE';
  readonly index: number;
  readonly sizeBytes: number;
  /** The limit it broke; undefined when the broker refused it (its topic's limit is not in the answer). */
  readonly limitBytes: number | undefined;

  constructor(
    message: string,
    fields: { readonly index: number; readonly sizeBytes: number; readonly limitBytes: number | undefined },
    options: ConnectFnErrorOptions = {},
  ) {
    super(message, { stage: Stage.KAFKA_PRODUCE, ...options });
    this.index = fields.index;
    this.sizeBytes = fields.sizeBytes;
    this.limitBytes = fields.limitBytes;
  }
}

/** True for errors worth retrying: ours marked retriable; never programmer errors. */
export function isRetriable(err: unknown): boolean {
  if (err instanceof ConnectFnError) return err.retriable;
  return false;
}

/**
 * An event that is not what its event source sends: a Kafka event source mapping's event with a missing
 * field, a value that is not base64, a record filed under the wrong `"<topic>-<partition>"` key, offsets
 * out of order, a scheduled function's event that is not its schedule's `{"task": N}`, ... The message names the place (`records["orders-0"][3].value`) and what was expected,
 * never a record's key, value or header bytes. Not retriable: the same event fails the same way.
 */
export class EventDecodeError extends ConnectFnError {
  readonly code = 'CONNECT_FN_EVENT';
}
