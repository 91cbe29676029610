/**
 * Record references: where a key attribute of an item comes from, in the syntax of Confluent's DynamoDB
 * sink (`aws.dynamodb.pk.hash` / `aws.dynamodb.pk.sort`) plus `topic`:
 *
 * | reference | the attribute's value | its name without an alias |
 * |---|---|---|
 * | `topic` | the record's topic (S) | `topic` |
 * | `partition` | the record's Kafka partition (N) | `partition` |
 * | `offset` | the record's Kafka offset (N) | `offset` |
 * | `key` | the record key itself (a string, number or bytes) | `key` |
 * | `key.<path>` | a field of the record key, `.` descending into nested objects | the last field of `path` |
 * | `value.<path>` | a field of the record value | the last field of `path` |
 *
 * Any reference may end in `:<alias>`, which names the attribute: `value.user.id:userId`.
 *
 * @example
 * ```ts
 * parseRecordReference('value.user.id:userId');
 * // { source: 'value', path: ['user', 'id'], attribute: 'userId' }
 * ```
 * @module
 */

export type ReferenceSource = 'topic' | 'partition' | 'offset' | 'key' | 'value';

/** A parsed record reference. */
export interface RecordReference {
  readonly source: ReferenceSource;
  /** Fields below the key or value; empty for the key or value itself (and for coordinates). */
  readonly path: readonly string[];
  /** The item attribute it fills. */
  readonly attribute: string;
  /** The reference as written, for messages. */
  readonly text: string;
}

const COORDINATES: readonly ReferenceSource[] = ['topic', 'partition', 'offset'];

/** What a valid reference looks like, for configuration problems. */
export const REFERENCE_EXPECTED =
  'one of topic, partition, offset, key, key.<field>[.<field>...], value.<field>[.<field>...], optionally followed by :<attribute name>';

/** The parsed reference, or undefined when `raw` is not one. */
export function parseRecordReference(raw: string): RecordReference | undefined {
  const text = raw.trim();
  const colon = text.indexOf(':');
  const ref = colon < 0 ? text : text.slice(0, colon);
  const alias = colon < 0 ? undefined : text.slice(colon + 1);
  if (alias !== undefined && (alias.length === 0 || alias.length > 255)) return undefined;
  const [head, ...path] = ref.split('.');
  if (head === undefined || path.some((p) => p.length === 0)) return undefined;
  if (COORDINATES.includes(head as ReferenceSource)) {
    if (path.length > 0) return undefined;
  } else if (head !== 'key' && head !== 'value') {
    return undefined;
  }
  return {
    source: head as ReferenceSource,
    path,
    attribute: alias ?? path[path.length - 1] ?? head,
    text,
  };
}
