/** `connect-fn docs [--write FILE | --check FILE]`: prints, writes or checks the configuration reference. */
import { readFileSync, writeFileSync } from 'node:fs';
import { renderReference } from '../config/reference.ts';
import type { Registry } from '../config/registry.ts';
import { UsageError } from '../errors.ts';
import { type CliIo, Exit } from './io.ts';

export const DOCS_USAGE = 'usage: connect-fn docs [--write FILE | --check FILE]';

export function docsCommand(args: readonly string[], io: CliIo, registry: Registry): number {
  const text = renderReference(registry);
  const [flag, file, ...rest] = args;
  if (flag === undefined) {
    io.out(text.trimEnd());
    return Exit.ok;
  }
  if ((flag !== '--write' && flag !== '--check') || file === undefined || rest.length > 0)
    throw new UsageError(DOCS_USAGE);
  if (flag === '--write') {
    writeFileSync(file, text);
    io.err(`wrote ${file}`);
    return Exit.ok;
  }
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    // A missing file is stale too.
  }
  if (current === text) return Exit.ok;
  io.err(`${file} is stale: run \`npm run docs\``);
  return Exit.failed;
}
