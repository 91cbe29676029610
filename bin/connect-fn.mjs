#!/usr/bin/env node
// The `connect-fn` command. The CLI is TypeScript run through tsx, so a checkout needs no build step
// between `npm ci` and the first command (tsx adds ~150 ms of start-up; the Lambda handlers are bundled
// by esbuild and never go through it).
import { register } from 'tsx/esm/api';

// `connect-fn validate bundle | head -1`: a reader that stops reading is not an error of ours. Ignore
// EPIPE (no stack trace, the command's own exit code stands); any other stream error is still thrown.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

// The AWS SDK warns on every run that it will drop Node 20. Functions run on nodejs22.x; locally Node 20 is
// supported, and the notice would bury the command's own output. Every other warning is shown.
const emitWarning = process.emitWarning;
process.emitWarning = function connectFnEmitWarning(warning, ...rest) {
  const type = typeof rest[0] === 'object' ? rest[0]?.type : rest[0];
  // Some SDK packages pass it as the type, others put it at the start of the message.
  const text = typeof warning === 'string' ? warning : `${warning?.name}: ${warning?.message}`;
  if (type === 'NodeVersionSupportWarning' || text.startsWith('NodeVersionSupportWarning')) return;
  return emitWarning.call(process, warning, ...rest);
};

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
// The command is done. A Kafka client still retrying a send that an invocation gave up on at its deadline
// may hold a socket open; a CLI must not hang on it. (stdout and stderr are synchronous for files and pipes
// on Linux, so nothing printed is lost.) The timer is unref'd: a process with nothing left exits at once.
setTimeout(() => process.exit(), 1_000).unref();
