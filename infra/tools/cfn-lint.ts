/**
 * cfn-lint (PyPI), pinned and installed by the project itself: a Python venv under
 * `<cache>/cfn-lint/<version>/`, created once with `python3 -m venv` + `pip install` and reused (as the
 * local stack caches its Maven jars). `<cache>` is `$CONNECT_FN_CACHE_DIR`, else `$XDG_CACHE_HOME/connect-fn`
 * or `~/.cache/connect-fn`, as for the project's other tools. The first install needs PyPI (~40 MB, about a
 * minute); a lock directory keeps two processes (test files, CI) from building the same venv at once. The
 * tests of both IaC paths and CI lint through it.
 *
 * @example
 * ```sh
 * npx tsx infra/tools/cfn-lint.ts cdk.out/connect-fn.template.json   # installs on first use, then lints
 * npx tsx infra/tools/cfn-lint.ts                                     # installs only (CI cache warm-up)
 * ```
 * @module
 */
import { execFile } from 'node:child_process';
import { mkdir, rm, rmdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The cfn-lint release the project tests against (1.x: the rewritten, schema-driven linter). */
export const CFN_LINT_VERSION = '1.58.0';
/** An install still holding the lock after this long was killed; the lock is taken over. */
const STALE_LOCK_MS = 10 * 60_000;
const LOCK_POLL_MS = 1_000;

/** Where the venv of `version` lives. */
export function cfnLintHome(version = CFN_LINT_VERSION, env: NodeJS.ProcessEnv = process.env): string {
  const root =
    env.CONNECT_FN_CACHE_DIR || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'connect-fn');
  return join(root, 'cfn-lint', version);
}

/** The `cfn-lint` executable of the cached venv, made first when missing or broken. */
export async function ensureCfnLint(version = CFN_LINT_VERSION): Promise<string> {
  const home = cfnLintHome(version);
  const bin = join(home, 'bin', 'cfn-lint');
  if (await answers(bin, version)) return bin;
  await mkdir(dirname(home), { recursive: true });
  const lock = `${home}.lock`;
  await takeLock(lock);
  try {
    if (!(await answers(bin, version))) await install(home, version); // else made while we waited
  } finally {
    await rmdir(lock).catch(() => {});
  }
  if (!(await answers(bin, version)))
    throw new Error(`cfn-lint ${version} in ${home} does not run after installing it`);
  return bin;
}

async function answers(bin: string, version: string): Promise<boolean> {
  try {
    const { stdout } = await run(bin, ['--version']);
    return stdout.includes(version);
  } catch {
    return false;
  }
}

async function install(home: string, version: string): Promise<void> {
  // A half-made venv (an install killed midway) is started over.
  await rm(home, { recursive: true, force: true });
  try {
    await run('python3', ['-m', 'venv', home]);
    await run(
      join(home, 'bin', 'pip'),
      ['install', '--quiet', '--disable-pip-version-check', `cfn-lint==${version}`],
      { maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (err) {
    await rm(home, { recursive: true, force: true });
    throw new Error(`installing cfn-lint ${version} into ${home} failed (python3 -m venv, pip install)`, {
      cause: err,
    });
  }
}

/** `mkdir` is atomic: whoever makes the lock directory installs; the others wait for it to go. */
async function takeLock(lock: string): Promise<void> {
  for (;;) {
    try {
      await mkdir(lock);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const since = await stat(lock).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (since > STALE_LOCK_MS) await rmdir(lock).catch(() => {});
      else await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
    }
  }
}

/** One finding of cfn-lint's JSON output. */
export interface CfnLintMatch {
  readonly Rule: { readonly Id: string; readonly Description: string };
  readonly Level: 'Error' | 'Warning' | 'Informational';
  readonly Message: string;
  readonly Filename: string;
  readonly Location: { readonly Path?: readonly (string | number)[] | null };
}

/** Lints `templates`; resolves with every finding (cfn-lint exits non-zero when it finds any). */
export async function cfnLint(templates: readonly string[]): Promise<CfnLintMatch[]> {
  const bin = await ensureCfnLint();
  try {
    const { stdout } = await run(bin, ['--format', 'json', '--', ...templates], {
      maxBuffer: 64 * 1024 * 1024,
    });
    return parseMatches(stdout);
  } catch (err) {
    // Exit codes 2 (error), 4 (warning), 8 (informational) and their sums still print the JSON findings.
    const out = (err as { stdout?: string }).stdout;
    if (typeof out === 'string' && out.trim().startsWith('[')) return parseMatches(out);
    throw err;
  }
}

function parseMatches(stdout: string): CfnLintMatch[] {
  return stdout.trim() === '' ? [] : (JSON.parse(stdout) as CfnLintMatch[]);
}

/** A finding as one line: `E3012 Error path.to.key: message`. */
export function formatMatch(match: CfnLintMatch): string {
  const path = (match.Location.Path ?? []).join('.');
  return `${match.Rule.Id} ${match.Level} ${path}: ${match.Message}`;
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const templates = process.argv.slice(2);
  // Without templates: install only (CI warms its cache this way), and print where.
  if (templates.length === 0) console.log(await ensureCfnLint());
  const matches = templates.length === 0 ? [] : await cfnLint(templates);
  for (const match of matches) console.log(`${match.Filename} ${formatMatch(match)}`);
  process.exitCode = matches.some((m) => m.Level === 'Error') ? 1 : 0;
}
