/**
 * Kafka requests kafkajs 2.2.4 cannot send, sent through its own connections. kafkajs knows no flexible
 * versions (KIP-482: compact strings and arrays, tagged fields), and the admin APIs added since Kafka 2.4
 * exist only in flexible versions: ListTransactions (66, KIP-664) and ConsumerGroupDescribe (69, KIP-848)
 * are the two connect-fn needs. This module holds the little codec they take and the one way in: a
 * kafkajs `Broker`'s connection pool, which frames any `{ apiKey, apiVersion, encode }` with a request
 * header v1 (api key, version, correlation id, client id) and hands back the bytes after the correlation
 * id. A flexible request needs header v2, which is v1 plus tagged fields; a flexible response has header
 * v1, the correlation id plus tagged fields. So the body starts with an empty tagged-field section (one
 * zero byte) and the response's first tagged-field section is skipped before the body is read.
 *
 * Only what connect-fn reads is decoded; every request here is sent only where a rare condition calls for
 * it (an offsets topic missing, a group DescribeGroups cannot describe), never on a hot path.
 * @module
 */
import type { Broker } from 'kafkajs';

/** Kafka's error codes that the callers here tell apart (`Errors.java`). */
export const KafkaErrorCode = {
  NONE: 0,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  GROUP_AUTHORIZATION_FAILED: 30,
  UNSUPPORTED_VERSION: 35,
  GROUP_ID_NOT_FOUND: 69,
} as const;

/** Writes the encoding of flexible versions: big-endian integers, unsigned varints, compact types. */
export class CompactWriter {
  readonly #chunks: Buffer[] = [];

  int8(value: number): this {
    const b = Buffer.alloc(1);
    b.writeInt8(value);
    return this.#push(b);
  }

  int64(value: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(value);
    return this.#push(b);
  }

  uvarint(value: number): this {
    const bytes: number[] = [];
    let rest = value >>> 0;
    while (rest >= 0x80) {
      bytes.push((rest & 0x7f) | 0x80);
      rest >>>= 7;
    }
    bytes.push(rest);
    return this.#push(Buffer.from(bytes));
  }

  bool(value: boolean): this {
    return this.int8(value ? 1 : 0);
  }

  /** A COMPACT_STRING: length + 1 as an unsigned varint, then UTF-8. */
  compactString(value: string): this {
    const bytes = Buffer.from(value, 'utf8');
    return this.uvarint(bytes.length + 1).#push(bytes);
  }

  /** A COMPACT_ARRAY: length + 1, then each element as `write` puts it. */
  compactArray<T>(values: readonly T[], write: (writer: this, value: T) => void): this {
    this.uvarint(values.length + 1);
    for (const value of values) write(this, value);
    return this;
  }

  /** An empty tagged-field section (no tagged fields). */
  noTaggedFields(): this {
    return this.uvarint(0);
  }

  bytes(): Buffer {
    return Buffer.concat(this.#chunks);
  }

  #push(chunk: Buffer): this {
    this.#chunks.push(chunk);
    return this;
  }
}

/** Reads the encoding of flexible versions; throws on bytes that end too early. */
export class CompactReader {
  readonly #buffer: Buffer;
  #offset = 0;

  constructor(buffer: Buffer) {
    this.#buffer = buffer;
  }

  int16(): number {
    this.#need(2);
    const value = this.#buffer.readInt16BE(this.#offset);
    this.#offset += 2;
    return value;
  }

  int32(): number {
    this.#need(4);
    const value = this.#buffer.readInt32BE(this.#offset);
    this.#offset += 4;
    return value;
  }

  int64(): bigint {
    this.#need(8);
    const value = this.#buffer.readBigInt64BE(this.#offset);
    this.#offset += 8;
    return value;
  }

  uvarint(): number {
    let value = 0;
    for (let shift = 0; shift <= 28; shift += 7) {
      this.#need(1);
      const byte = this.#buffer[this.#offset++]!;
      value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value >>> 0;
    }
    throw new Error('malformed unsigned varint in a Kafka response');
  }

