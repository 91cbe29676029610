/** The `file-sink` connector (Connect's FileStreamSink) as a plugin (../plugin.ts). @module */
import type { SinkPlugin } from '../plugin.ts';
import { fileSinkDef } from './config.ts';
import { fileSinkConnector } from './sink-connector.ts';

export const fileSinkPlugin: SinkPlugin = {
  kind: 'sink',
  def: fileSinkDef,
  create: ({ baseDir }) => fileSinkConnector(baseDir),
};
