/**
 * Configuration of the `file` connectors, Kafka Connect's FileStreamSource and FileStreamSink with the
 * same keys (`file`, `topic`, `batch.size`; `topics` for the sink), so Connect's
 * `connect-file-source.properties` validates unchanged. Unlike Connect, `file` is required: a function has
 * no stdin or stdout to fall back to.
 * @module
 */
import { k } from '../../config/keys.ts';
import type { ConnectorDef } from '../../config/registry.ts';
import { topicKey } from '../topic-key.ts';

const fileKey = (doc: string) => k.string(doc, { nonEmpty: true });

export const fileSourceDef: ConnectorDef = {
  name: 'file-source',
  aliases: [
    'FileStreamSource',
    'FileStreamSourceConnector',
    'org.apache.kafka.connect.file.FileStreamSourceConnector',
  ],
  kind: 'source',
  doc: "Lines of a file into a Kafka topic (Connect's FileStreamSource). Offsets: {filename} -> {position}.",
  schema: {
    keys: {
      file: fileKey('The file to read, line by line (connect-fn has no stdin to fall back to).'),
      topic: topicKey('The topic to write each line to.'),
      'batch.size': k.int('Most lines returned by one poll.', { default: 2000, min: 1 }),
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
