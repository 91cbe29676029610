/**
 * Runs `osls package` on the repository's serverless.yml, the way a user does, for a package directory and
 * deployment parameters: offline, with no AWS credentials (the child gets no AWS_* variables), into
 * `outDir`. Returns what osls printed and the CloudFormation template it wrote.
 *
 * osls builds in `<service dir>/.serverless/` before it moves the result to `--package`, so two runs in one
 * service directory overwrite each other: each run gets its own service directory in `outDir`'s parent,
 * holding a copy of serverless.yml and a link to `infra/`.
 * @module
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const OSLS = join(REPO, 'node_modules', 'osls', 'bin', 'serverless.js');

export interface CfnTemplate {
  readonly Resources: Readonly<
    Record<
      string,
      {
        readonly Type: string;
        readonly Properties?: Record<string, unknown>;
        readonly [key: string]: unknown;
      }
    >
  >;
}

export interface OslsPackage {
  /** stdout and stderr of the run. */
  readonly output: string;
  readonly templatePath: string;
  readonly template: CfnTemplate;
}

export class OslsFailed extends Error {
  constructor(readonly output: string) {
    super(`osls package failed:\n${output}`);
  }
}

export async function oslsPackage(
  packageDir: string,
  params: Readonly<Record<string, string>>,
  outDir: string,
): Promise<OslsPackage> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && k !== 'CONNECT_FN_PACKAGE_DIR'),
  );
  const args = [OSLS, 'package', '--package', outDir, `--param=package=${packageDir}`];
  for (const [name, value] of Object.entries(params)) args.push(`--param=${name}=${value}`);
  const serviceDir = await mkdtemp(join(dirname(outDir), 'service-'));
  await copyFile(join(REPO, 'serverless.yml'), join(serviceDir, 'serverless.yml'));
  await symlink(join(REPO, 'infra'), join(serviceDir, 'infra'));
  let output: string;
  try {
    const { stdout, stderr } = await run(process.execPath, args, {
      cwd: serviceDir,
      env: { ...env, NO_COLOR: '1' },
    });
    output = stdout + stderr;
  } catch (err) {
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
    throw new OslsFailed(stdout + stderr);
  } finally {
    await rm(serviceDir, { recursive: true, force: true });
  }
  const templatePath = join(outDir, 'cloudformation-template-update-stack.json');
  return { output, templatePath, template: JSON.parse(await readFile(templatePath, 'utf8')) as CfnTemplate };
}
