import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach } from 'vitest';

const made: string[] = [];

afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Writes `files` (path relative to the bundle → content) into a fresh temp dir, removed after the test. */
export function writeBundle(files: Readonly<Record<string, string>>): string {
  const dir = mkdtempSync(join(tmpdir(), 'connect-fn-bundle-'));
  made.push(dir);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

/** A valid FileStreamSource connector file, with extra lines appended. */
export function sourceProps(extra = '', name = 'src'): string {
  return `name=${name}\nconnector.class=FileStreamSource\nfile=/tmp/in.txt\ntopic=t\n${extra}`;
}

/** A valid FileStreamSink connector file, with extra lines appended. */
export function sinkProps(extra = '', name = 'snk'): string {
  return `name=${name}\nconnector.class=FileStreamSink\nfile=/tmp/out.txt\ntopics=t\n${extra}`;
}
