/**
 * cfn-lint (PyPI), pinned, installed by the project itself into a Python venv under
 * `~/.cache/connect-fn/cfn-lint/<version>/` (or `$CONNECT_FN_CACHE_DIR/cfn-lint/<version>/`) on first use
 * and reused after, as the local stack caches its Maven jars. The first install needs PyPI (~40 MB, about
 * a minute); a lock directory keeps two test processes from building the same venv at once.
 * @module
 */
import { execFile } from 'node:child_process';
import { mkdir, rm, rmdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The release the templates are linted with (1.x: the schema-driven rewrite). */
export const CFN_LINT_VERSION = '1.58.0';
/** An install still holding the lock after this long was killed; the lock is taken over. */
const STALE_LOCK_MS = 10 * 60_000;
const LOCK_POLL_MS = 1_000;

export interface CfnLintResult {
  /** `E####` findings as `E3012 Resources.Foo.Properties.Bar: message`. */
  readonly errors: string[];
  /** `W####` findings, the same way. */
  readonly warnings: string[];
}

interface Match {
  readonly Rule: { readonly Id: string };
  readonly Level: string;
  readonly Message: string;
  readonly Location: { readonly Path?: readonly (string | number)[] | null };
}

/** Lints one template; installs cfn-lint first when the cache does not hold it. */
export async function cfnLint(templatePath: string): Promise<CfnLintResult> {
  const bin = await ensureCfnLint();
  let stdout: string;
  try {
    ({ stdout } = await run(bin, ['--format', 'json', '--', templatePath], { maxBuffer: 64 * 1024 * 1024 }));
  } catch (err) {
    // cfn-lint exits 2/4/8 (and their sums) when it finds something, still printing the JSON findings.
    const out = (err as { stdout?: unknown }).stdout;
    if (typeof out !== 'string' || !out.trim().startsWith('[')) throw err;
    stdout = out;
  }
  const matches = stdout.trim() === '' ? [] : (JSON.parse(stdout) as Match[]);
  const line = (m: Match) => `${m.Rule.Id} ${(m.Location.Path ?? []).join('.')}: ${m.Message}`;
  return {
    errors: matches.filter((m) => m.Level === 'Error').map(line),
    warnings: matches.filter((m) => m.Level === 'Warning').map(line),
  };
}

export function cfnLintHome(env: NodeJS.ProcessEnv = process.env): string {
  const root =
    env.CONNECT_FN_CACHE_DIR ?? join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'connect-fn');
  return join(root, 'cfn-lint', CFN_LINT_VERSION);
}

/** The `cfn-lint` executable of the cached venv, made first when missing or broken. */
export async function ensureCfnLint(): Promise<string> {
  const home = cfnLintHome();
  const bin = join(home, 'bin', 'cfn-lint');
  if (await answers(bin)) return bin;
  await mkdir(dirname(home), { recursive: true });
  const lock = `${home}.lock`;
  await takeLock(lock);
  try {
    if (await answers(bin)) return bin; // another process finished it while we waited
    await install(home);
  } finally {
    await rmdir(lock).catch(() => {});
  }
  if (!(await answers(bin)))
    throw new Error(`cfn-lint ${CFN_LINT_VERSION} in ${home} does not run after installing it`);
  return bin;
}

async function answers(bin: string): Promise<boolean> {
  try {
    const { stdout } = await run(bin, ['--version']);
    return stdout.includes(CFN_LINT_VERSION);
  } catch {
    return false;
  }
}

async function install(home: string): Promise<void> {
  // A half-made venv (an install killed midway) is started over.
  await rm(home, { recursive: true, force: true });
  try {
    await run('python3', ['-m', 'venv', home]);
    const pip = [
      join(home, 'bin', 'python'),
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check'],
    ] as const;
    await run(pip[0], [...pip[1], `cfn-lint==${CFN_LINT_VERSION}`], { maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    await rm(home, { recursive: true, force: true });
    throw new Error(
      `installing cfn-lint ${CFN_LINT_VERSION} into ${home} failed (python3 -m venv, pip install)`,
      { cause: err },
    );
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
