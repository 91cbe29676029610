/**
 * The key spec of a single Kafka topic name, shared by the source connectors (`topic`, `kafka.topic`).
 * @module
 */
import { k } from '../config/keys.ts';

/** Kafka's legal topic names: 1-249 of letters, digits, `.`, `_` and `-`. */
export const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

/** A required key holding one topic name (trimmed). */
export function topicKey(doc: string) {
  return k.custom('string', doc, 'a single topic name (no commas)', (raw) =>
    TOPIC_NAME.test(raw.trim()) ? raw.trim() : undefined,
  );
}
