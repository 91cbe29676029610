/**
 * No output ever holds a secret, wherever the bundle puts it (issue 10, defect 3). Generated bundles —
 * a worker file and connector files, `.properties` or `.json` — carry secrets in random places: values of
 * secret keys, provider references resolved from env, file and dir providers, lines joined to the key
 * before them by a stray `\` at a line's end, invalid values of non-secret keys and unknown keys that
 * hold a secret of the bundle. Every output path is run and searched for every secret: inspectBundle's
 * and loadBundle's problems and warnings, `connect-fn validate` as text and `--json`, logger lines, `run`
 * summaries (text and JSON) and the CLI's error output.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeCliError } from '../../../src/cli/cli-error.ts';
import { showSummary } from '../../../src/cli/run-command.ts';
import { inspectBundle, loadBundle } from '../../../src/config/bundle.ts';
import { builtinRegistry } from '../../../src/connectors/builtins.ts';
import { ConfigInvalidError, ConversionError, formatProblem } from '../../../src/errors.ts';
import { checkClientOverrides, checkKafkaClientConfig } from '../../../src/kafka/index.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import type { InvocationSummary } from '../../../src/runtime/summary.ts';
import { writeBundle } from '../../support/bundle-fixture.ts';
import { runValidate, testEnv } from '../../support/cli.ts';

/** One key of a file; `joined` is the next line, swallowed into this value by a stray trailing `\`. */
interface Entry {
  readonly key: string;
  readonly value: string;
  /** The index of the secret this entry holds. */
  readonly owner?: number;
  readonly joined?: { readonly key: string; readonly value: string };
}

interface FileModel {
  readonly format: 'properties' | 'json';
  readonly entries: Map<string, Entry>;
}

interface BundleModel {
  readonly worker: FileModel;
  readonly connectors: FileModel[];
  /** Extra files (provider sources), path → content. */
  readonly files: Record<string, string>;
  readonly env: Record<string, string>;
  /** The secrets the bundle holds, by index; a later placement may overwrite an earlier one's key. */
  readonly secrets: Map<number, string>;
  /** Text a client library could echo: the values the secrets ended up in, as parsed, by secret. */
  readonly echoes: Map<number, string>;
}

const JAAS_PLAIN = 'org.apache.kafka.common.security.plain.PlainLoginModule';

/** `secret` inside a JAAS line, escaped as JAAS quoting wants. */
function jaas(secret: string): string {
  return `${JAAS_PLAIN} required username="svc" password="${secret.replace(/[\\"]/g, (c) => `\\${c}`)}";`;
}

/** A `.properties` value: backslashes escaped, a leading blank kept. */
function propertiesValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/^[ \t]/, (c) => `\\${c}`);
}

/** The value a parser sees for `entry`: a joined line becomes part of it (`1000` + `key=value`). */
function parsedValue(entry: Entry): string {
  return entry.joined === undefined ? entry.value : `${entry.value}${entry.joined.key}=${entry.joined.value}`;
}

function renderFile(file: FileModel): string {
  const entries = [...file.entries.values()];
  if (file.format === 'json') {
    // JSON has no line continuation: the value holds what the joined line would have become.
    return JSON.stringify(Object.fromEntries(entries.map((e) => [e.key, parsedValue(e)])), null, 2);
  }
  return entries
    .map((e) => {
      const line = `${e.key}=${propertiesValue(e.value)}`;
      // The stray `\`: the value's own backslashes are escaped, so this one continues the line.
      return e.joined === undefined ? line : `${line}\\\n${e.joined.key}=${propertiesValue(e.joined.value)}`;
    })
    .join('\n')
    .concat('\n');
}

/** Secrets: long enough never to occur by chance, now and then with a quote, a backslash or a blank. */
const secretArb = fc
  .string({
    unit: fc.oneof(
      {
        arbitrary: fc.constantFrom(...'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789-_.+@%!~*'),
        weight: 30,
      },
      { arbitrary: fc.constantFrom('"', '\\', ' ', '#', '=', ':', 'é'), weight: 1 },
    ),
    minLength: 10,
    maxLength: 24,
  })
  .filter((s) => /^\S/.test(s) && /\S$/.test(s));

