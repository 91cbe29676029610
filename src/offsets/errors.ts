/**
 * Errors of the offset stores. They extend the one hierarchy of `src/errors.ts` (stable `code`,
 * `retriable`, `stage`); they live here until `src/errors.ts` adopts them.
 * @module
 */
import { ConnectFnError, type ConnectFnErrorOptions, Stage } from '../errors.ts';

/**
 * An offset key or value that Kafka Connect's format cannot hold (a non-finite number, a nested value),
 * or stored bytes that are not that format. Never retriable: the same data fails the same way.
 *
 * @example
 * ```ts
 * try { encodeValue({ position: Number.NaN }) } catch (err) {
 *   if (err instanceof OffsetFormatError) console.error(err.code); // CONNECT_FN_OFFSET_FORMAT
 * }
 * ```
 */
export class OffsetFormatError extends ConnectFnError {
  readonly code = 'CONNECT_FN_OFFSET_FORMAT';

  constructor(message: string, options: ConnectFnErrorOptions = {}) {
    super(message, { stage: Stage.OFFSET_COMMIT, ...options });
  }
}

/**
 * Reading or writing offsets failed for a reason other than fencing (a timeout, a throttled or failed
 * storage call, an unreadable file). `retriable` says whether the same call may succeed later.
 *
 * @example
 * ```ts
 * catch (err) { if (err instanceof OffsetStorageError && err.retriable) await retryLater(); }
 * ```
 */
export class OffsetStorageError extends ConnectFnError {
  readonly code = 'CONNECT_FN_OFFSET_STORAGE';

  constructor(message: string, options: ConnectFnErrorOptions = {}) {
    super(message, { stage: Stage.OFFSET_COMMIT, ...options });
  }
}

/**
 * The offsets are gone, not merely absent: the offsets topic is missing although the connector has run
 * against it before (./prior-runs.ts). Never retriable: starting over would send records again, so a
 * person decides (restore the topic, or create it to start over).
 */
export class OffsetsLostError extends ConnectFnError {
  readonly code = 'CONNECT_FN_OFFSETS_LOST';

  constructor(message: string, options: ConnectFnErrorOptions = {}) {
    super(message, { stage: Stage.OFFSET_COMMIT, ...options });
  }
}
