/**
 * A connector's deployment package, as `connect-fn package` writes it, unzipped into an empty directory
 * as Lambda unpacks it: `index.mjs` (exporting `handler`), its source map, and `bundle/` (the worker file
 * and the connector's file as written, `${...}` references unresolved).
 * @module
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll } from 'vitest';
import type { ConnectorManifest } from '../../../src/deploy/manifest.ts';

const CLI = fileURLToPath(new URL('../../../bin/connect-fn.mjs', import.meta.url));
const run = promisify(execFile);

const made: string[] = [];
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(what: string): string {
  const dir = mkdtempSync(join(tmpdir(), `connect-fn-${what}-`));
  made.push(dir);
  return dir;
}

export interface PackagedFunction {
  /** The unpacked zip. */
  readonly dir: string;
  /** What the infrastructure deploys it with (handler, environment, memory, timeout). */
  readonly manifest: ConnectorManifest;
}

/**
 * The unpacked package of `connector` of the bundle in `bundleDir` (removed after the test file), built
 * by `connect-fn package` in the environment `env` (what it validates `${env:...}` references with).
 */
export async function packagedFunction(
  bundleDir: string,
  connector: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<PackagedFunction> {
  const out = tempDir('package');
  await run(process.execPath, [CLI, 'package', bundleDir, '--out', out, '--connector', connector], { env });
  const manifest = JSON.parse(
    readFileSync(join(out, connector, 'manifest.json'), 'utf8'),
  ) as ConnectorManifest;
  const dir = tempDir(`function-${connector}`);
  await run('unzip', ['-q', join(out, connector, manifest.artifact.file), '-d', dir]);
  return { dir, manifest };
}
