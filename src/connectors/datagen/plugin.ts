/** The `datagen` source connector as a plugin (../plugin.ts). @module */
import type { SourcePlugin } from '../plugin.ts';
import { datagenDef } from './config.ts';
import { datagenConnector } from './connector.ts';

export const datagenPlugin: SourcePlugin = {
  kind: 'source',
  def: datagenDef,
  create: () => datagenConnector,
};
