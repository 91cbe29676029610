/**
 * Configuration of the `file` connectors, Kafka Connect's FileStreamSource and FileStreamSink with the
 * same keys (`file`, `topic`, `batch.size`; `topics` for the sink), so Connect's
 * `connect-file-source.properties` validates unchanged; the source adds `line.max.bytes`, a bound Connect
 * lacks (it buffers a line without a line end until it runs out of memory). Unlike Connect, `file` is required: a function has
 * no stdin or stdout to fall back to.
 * @module
 */
import { k } from '../../config/keys.ts';
import type { ConnectorDef } from '../../config/registry.ts';
import { topicKey } from '../topic-key.ts';

const fileKey = (doc: string) => k.string(doc, { nonEmpty: true });

/**
 * `line.max.bytes` by default: Kafka's default `max.request.size` (1 MiB), so a line the producer could
 * not send anyway fails before it is held in memory. At most 256 MiB: a longer line would not fit in one
 * JavaScript string (V8 caps strings at 2^29 - 24 characters) nor in a Lambda's memory twice over.
 */
export const DEFAULT_LINE_MAX_BYTES = 1_048_576;
const MAX_LINE_MAX_BYTES = 256 * 1024 * 1024;

export const fileSourceDef: ConnectorDef = {
  name: 'file-source',
  aliases: [
    'FileStreamSource',
    'FileStreamSourceConnector',
    'org.apache.kafka.connect.file.FileStreamSourceConnector',
  ],
  kind: 'source',
  doc: "Lines of a file into a Kafka topic (Connect's FileStreamSource). Offsets: {filename} -> {position, inode, head_bytes, head_sha256}: Connect's position first, then the file's identity.",
  schema: {
    keys: {
      file: fileKey('The file to read, line by line (connect-fn has no stdin to fall back to).'),
      topic: topicKey('The topic to write each line to.'),
      'batch.size': k.int('Most lines returned by one poll.', { default: 2000, min: 1 }),
      'line.max.bytes': k.int(
        'Longest line accepted, in bytes without its line ending (connect-fn only: Connect has no limit and ' +
          'runs out of memory). A longer line fails the invocation, non-retriable, naming the file and the ' +
          "line's byte position; nothing after it is committed. Raise it together with " +
          "producer.max.request.size, which also bounds a line's record.",
        { default: DEFAULT_LINE_MAX_BYTES, min: 1, max: MAX_LINE_MAX_BYTES },
      ),
    },
  },
};

export const fileSinkDef: ConnectorDef = {
  name: 'file-sink',
  aliases: [
    'FileStreamSink',
    'FileStreamSinkConnector',
    'org.apache.kafka.connect.file.FileStreamSinkConnector',
  ],
  kind: 'sink',
  doc: "Record values as lines of a file (Connect's FileStreamSink).",
  schema: {
    keys: {
      file: fileKey('The file to append each record value to, one line per record.'),
    },
  },
};