  /** A COMPACT_NULLABLE_STRING (null when its length is -1, encoded 0). */
  compactNullableString(): string | null {
    const lengthPlusOne = this.uvarint();
    if (lengthPlusOne === 0) return null;
    this.#need(lengthPlusOne - 1);
    const value = this.#buffer.toString('utf8', this.#offset, this.#offset + lengthPlusOne - 1);
    this.#offset += lengthPlusOne - 1;
    return value;
  }

  compactString(): string {
    const value = this.compactNullableString();
    if (value === null) throw new Error('null where a Kafka response must hold a string');
    return value;
  }

  /** The number of elements of a COMPACT_ARRAY (a null array counts as empty). */
  compactArrayLength(): number {
    return Math.max(0, this.uvarint() - 1);
  }

  /** Skips a tagged-field section: a count, then per field a tag, a size and that many bytes. */
  skipTaggedFields(): void {
    const count = this.uvarint();
    for (let i = 0; i < count; i += 1) {
      this.uvarint();
      const size = this.uvarint();
      this.#need(size);
      this.#offset += size;
    }
  }

  #need(bytes: number): void {
    if (this.#offset + bytes > this.#buffer.length) throw new Error('a Kafka response ended too early');
  }
}

/** One flexible request: its API, version, body (after the header) and how its body is read. */
export interface FlexibleRequest<T> {
  readonly apiKey: number;
  readonly apiVersion: number;
  /** For kafkajs' debug log. */
  readonly apiName: string;
  readonly body: Buffer;
  readonly parse: (reader: CompactReader) => T;
}

/** kafkajs' connection pool of a broker (kafkajs/src/network/connectionPool.js), as far as we use it. */
interface ConnectionPool {
  send(protocol: {
    request: { apiKey: number; apiVersion: number; apiName: string; encode: () => Promise<EncodedBody> };
    response: {
      decode: (payload: Buffer) => Promise<{ payload: Buffer }>;
      parse: (d: { payload: Buffer }) => Promise<unknown>;
    };
  }): Promise<unknown>;
}

/** What kafkajs' request framing takes as an encoded body (it reads `buf` to check, `buffer` to write). */
interface EncodedBody {
  readonly buf: Buffer;
  readonly buffer: Buffer;
}

/** The broker's highest version of `apiKey`, or undefined when it does not support the API. */
export async function maxVersionOf(broker: Broker, apiKey: number): Promise<number | undefined> {
  const versions = (await broker.apiVersions()) as Readonly<Record<number, { maxVersion?: number }>>;
  const max = versions[apiKey]?.maxVersion;
  return typeof max === 'number' ? max : undefined;
}

/** Sends `request` to `broker` on one of its kafkajs connections and parses the response body. */
export async function sendFlexible<T>(broker: Broker, request: FlexibleRequest<T>): Promise<T> {
  const pool = (broker as unknown as { connectionPool?: ConnectionPool }).connectionPool;
  if (pool === undefined || typeof pool.send !== 'function') {
    throw new Error('this kafkajs broker has no connection pool to send a request through');
  }
  // Request header v2 = header v1 + an empty tagged-field section, written here as the body's first byte.
  const framed = Buffer.concat([new CompactWriter().noTaggedFields().bytes(), request.body]);
  const encoded: EncodedBody = { buf: framed, buffer: framed };
  const parsed = await pool.send({
    request: {
      apiKey: request.apiKey,
      apiVersion: request.apiVersion,
      apiName: request.apiName,
      encode: async () => encoded,
    },
    response: {
      decode: async (payload) => ({ payload }),
      parse: async ({ payload }) => {
        const reader = new CompactReader(payload);
        reader.skipTaggedFields(); // response header v1's tagged fields
        return request.parse(reader);
      },
    },
  });
  return parsed as T;
}
