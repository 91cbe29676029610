/**
 * `offset.storage=file`: a JSON file, for local runs (relative to the bundle directory).
 * @module
 */
import { isAbsolute, join } from 'node:path';
import { FileOffsetStore } from '../../offsets/file-store.ts';
import type { OpenOffsetStore } from '../offset-store.ts';

export const openFileOffsetStore: OpenOffsetStore = async (bundle) => {
  const w = bundle.worker.values;
  const file = w['offset.storage.file.filename'];
  const store = new FileOffsetStore({ filename: isAbsolute(file) ? file : join(bundle.dir, file) });
  return { store, close: async () => {} };
};
