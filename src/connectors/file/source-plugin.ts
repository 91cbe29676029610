/** The `file-source` connector (Connect's FileStreamSource) as a plugin (../plugin.ts). @module */
import type { SourcePlugin } from '../plugin.ts';
import { fileSourceDef } from './config.ts';
import { fileSourceConnector } from './source-connector.ts';

export const fileSourcePlugin: SourcePlugin = {
  kind: 'source',
  def: fileSourceDef,
  create: ({ log, baseDir }) => fileSourceConnector(log, baseDir),
};
