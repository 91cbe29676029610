/**
 * The errors the Kafka adapters throw, each with a stable `code` (the hierarchy of `src/errors.ts`).
 * Messages name the broker and, for SASL, the mechanism and user — never a password, key or token.
 * Fencing is `FencedError` from `src/errors.ts`.
 * @module
 */
import { ConnectFnError, type ConnectFnErrorOptions } from '../errors.ts';

/** The broker refused our credentials (SASL), or TLS/SASL could not be negotiated. Not retriable. */
export class KafkaAuthenticationError extends ConnectFnError {
  readonly code = 'CONNECT_FN_KAFKA_AUTHENTICATION';
}

/** Authenticated, but not allowed to do this (topic, group, cluster or transactional id ACLs). */
export class KafkaAuthorizationError extends ConnectFnError {
  readonly code = 'CONNECT_FN_KAFKA_AUTHORIZATION';
}

/** No broker answered (refused, timed out, closed, DNS). Retriable. */
export class KafkaUnreachableError extends ConnectFnError {
  readonly code = 'CONNECT_FN_KAFKA_UNREACHABLE';
  constructor(message: string, options: ConnectFnErrorOptions = {}) {
    super(message, { retriable: true, ...options });
  }
}

/** A topic (or a partition of it) does not exist and will not be created for us. */
export class TopicMissingError extends ConnectFnError {
  readonly code = 'CONNECT_FN_KAFKA_TOPIC_MISSING';
  readonly topic: string;
  constructor(topic: string, message: string, options: ConnectFnErrorOptions = {}) {
    super(message, options);
    this.topic = topic;
  }
}

/** Where a partition's readable records start and end when a read fell outside them. */
export interface OffsetRange {
  /** The log start offset: the earliest readable offset (`auto.offset.reset=earliest`). */
  readonly startOffset: number;
  /** The last stable offset: where read_committed reading ends (`auto.offset.reset=latest`). */
  readonly endOffset: number;
}

/**
 * The offset asked for is not in the partition (deleted by retention, or beyond its end). Carries the
 * partition's current range so the caller can reset per `auto.offset.reset` without another request.
 */
export class OffsetOutOfRangeError extends ConnectFnError {
  readonly code = 'CONNECT_FN_KAFKA_OFFSET_OUT_OF_RANGE';
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly range: OffsetRange;

  constructor(at: { topic: string; partition: number; offset: number }, range: OffsetRange) {
    super(
      `offset ${at.offset} is out of range for ${at.topic}-${at.partition} ` +
        `(readable offsets ${range.startOffset}..${range.endOffset})`,
    );
    this.topic = at.topic;
    this.partition = at.partition;
    this.offset = at.offset;
    this.range = range;
  }

  /** The offset to continue from under `auto.offset.reset` (`none` rethrows this error). */
  resetTo(policy: 'earliest' | 'latest' | 'none'): number {
    if (policy === 'none') throw this;
    return policy === 'earliest' ? this.range.startOffset : this.range.endOffset;
  }
}

/**
 * A sink's consumer group `connect-<name>` has members, or cannot be proven to have none (./group-members.ts):
 * committing to it would overwrite another consumer's positions. Not retriable: the other consumer (Kafka
 * Connect) must be stopped first.
 */
export class GroupInUseError extends ConnectFnError {
  readonly code = 'CONNECT_FN_KAFKA_GROUP_IN_USE';
  readonly groupId: string;
  constructor(groupId: string, message: string, options: ConnectFnErrorOptions = {}) {
    super(message, options);
    this.groupId = groupId;
  }
}

/** Any other failure of a Kafka request; `retriable` as Kafka says. */
export class KafkaOperationError extends ConnectFnError {
  readonly code = 'CONNECT_FN_KAFKA';
}
