/**
 * Builds one connector's deployment package: an esbuild bundle of the function's entry (ESM for Node 22,
 * `index.mjs` with its source map `index.mjs.map`) and the connector's part of the bundle, verbatim
 * (`bundle/<worker file>` and `bundle/connectors/<file>`: `${...}` references unresolved, so no secret
 * enters the artifact), zipped reproducibly (./zip.ts).
 *
 * The code is built from this checkout's sources; paths in the output and the map are relative to it, so
 * the bytes do not depend on where it is checked out. Whitespace and syntax are minified, names kept
 * (stack traces stay readable; the source map maps them back to the TypeScript).
 * @module
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Metafile } from 'esbuild';
import { type ZipEntry, zipEntries } from './zip.ts';

/** The checkout whose sources are bundled. */
export const SOURCE_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The entry's module text: what the generated `index.mjs` starts from. */
export type EntrySource = string;

/**
 * Bundled CommonJS modules (kafkajs, the AWS SDK) call `require` for Node's built-ins, which an ES module
 * does not have: give them one.
 */
const REQUIRE_BANNER =
  "import { createRequire as __connectFnRequire } from 'node:module'; const require = __connectFnRequire(import.meta.url);";

export interface BuiltCode {
  readonly code: Uint8Array;
  readonly map: Uint8Array;
  /** What went into the code, for size reports and the tests that check what a package contains. */
  readonly metafile: Metafile;
}

/** Bundles `entry` (an ES module importing from this checkout by absolute path) into `index.mjs`. */
export async function buildCode(entry: EntrySource): Promise<BuiltCode> {
  const { build } = await import('esbuild');
  const result = await build({
    stdin: { contents: entry, resolveDir: SOURCE_ROOT, sourcefile: 'connect-fn-entry.mjs', loader: 'js' },
    absWorkingDir: SOURCE_ROOT,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    outfile: join(SOURCE_ROOT, 'index.mjs'),
    write: false,
    sourcemap: 'linked',
    sourcesContent: false,
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    legalComments: 'none',
    banner: { js: REQUIRE_BANNER },
    metafile: true,
    // Paths stay below this checkout even where node_modules is a link (a git worktree's).
    preserveSymlinks: true,
    logLevel: 'silent',
  });
  const code = result.outputFiles.find((f) => f.path.endsWith('.mjs'));
  const map = result.outputFiles.find((f) => f.path.endsWith('.mjs.map'));
  if (code === undefined || map === undefined) throw new Error('esbuild wrote no index.mjs or no map');
  return { code: code.contents, map: map.contents, metafile: result.metafile };
}

export interface PackageInput {
  readonly code: BuiltCode;
  /** The bundle directory and the files of it the function needs, relative to it. */
  readonly bundleDir: string;
  readonly files: readonly string[];
}

export interface Package {
  readonly zip: Buffer;
  readonly sha256: string;
  /** The entries' names, sorted. */
  readonly entries: readonly string[];
}

/** The zip of the code and the bundle files, and its sha256. */
export function packageZip(input: PackageInput): Package {
  const entries: ZipEntry[] = [
    { name: 'index.mjs', data: input.code.code },
    { name: 'index.mjs.map', data: input.code.map },
    ...input.files.map((file) => ({
      name: `bundle/${file}`,
      data: readFileSync(join(input.bundleDir, file)),
    })),
  ];
  const zip = zipEntries(entries);
  return {
    zip,
    sha256: createHash('sha256').update(zip).digest('hex'),
    entries: entries.map((e) => e.name).sort(),
  };
}
