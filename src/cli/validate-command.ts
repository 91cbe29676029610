/**
 * `connect-fn validate <bundle> [--json]`: exit 0 with one line per connector when the bundle is valid;
 * exit 1 listing every problem, one per line, as `<file>[:line]: <key>: <expected> (got <value>)`; exit 2
 * for usage errors. Secret values are never printed. The worker's Kafka client settings are checked by the
 * Kafka layer, as a cold start checks them (a composition root may import both).
 * @module
 */
import { inspectBundle } from '../config/bundle.ts';
import type { ConnectorConfig } from '../config/connector-config.ts';
import type { Redactor } from '../config/redaction.ts';
import type { Registry } from '../config/registry.ts';
import { boundProblem, boundText, formatProblem, UsageError } from '../errors.ts';
import { checkClientOverrides, checkKafkaClientConfig } from '../kafka/index.ts';
import { type CliIo, checkBundleDir, Exit } from './io.ts';

export const VALIDATE_USAGE = 'usage: connect-fn validate <bundle-dir> [--json]';

function parseArgs(args: readonly string[]): { dir: string; json: boolean } {
  const flags = args.filter((a) => a.startsWith('-'));
  const positional = args.filter((a) => !a.startsWith('-'));
  const unknown = flags.filter((f) => f !== '--json');
  if (unknown.length > 0)
    throw new UsageError(`unknown option ${boundText(unknown[0] ?? '')}\n${VALIDATE_USAGE}`);
  if (positional.length !== 1) throw new UsageError(`expected one bundle directory\n${VALIDATE_USAGE}`);
  const dir = positional[0] as string;
  checkBundleDir(dir, VALIDATE_USAGE);
  return { dir, json: flags.includes('--json') };
}

/** What `validate` shows of a connector: each value through the redactor, by its key. */
function summary(c: ConnectorConfig, redactor: Redactor) {
  const show = (key: string, value: string) => redactor.show(key, value);
  return {
    name: show('name', c.name),
    file: c.file,
    class: show('connector.class', c.className),
    plugin: c.plugin,
    kind: c.kind,
    tasksMax: show('tasks.max', String(c.common['tasks.max'])),
    trigger: c.kind === 'sink' ? show('trigger', c.common.trigger) : 'schedule',
    schedule: show('schedule', c.common.schedule.expression),
  };
}

function describe(c: ConnectorConfig, redactor: Redactor): string {
  const s = summary(c, redactor);
  const how = s.trigger === 'kafka' ? 'trigger=kafka' : `schedule=${s.schedule}`;
  return `${s.name}  class=${s.class}  kind=${s.kind}  tasks.max=${s.tasksMax}  ${how}`;
}

/** Runs `validate`; returns the exit code. */
export function validateCommand(args: readonly string[], io: CliIo, registry: Registry): number {
  const { dir, json } = parseArgs(args);
  const result = inspectBundle(dir, {
    registry,
    workerChecks: [(w) => checkKafkaClientConfig(w)],
    connectorChecks: [(w, c) => checkClientOverrides(w, c.overrides, c.file)],
  });
  // Problems and warnings come redacted from inspectBundle; connector summaries are redacted field by
  // field. Never search-and-replace in the serialised text: JSON escaping would hide a secret from it.
  const warnings = result.warnings.map(formatProblem);
  if (json) {
    const body =
      result.bundle === undefined
        ? { valid: false, problems: result.problems.map(boundProblem), warnings }
        : {
            valid: true,
            connectors: result.bundle.connectors.map((c) => summary(c, result.redactor)),
            warnings,
          };
    io.out(JSON.stringify(body));
    return result.bundle === undefined ? Exit.failed : Exit.ok;
  }
  for (const w of warnings) io.err(`warning: ${w}`);
  if (result.bundle === undefined) {
    for (const p of result.problems) io.out(formatProblem(p));
    const n = result.problems.length;
    io.err(`${dir}: ${n} problem${n === 1 ? '' : 's'}`);
    return Exit.failed;
  }
  for (const c of result.bundle.connectors) io.out(describe(c, result.redactor));
  return Exit.ok;
}
