/**
 * The key spec of a single Kafka topic name, shared by the source connectors (`topic`, `kafka.topic`).
 * @module
 */
import { k } from '../config/keys.ts';

export { TOPIC_NAME, TOPIC_NAME_RULE } from '../config/keys.ts';

/** A required key holding one topic name (trimmed), checked by Kafka's rule. */
export function topicKey(doc: string) {
  return k.topic(doc);
}