type Where = 'worker' | number;

/** Where one secret goes, and how. */
const placementArb = fc.oneof(
  // The value of a secret key (by name or by schema), literal.
  fc.record({
    kind: fc.constant('secret-key' as const),
    where: fc.constantFrom<Where>('worker', 0, 1),
    key: fc.constantFrom(
      'ssl.key.password',
      'sasl.jaas.config',
      'my.api.token',
      'consumer.override.sasl.jaas.config',
    ),
  }),
  // A provider reference, resolved from env, a file or a dir, under a secret or a non-secret key.
  fc.record({
    kind: fc.constant('provider' as const),
    where: fc.constantFrom<Where>('worker', 0, 1),
    provider: fc.constantFrom('env', 'file', 'dir'),
    key: fc.constantFrom('topic', 'tasks.max', 'batch.size', 'x.custom', 'ssl.key.password'),
  }),
  // A stray `\` joins the next line, which holds the secret, into a non-secret key's value.
  fc.record({
    kind: fc.constant('joined' as const),
    where: fc.constantFrom<Where>('worker', 0, 1),
    before: fc.constantFrom(
      ['offset.flush.interval.ms', '1000'],
      ['tasks.max', '1'],
      ['topic', 't'],
      ['file', '/tmp/in.txt'],
      ['batch.size', '100'],
    ),
    joinedKey: fc.constantFrom(
      'sasl.jaas.config',
      'ssl.key.password',
      'aws.secret.access.key',
      'consumer.override.sasl.jaas.config',
    ),
  }),
  // A secret of the bundle (the value of a secret key in the worker or the same file) copied into an
  // invalid value of a non-secret key, or into an unknown key.
  fc.record({
    kind: fc.constant('copied' as const),
    where: fc.constantFrom(0, 1),
    holder: fc.constantFrom<'worker' | 'same'>('worker', 'same'),
    into: fc.constantFrom('tasks.max', 'batch.size', 'errors.tolerance', 'some.unknown.setting', 'topik'),
  }),
);

const bundleArb = fc.record({
  workerFormat: fc.constantFrom('properties' as const, 'json' as const),
  connectorFormats: fc.array(fc.constantFrom('properties' as const, 'json' as const), {
    minLength: 1,
    maxLength: 2,
  }),
  placed: fc.array(fc.tuple(secretArb, placementArb), { minLength: 1, maxLength: 4 }),
});

type BundleSpec = typeof bundleArb extends fc.Arbitrary<infer T> ? T : never;

let run = 0;

