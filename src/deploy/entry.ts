/**
 * The generated entry of a connector's package: the module esbuild starts from, exporting the Lambda
 * `handler` of the connector's kind and trigger (scheduled source, scheduled sink, triggered sink).
 * @module
 */
import { join } from 'node:path';
import type { EntrySource } from './artifact.ts';
import { SOURCE_ROOT } from './artifact.ts';
import type { DerivedManifest } from './derive.ts';

/** The handler module of each kind of function. */
function handlerModule(manifest: Pick<DerivedManifest, 'kind' | 'trigger'>): string {
  if (manifest.kind === 'source') return 'handlers/source.ts';
  return manifest.trigger === 'kafka' ? 'handlers/sink-trigger.ts' : 'handlers/sink.ts';
}

/** The entry module's text for the connector of `manifest`. */
export function entryFor(manifest: Pick<DerivedManifest, 'kind' | 'trigger'>): EntrySource {
  const path = join(SOURCE_ROOT, handlerModule(manifest));
  return `export { handler } from ${JSON.stringify(path)};\n`;
}
