import { existsSync, statSync } from 'node:fs';
import { boundText, UsageError } from '../errors.ts';

/** Where a CLI command writes: injectable so commands are tested in-process. */
export interface CliIo {
  /** One line of the command's output (stdout). */
  readonly out: (line: string) => void;
  /** One line of progress, warnings or errors (stderr). */
  readonly err: (line: string) => void;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Exit codes shared by every command. */
export const Exit = { ok: 0, failed: 1, usage: 2 } as const;

/** Throws a usage error (with `usage`) unless `dir` is a directory: a bundle argument. */
export function checkBundleDir(dir: string, usage: string): void {
  if (existsSync(dir) && statSync(dir).isDirectory()) return;
  const what = existsSync(dir) ? 'is a file, not a directory' : 'does not exist';
  throw new UsageError(`${boundText(dir)} ${what} (a bundle is a directory holding connectors/)\n${usage}`);
}