/** The bundle a generated case describes; its secrets are the values of `placed`. */
function buildModel(spec: BundleSpec): BundleModel {
  const tag = `${process.pid}_${++run}`;
  const worker: FileModel = {
    format: spec.workerFormat,
    entries: new Map([['bootstrap.servers', { key: 'bootstrap.servers', value: '127.0.0.1:1' }]]),
  };
  const connectors: FileModel[] = spec.connectorFormats.map((format, i) => ({
    format,
    entries: new Map(
      [
        ['name', `c${i}`],
        ['connector.class', 'FileStreamSource'],
        ['file', '/tmp/in.txt'],
        ['topic', 't'],
      ].map(([key, value]) => [key as string, { key: key as string, value: value as string }]),
    ),
  }));
  const model: BundleModel = {
    worker,
    connectors,
    files: {},
    env: {},
    secrets: new Map(),
    echoes: new Map(),
  };
  const fileOf = (where: Where) =>
    (where === 'worker' ? worker : (connectors[where] ?? connectors[0])) as FileModel;
  const set = (file: FileModel, entry: Entry) => {
    const overwritten = file.entries.get(entry.key)?.owner;
    if (overwritten !== undefined) {
      // That secret is no longer in the bundle: nothing can know it, and it is not the bundle's to hide.
      model.secrets.delete(overwritten);
      model.echoes.delete(overwritten);
    }
    file.entries.delete(entry.key);
    file.entries.set(entry.key, entry);
  };
  spec.placed.forEach(([secret, p], i) => {
    const file = fileOf(p.where);
    model.secrets.set(i, secret);
    switch (p.kind) {
      case 'secret-key': {
        const value = p.key.endsWith('jaas.config') ? jaas(secret) : secret;
        set(file, { key: p.key, value, owner: i });
        model.echoes.set(i, value);
        break;
      }
      case 'provider': {
        const ref =
          p.provider === 'env'
            ? `\${env:CFN_SECRET_${tag}_${i}}`
            : p.provider === 'file'
              ? `\${file:secrets/p${i}.properties:k}`
              : `\${dir:secrets:f${i}}`;
        if (p.provider === 'env') model.env[`CFN_SECRET_${tag}_${i}`] = secret;
        else if (p.provider === 'file')
          model.files[`secrets/p${i}.properties`] = `k=${propertiesValue(secret)}\n`;
        else model.files[`secrets/f${i}`] = secret;
        set(file, { key: p.key, value: ref, owner: i });
        model.echoes.set(i, secret);
        break;
      }
      case 'joined': {
        const [key, value] = p.before as [string, string];
        const joinedValue = p.joinedKey.endsWith('jaas.config') ? jaas(secret) : secret;
        const entry = { key, value, joined: { key: p.joinedKey, value: joinedValue }, owner: i };
        set(file, entry);
        model.echoes.set(i, parsedValue(entry));
        break;
      }
      case 'copied': {
        const holder = p.holder === 'worker' ? worker : file;
        set(holder, { key: `held${i}.password`, value: secret, owner: i });
        const value = p.into === 'tasks.max' ? `7${secret}` : secret;
        set(file, { key: p.into, value, owner: i });
        model.echoes.set(i, value);
        break;
      }
    }
  });
  return model;
}

function writeModel(model: BundleModel): string {
  const files: Record<string, string> = { ...model.files };
  files[`worker.${model.worker.format}`] = renderFile(model.worker);
  model.connectors.forEach((c, i) => {
    files[`connectors/c${i}.${c.format}`] = renderFile(c);
  });
  return writeBundle(files);
}

