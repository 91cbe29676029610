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
