/**
 * A connector's deployment package, unpacked into an empty directory, as Lambda unpacks its zip: the
 * esbuild bundle `index.mjs` (ESM, exporting `handler`) with its source map, and `bundle/` holding the
 * worker file and the connector's file as written (`${...}` references unresolved).
 *
 * Stand-in until `connect-fn package` lands: it builds the same layout from the same entries
 * (`handlers/source.ts`, `handlers/sink.ts`, `handlers/sink-trigger.ts`). Switching to the real command
 * changes this file only: run `connect-fn package <bundle> --out <tmp> --connector <name>` and unzip
 * `<tmp>/<name>/<name>.zip` into the returned directory.
 * @module
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll } from 'vitest';
import { loadBundle } from '../../../src/config/bundle.ts';
import { builtinRegistry } from '../../../src/connectors/builtins.ts';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));

/** CommonJS dependencies (kafkajs, the AWS SDK) `require` Node's built-ins: an ES module must provide it. */
const REQUIRE_BANNER =
  "import { createRequire as __connectFnRequire } from 'node:module'; const require = __connectFnRequire(import.meta.url);";

const made: string[] = [];
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * The unpacked package of `connector` of the bundle in `bundleDir` (removed after the test file), validated
 * with `env` as `connect-fn package` validates it.
 */
export async function packagedFunction(
  bundleDir: string,
  connector: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<string> {
  const bundle = loadBundle(bundleDir, { registry: builtinRegistry(), env });
  const config = bundle.connector(connector);
  const entry =
    config.kind === 'source' ? 'source' : config.common.trigger === 'kafka' ? 'sink-trigger' : 'sink';
  const out = mkdtempSync(join(tmpdir(), `connect-fn-function-${connector}-`));
  made.push(out);
  const result = await build({
    stdin: {
      contents: `export { handler } from ${JSON.stringify(join(REPO, 'handlers', `${entry}.ts`))};\n`,
      resolveDir: REPO,
      sourcefile: 'connect-fn-entry.mjs',
      loader: 'js',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: join(out, 'index.mjs'),
    write: false,
    sourcemap: 'linked',
    banner: { js: REQUIRE_BANNER },
    logLevel: 'silent',
  });
  for (const file of result.outputFiles) writeFileSync(file.path, file.contents);
  for (const file of [bundle.worker.file, config.file]) {
    mkdirSync(dirname(join(out, 'bundle', file)), { recursive: true });
    copyFileSync(join(bundleDir, file), join(out, 'bundle', file));
  }
  return out;
}
