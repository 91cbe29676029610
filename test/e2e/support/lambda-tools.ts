/**
 * The two programs that run a packaged function the way Lambda runs it, installed by the project itself
 * and cached per version (like the stack's Maven jars in ~/.m2):
 * - AWS's Lambda Runtime Interface Emulator (`aws-lambda-rie`, Go), built with `go install` through the
 *   Go module proxy into `<cache>/aws-lambda-rie/<version>/` (~30 s the first time);
 * - AWS's Node.js runtime interface client (npm `aws-lambda-ric`), whose install compiles curl,
 *   aws-lambda-cpp and a native addon (1-4 min on 2 cores), into `<cache>/aws-lambda-ric/<version>/`.
 *
 * What the installs need on the machine: Go, and npm with cmake, make and a C++ compiler.
 * `<cache>` is `$CONNECT_FN_CACHE_DIR`, else `$XDG_CACHE_HOME/connect-fn` or `~/.cache/connect-fn`. Each
 * install goes to a temporary directory beside its target and is renamed into place only once it is
 * complete and checked, so an interrupted install is never taken for a finished one.
 * @module
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';

/** A pseudo-version the Go module proxy serves (the module has no tagged release there). */
export const RIE_VERSION = 'v0.0.0-20261030222936-bef5c4ba774d';
const RIE_MODULE = 'github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie';
/**
 * 4.0.2 declares `engines: node >= 22`; it installs and runs on Node 20 (its addon uses N-API, and its
 * JavaScript nothing newer), which is what this repository runs on until it moves to 22.
 */
export const RIC_VERSION = '4.0.2';

/** Where the installed programs are. */
export interface LambdaTools {
  /** The `aws-lambda-rie` executable. */
  readonly rie: string;
  /** The `aws-lambda-ric` executable (the runtime the emulator starts). */
  readonly ric: string;
}

type Log = (line: string) => void;

/** The cache root of connect-fn's tools (env `CONNECT_FN_CACHE_DIR` wins). */
export function toolCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CONNECT_FN_CACHE_DIR) return env.CONNECT_FN_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'connect-fn');
}

/** Both programs, installed first where missing (the two installs run side by side). */
export async function ensureLambdaTools(log: Log, root = toolCacheRoot()): Promise<LambdaTools> {
  const [rie, ric] = await Promise.all([ensureRie(log, root), ensureRic(log, root)]);
  return { rie, ric };
}

/** The emulator's executable, built with `go install` on first use. */
export async function ensureRie(log: Log, root = toolCacheRoot()): Promise<string> {
  const dir = join(root, 'aws-lambda-rie', RIE_VERSION);
  const exe = join(dir, 'aws-lambda-rie');
  if (existsSync(exe)) return exe;
  await installAtomically(dir, 'aws-lambda-rie', log, async (tmp) => {
    await run('go', ['install', `${RIE_MODULE}@${RIE_VERSION}`], {
      cwd: tmp,
      env: { ...process.env, GOBIN: tmp },
      log: join(tmp, 'install.log'),
      progress: (line) => /^go: downloading/.test(line) && log(`aws-lambda-rie: ${line}`),
    });
    if (!existsSync(join(tmp, 'aws-lambda-rie'))) throw new Error('go install built no aws-lambda-rie');
  });
  return exe;
}

/** The runtime interface client's executable, installed with npm (compiling its addon) on first use. */
export async function ensureRic(log: Log, root = toolCacheRoot()): Promise<string> {
  const dir = join(root, 'aws-lambda-ric', RIC_VERSION);
  const exe = join(dir, 'node_modules', '.bin', 'aws-lambda-ric');
  if (existsSync(exe)) return exe;
  await installAtomically(
    dir,
    `aws-lambda-ric ${RIC_VERSION} (compiles a native addon: minutes)`,
    log,
    async (tmp) => {
      // A package of its own, so that npm's install-script policy (npm 11 `allowScripts`) names the one
      // package whose preinstall/postinstall build must run, and nothing reaches the repository's node_modules.
      const manifest = {
        name: 'connect-fn-aws-lambda-ric',
        private: true,
        dependencies: { 'aws-lambda-ric': RIC_VERSION },
        allowScripts: { 'aws-lambda-ric': true },
      };
      await writeFile(join(tmp, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
      await run('npm', ['install', '--no-audit', '--no-fund', '--foreground-scripts', '--no-package-lock'], {
        cwd: tmp,
        env: { ...process.env, ...nodeHeaders() },
        log: join(tmp, 'install.log'),
        progress: (line) =>
          /^(Building|Extracting|Using cmake|rapid-client\.node|added \d+)/.test(line) &&
          log(`aws-lambda-ric: ${line}`),
      });
      const addon = join(tmp, 'node_modules', 'aws-lambda-ric', 'rapid-client.node');
      if (!existsSync(addon)) throw new Error(`npm install finished without ${addon}`);
    },
  );
  return exe;
}

/**
 * node-gyp compiles against the headers of the Node that runs it when they are installed beside it (a
 * system Node has them in /usr/include/node): it would otherwise download them, which needs nodejs.org.
 */
function nodeHeaders(): Record<string, string> {
  const prefix = dirname(dirname(process.execPath));
  return existsSync(join(prefix, 'include', 'node', 'node.h')) ? { npm_config_nodedir: prefix } : {};
}

/**
 * Runs `install(tmp)` in a fresh directory beside `dir`, then renames it to `dir`. Another process that
 * finished first wins the rename; its copy is used and ours removed. A failure removes the temporary
 * directory after copying its log next to the cache (named in the error).
 */
async function installAtomically(
  dir: string,
  what: string,
  log: Log,
  install: (tmp: string) => Promise<void>,
): Promise<void> {
  const tmp = `${dir}.installing-${process.pid}-${randomBytes(4).toString('hex')}`;
  await mkdir(tmp, { recursive: true });
  const startedMs = Date.now();
  log(`installing ${what} into ${dir}`);
  try {
    await install(tmp);
    await rename(tmp, dir).catch(async (err: NodeJS.ErrnoException) => {
      if (!existsSync(dir)) throw err;
      await rm(tmp, { recursive: true, force: true });
    });
  } catch (err) {
    const failedLog = `${dir}.failed.log`;
    await rename(join(tmp, 'install.log'), failedLog).catch(() => undefined);
    await rm(tmp, { recursive: true, force: true });
    throw new Error(`installing ${what} failed (output in ${failedLog}): ${(err as Error).message}`, {
      cause: err,
    });
  }
  log(`installed ${what} in ${((Date.now() - startedMs) / 1000).toFixed(1)} s`);
}

interface RunOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Every line of output goes to this file. */
  readonly log: string;
  /** Called with each line of output; reports the lines that show progress. */
  readonly progress: (line: string) => unknown;
}

/** Runs `command`; resolves when it exits 0, rejects with its exit code otherwise. */
function run(command: string, args: readonly string[], options: RunOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const file = createWriteStream(options.log);
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        file.write(`${line}\n`);
        options.progress(line.trim());
      });
    }
    child.on('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' ? new Error(`${command} is not installed (not on PATH)`) : err),
    );
    child.on('close', (code, signal) => {
      file.end(() =>
        code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited ${code ?? signal}`)),
      );
    });
  });
}
