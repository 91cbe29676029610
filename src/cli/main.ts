/**
 * The `connect-fn` command: a composition root that wires the built-in registry into the commands.
 * @module
 */
import { fileURLToPath } from 'node:url';
import { builtinRegistry } from '../connectors/builtins.ts';
import { boundText, UsageError } from '../errors.ts';
import { describeCliError } from './cli-error.ts';
import { DOCS_USAGE, docsCommand } from './docs-command.ts';
import { type CliIo, Exit, processIo } from './io.ts';
import { PACKAGE_USAGE, packageCommand } from './package-command.ts';
import { quickstartCommand } from './quickstart-command.ts';
import { RUN_USAGE, runCommand } from './run-command.ts';
import { stackCommand } from './stack-command.ts';
import { VALIDATE_USAGE, validateCommand } from './validate-command.ts';

/** The checkout this command runs from (examples/ lives there). */
const ROOT_DIR = fileURLToPath(new URL('../..', import.meta.url));

const USAGE = [
  'usage: connect-fn <command> [args]',
  '',
  'commands:',
  `  ${VALIDATE_USAGE.replace('usage: connect-fn ', '')}`,
  '      check a configuration bundle; lists every problem',
  `  ${RUN_USAGE.replace('usage: connect-fn ', '')}`,
  '      run a connector function in-process against Kafka, one line per invocation',
  `  ${PACKAGE_USAGE.replace('usage: connect-fn ', '')}`,
  '      build one deployable zip and manifest.json per connector (default --out dist)',
  '  quickstart',
  '      start a local stack, run examples/quickstart until idle, check the topic and offsets (npm start)',
  '  stack up [--db-path DIR] | stack env | stack down',
  '      a local Kafka broker and DynamoDB Local (prints KAFKA_BROKERS=... and DYNAMODB_ENDPOINT=...)',
  `  ${DOCS_USAGE.replace('usage: connect-fn ', '')}`,
  '      the configuration reference, generated from the schemas',
].join('\n');

/** Runs the command line `argv` (without `node` and the script); returns the exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case 'validate':
        return validateCommand(args, io, builtinRegistry());
      case 'package':
        return await packageCommand(args, io, builtinRegistry());
      case 'stack':
        return await stackCommand(args, io);
      case 'run':
        return await runCommand(args, io);
      case 'quickstart':
        return await quickstartCommand(io, ROOT_DIR);
      case 'docs':
        return docsCommand(args, io, builtinRegistry());
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE);
        return command === undefined ? Exit.usage : Exit.ok;
      default:
        throw new UsageError(`unknown command ${boundText(command)}\n${USAGE}`);
    }
  } catch (err) {
    // Every error, ours or a bug's, is printed redacted; none escapes as an uncaught stack trace.
    const { text, code } = describeCliError(err);
    io.err(text);
    return code;
  }
}