/** The forms a secret could be printed in: as is, JSON-escaped, JAAS-escaped. */
function forms(secret: string): string[] {
  const json = JSON.stringify(secret).slice(1, -1);
  const jaasEscaped = secret.replace(/[\\"]/g, (c) => `\\${c}`);
  return [...new Set([secret, json, jaasEscaped, JSON.stringify(jaasEscaped).slice(1, -1)])];
}

const options = (env: Record<string, string>) => ({
  registry: builtinRegistry(),
  env,
  workerChecks: [(w: Parameters<typeof checkKafkaClientConfig>[0]) => checkKafkaClientConfig(w, { env })],
  connectorChecks: [
    (
      w: Parameters<typeof checkClientOverrides>[0],
      c: { overrides: Parameters<typeof checkClientOverrides>[1]; file: string },
    ) => checkClientOverrides(w, c.overrides, c.file, { env }),
  ],
});

/** Every output connect-fn can produce for the bundle in `dir`, as labelled text. */
async function everyOutput(dir: string, model: BundleModel): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  testEnv(model.env);
  const inspection = inspectBundle(dir, options(model.env));
  out.inspect = JSON.stringify({ problems: inspection.problems, warnings: inspection.warnings });
  out.inspectLines = [...inspection.problems, ...inspection.warnings].map(formatProblem).join('\n');
  let loadError: unknown;
  try {
    loadBundle(dir, options(model.env));
  } catch (err) {
    loadError = err;
    out.loadBundle = err instanceof ConfigInvalidError ? err.message : String(err);
  }
  out.validate = (await runValidate(dir)).all;
  out.validateJson = (await runValidate(dir, '--json')).all;

  // The logger of a function of this bundle, given what a cold start, a client library and a cycle log.
  const redactor = inspection.bundle?.redactor ?? inspection.redactor;
  const lines: string[] = [];
  const logger = createLogger({ env: {}, sink: (l) => lines.push(l), redact: (v) => redactor.deep(v) });
  for (const p of [...inspection.problems, ...inspection.warnings])
    logger.warn('configuration problem', { ...p });
  if (loadError !== undefined) logger.error('cold start failed', loadError as Error);
  for (const echo of model.echoes.values()) {
    logger.error('client failed', new Error(`the broker refused ${echo}`));
    logger.warn('setting', { setting: echo, nested: { values: [echo] } });
    logger.info(`value ${echo}`);
  }
  for (const c of inspection.bundle?.connectors ?? [])
    logger.info('connector', { config: c.config, common: c.common });
  if (inspection.bundle !== undefined) logger.info('worker', { values: inspection.bundle.worker.values });
  out.logs = lines.join('');

  // What `run` prints: summaries (a file source commits its file name; a failure carries a message) and
  // the CLI's error line.
  const summaries: string[] = [];
  const files = (inspection.bundle?.connectors ?? []).map((c) => String(c.config.file));
  for (const echo of [...model.echoes.values(), ...files]) {
    const summary: InvocationSummary = {
      connector: 'c0',
      task: 0,
      kind: 'source',
      records: 1,
      bytes: 1,
      batches: 1,
      durationMs: 1,
      stopReason: 'error',
      committed: [{ partition: { filename: echo }, offset: { position: 1 } }],
      error: { code: 'CONNECT_FN_CONVERSION', message: `cannot read ${echo}`, retriable: false },
    };
    summaries.push(showSummary(1, summary, redactor, false), showSummary(1, summary, redactor, true));
    summaries.push(describeCliError(new ConversionError(`cannot convert ${echo}`), redactor).text);
    summaries.push(describeCliError(new TypeError(`bad ${echo}`), redactor).text);
  }
  out.run = summaries.join('\n');
  return out;
}

async function expectNoSecret(model: BundleModel, secrets: readonly string[]): Promise<void> {
  const outputs = await everyOutput(writeModel(model), model);
  for (const secret of secrets) {
    for (const form of forms(secret)) {
      for (const [path, text] of Object.entries(outputs)) {
        if (text.includes(form)) {
          throw new Error(`${path} shows the secret ${JSON.stringify(form)}:\n${text.slice(0, 2000)}`);
        }
      }
    }
  }
}

describe('no output shows a secret, wherever the bundle holds it', () => {
  it("hides a JAAS password joined into offset.flush.interval.ms by a stray backslash (the issue's case)", async () => {
    const dir = writeBundle({
      'worker.properties': `bootstrap.servers=127.0.0.1:1\noffset.flush.interval.ms=1000\\\nsasl.jaas.config=${jaas('Sup3r-Secret-Pw')}\n`,
      'connectors/a.properties': 'name=a\nconnector.class=FileStreamSource\nfile=/tmp/in.txt\ntopic=t\n',
    });
    const r = await runValidate(dir);
    expect(r.code).toBe(1);
    expect(r.out).toEqual([
      'worker.properties:2: offset.flush.interval.ms: an integer from 0 to 9007199254740991 (2^53 - 1 is the largest integer connect-fn holds exactly) (got [hidden])',
    ]);
    const json = await runValidate(dir, '--json');
    expect(json.all).not.toContain('Sup3r-Secret-Pw');
  });

  it('in problems, warnings, validate text and --json, logs, run summaries and CLI errors (property)', async () => {
    await fc.assert(
      fc.asyncProperty(bundleArb, async (spec) => {
        const model = buildModel(spec);
        await expectNoSecret(model, [...model.secrets.values()]);
      }),
      { numRuns: 150 },
    );
  });
});
