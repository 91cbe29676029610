/**
 * cfn-lint (PyPI), pinned and installed by the project itself: a Python venv under
 * `~/.cache/connect-fn/cfn-lint/<version>/`, created once with `python3 -m venv` + `pip install` and reused
 * (as the local stack caches its Maven jars in `~/.m2`). Both IaC paths lint their templates through it.
 *
 * @example
 * ```sh
 * npx tsx infra/tools/cfn-lint.ts cdk.out/connect-fn.template.json   # installs on first use, then lints
 * npx tsx infra/tools/cfn-lint.ts                                     # installs only (CI cache warm-up)
 * ```
 * @module
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The cfn-lint release the project tests against (1.x: the rewritten, schema-driven linter). */
export const CFN_LINT_VERSION = '1.58.0';

/** Where the venv of `version` lives. */
export function cfnLintHome(version = CFN_LINT_VERSION): string {
  return join(homedir(), '.cache', 'connect-fn', 'cfn-lint', version);
}

/** The `cfn-lint` executable, installing it first when the cache does not hold it. */
export async function ensureCfnLint(version = CFN_LINT_VERSION): Promise<string> {
  const home = cfnLintHome(version);
  const bin = join(home, 'bin', 'cfn-lint');
  if (existsSync(bin)) return bin;
  // A half-made venv (an install killed midway) has no bin/cfn-lint: start it over.
  await rm(home, { recursive: true, force: true });
  await mkdir(home, { recursive: true });
  try {
    await run('python3', ['-m', 'venv', home]);
    await run(
      join(home, 'bin', 'pip'),
      ['install', '--quiet', '--disable-pip-version-check', `cfn-lint==${version}`],
      {
        maxBuffer: 16 * 1024 * 1024,
      },
    );
  } catch (err) {
    await rm(home, { recursive: true, force: true });
    throw new Error(`installing cfn-lint ${version} into ${home} failed (python3 -m venv, pip install)`, {
      cause: err,
    });
  }
  return bin;
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
