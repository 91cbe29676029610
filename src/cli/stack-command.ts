/**
 * `connect-fn stack up|env|down`: a local Kafka + DynamoDB Local in the background, for running
 * connectors and tests by hand. Progress goes to stderr; stdout carries only the shell-exportable lines,
 * so this works:
 *
 * ```sh
 * export $(npx connect-fn stack up)   # KAFKA_BROKERS=127.0.0.1:NNNN, DYNAMODB_ENDPOINT=http://127.0.0.1:NNNN
 * npx connect-fn stack down
 * ```
 * (`eval "$(npx connect-fn stack up)"` works too, but sets shell variables that child processes only see
 * if they were exported before, or under `set -a`.)
 * @module
 */

import { boundText, ConnectFnError } from '../errors.ts';
import { envLines, isRunning, readState, stackDown, stackUp, stateDirFor } from '../stack/background.ts';
import { type CliIo, Exit } from './io.ts';

const USAGE = [
  'usage: connect-fn stack <command>',
  '',
  '  up [--db-path DIR]  start Kafka (KRaft) and DynamoDB Local in the background, or reuse the running',
  '                      ones, and print KAFKA_BROKERS=... and DYNAMODB_ENDPOINT=...',
  '                      (export $(npx connect-fn stack up) puts both in the environment)',
  '                      --db-path keeps DynamoDB tables in DIR instead of in memory',
  '  env                 print the two lines for the running stack again',
  '  down                stop the background stack and remove its temp files',
  '',
  'KAFKA_BROKERS / DYNAMODB_ENDPOINT, when set, are used instead of starting that service.',
  'The state file lives in <project>/.connect-fn/stack.json (CONNECT_FN_STATE_DIR overrides the dir).',
].join('\n');

/** A parsed command line, or the reason it could not be parsed. */
type StackArgs =
  | { readonly command: 'up'; readonly dbPath: string | undefined }
  | { readonly command: 'env' | 'down' | 'help' }
  | { readonly command: 'invalid'; readonly problem: string };

/** Parses `stack` arguments (without the leading `stack`). */
export function parseStackArgs(args: readonly string[]): StackArgs {
  const [command, ...rest] = args;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    return { command: 'help' };
  }
  if (command === 'env' || command === 'down') {
    return rest.length === 0
      ? { command }
      : { command: 'invalid', problem: `unexpected argument '${boundText(rest[0] ?? '')}'` };
  }
  if (command !== 'up') return { command: 'invalid', problem: `unknown command '${command}'` };
  let dbPath: string | undefined;
  for (let i = 0; i < rest.length; i += 1) {
    const arg = rest[i]!;
    if (arg === '--db-path' && rest[i + 1] !== undefined) {
      dbPath = rest[i + 1];
      i += 1;
    } else if (arg.startsWith('--db-path=') && arg.length > '--db-path='.length) {
      dbPath = arg.slice('--db-path='.length);
    } else {
      return {
        command: 'invalid',
        problem: `unexpected argument '${boundText(arg)}' (--db-path needs a DIR)`,
      };
    }
  }
  return { command: 'up', dbPath };
}

/**
 * Runs `connect-fn stack ...` and returns the exit code: 0 ok, 1 failure, 2 usage error.
 *
 * @example
 * ```ts
 * const code = await stackCommand(['up'], { out: console.log, err: console.error });
 * ```
 */
export async function stackCommand(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseStackArgs(args);
  if (parsed.command === 'invalid') {
    io.err(`connect-fn stack: ${parsed.problem}\n${USAGE}`);
    return Exit.usage;
  }
  if (parsed.command === 'help') {
    io.out(USAGE);
    return Exit.ok;
  }
  const stateDir = stateDirFor(process.env, process.cwd());
  try {
    if (parsed.command === 'up') return await runUp(stateDir, parsed.dbPath, io);
    if (parsed.command === 'env') return await runEnv(stateDir, io);
    return await runDown(stateDir, io);
  } catch (err) {
    return reportFailure(err, io);
  }
}

async function runUp(stateDir: string, dbPath: string | undefined, io: CliIo): Promise<number> {
  const { state } = await stackUp({ stateDir, env: process.env, dbPath, log: io.err });
  for (const line of envLines(state)) io.out(line);
  return Exit.ok;
}

async function runEnv(stateDir: string, io: CliIo): Promise<number> {
  const state = await readState(stateDir);
  if (state === undefined || !isRunning(state)) {
    io.err('no stack is running; start one with: export $(npx connect-fn stack up)');
    return Exit.failed;
  }
  for (const line of envLines(state)) io.out(line);
  return Exit.ok;
}

async function runDown(stateDir: string, io: CliIo): Promise<number> {
  const state = await stackDown(stateDir);
  if (state === undefined) {
    io.err('no stack running; nothing to stop');
    return Exit.ok;
  }
  const stopped = state.services.map((s) => `${s.name} (pid ${s.pid})`).join(', ');
  io.err(stopped === '' ? 'forgot the stack (it used external services only)' : `stopped ${stopped}`);
  io.err('if you exported its addresses: unset KAFKA_BROKERS DYNAMODB_ENDPOINT');
  return Exit.ok;
}

function reportFailure(err: unknown, io: CliIo): number {
  if (err instanceof ConnectFnError) {
    // StackError's message already ends with the log file paths.
    io.err(`connect-fn stack: ${err.message}`);
    return Exit.failed;
  }
  io.err(
    `connect-fn stack: unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
  );
  return Exit.failed;
}
