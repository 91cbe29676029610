import { describe, expect, it } from 'vitest';
import { inspectBundle, type WorkerCheck } from '../../../src/config/bundle.ts';
import { k } from '../../../src/config/keys.ts';
import { isStructuralKey, LITERAL_EXPECTED } from '../../../src/config/providers.ts';
import { Registry } from '../../../src/config/registry.ts';
import { fileSinkDef, fileSourceDef } from '../../../src/connectors/file/config.ts';
import { converterDefs } from '../../../src/data/converter-configs.ts';
import { formatProblem } from '../../../src/errors.ts';
import { sourceProps, writeBundle } from '../../support/bundle-fixture.ts';

/** The built-in connectors and converters, plus a transformation and a predicate to chain. */
function registry(): Registry {
  const r = new Registry().connector(fileSourceDef).connector(fileSinkDef);
  for (const def of converterDefs) r.converter(def);
  r.transformation({
    name: 'mask',
    aliases: ['org.apache.kafka.connect.transforms.MaskField$Value'],
    doc: 'test transformation',
    schema: {
      keys: { fields: k.list('fields', { default: '' }), replacement: k.string('r', { default: '' }) },
    },
  });
  r.predicate({ name: 'tombstone', aliases: [], doc: 'test predicate', schema: { keys: {} } });
  return r.freeze();
}

const SECRET = 'Struct-Secret-Value';

function inspect(files: Record<string, string>, extra: Partial<Parameters<typeof inspectBundle>[1]> = {}) {
  const result = inspectBundle(writeBundle(files), { registry: registry(), env: { S: SECRET }, ...extra });
  return { ...result, lines: result.problems.map(formatProblem) };
}

describe('structural keys are literals', () => {
  const chain =
    'transforms=m\ntransforms.m.type=mask\ntransforms.m.predicate=p\npredicates=p\npredicates.p.type=tombstone\n';

  it('accepts the chain written literally', () => {
    expect(inspect({ 'connectors/a.properties': sourceProps(chain, 'a') }).problems).toEqual([]);
  });

  for (const key of [
    'name',
    'connector.class',
    'transforms',
    'predicates',
    'transforms.m.type',
    'predicates.p.type',
    'transforms.m.predicate',
    'transforms.m.negate',
    'key.converter',
    'value.converter',
    'header.converter',
  ]) {
    it(`refuses a reference in ${key}, with that one problem and no secret anywhere`, () => {
      const lines = sourceProps(chain, 'a').split('\n');
      const at = lines.findIndex((l) => l.startsWith(`${key}=`));
      if (at >= 0) lines[at] = `${key}=\${env:S}`;
      else lines.push(`${key}=\${env:S}`);
      const line = (at >= 0 ? at : lines.length - 1) + 1;
      const r = inspect({ 'connectors/a.properties': lines.join('\n') });
      expect(r.lines).toEqual([
        `connectors/a.properties:${line}: ${key}: ${LITERAL_EXPECTED} (got \${env:S})`,
      ]);
      expect(JSON.stringify(r)).not.toContain(SECRET);
      expect(r.redactor.isSecretKey(key)).toBe(false);
    });
  }

  it('knows which keys are structural, and that plugin keys ending in .type are not', () => {
    for (const key of [
      'config.providers',
      'config.providers.f.class',
      'transforms.a.negate',
      'predicates..type',
    ])
      expect(isStructuralKey(key), key).toBe(true);
    for (const key of [
      'transforms.a.field.type',
      'predicates.p.negate',
      'topic',
      'key.converter.schemas.enable',
    ])
      expect(isStructuralKey(key), key).toBe(false);
  });

  it('refuses a reference in config.providers itself: no provider exists, and each reference says why', () => {
    const r = inspect({
      'worker.properties': 'config.providers=${env:S}\n',
      'connectors/a.properties': sourceProps('topic=${env:S}\n'),
    });
    expect(r.lines).toEqual([
      `worker.properties:1: config.providers: ${LITERAL_EXPECTED} (got \${env:S})`,
      "connectors/a.properties:5: topic: a value from config provider 'env' (got none: config.providers has problems)",
    ]);
    expect(JSON.stringify(r)).not.toContain(SECRET);
  });

  it('leaves a config.providers key in a connector file unresolved, an unknown key like any other', () => {
    const r = inspect({ 'connectors/a.properties': sourceProps('config.providers.x.class=${env:S}\n') });
    expect(r.lines).toEqual([
      expect.stringMatching(/^connectors\/a\.properties:5: config\.providers\.x\.class: unknown key/),
    ]);
  });
});

describe('worker checks', () => {
  const kafkaLike: WorkerCheck = (worker) => ({
    problems: Object.entries(worker.clients.producer).map(([key, value]) => ({
      file: worker.file,
      key: `producer.${key}`,
      expected: `a producer setting, not ${value}`,
      got: value,
      suggestion: `producer.${value}`,
    })),
    warnings: [{ file: worker.file, key: 'producer.linger.ms', expected: `ignored: ${SECRET}` }],
  });

  it('runs on the validated worker; their problems and warnings get lines and are redacted everywhere', () => {
    const r = inspect(
      {
        'worker.properties': 'producer.acks=${env:S}\n',
        'connectors/a.properties': sourceProps(),
      },
      { workerChecks: [kafkaLike] },
    );
    expect(r.problems).toEqual([
      {
        file: 'worker.properties',
        key: 'producer.acks',
        expected: 'a producer setting, not [hidden]',
        got: '[hidden]',
        suggestion: 'producer.[hidden]',
        line: 1,
      },
    ]);
    expect(r.warnings).toEqual([
      { file: 'worker.properties', key: 'producer.linger.ms', expected: 'ignored: [hidden]' },
    ]);
  });

  it('does not run while the worker has problems of its own (they would only repeat them)', () => {
    let ran = false;
    const r = inspect(
      { 'worker.properties': 'offset.storage=nowhere\n', 'connectors/a.properties': sourceProps() },
      {
        workerChecks: [
          () => {
            ran = true;
            return { problems: [], warnings: [] };
          },
        ],
      },
    );
    expect(r.problems.map((p) => p.key)).toEqual(['offset.storage']);
    expect(ran).toBe(false);
  });
});

describe('redaction of every field of a problem', () => {
  it('hides a secret that made its way into a key, an explanation or a suggestion', () => {
    // A secret-named key makes its literal value a secret; the same text elsewhere is hidden too.
    const r = inspect({
      'worker.properties': `sasl.jaas.config=${SECRET}\n`,
      'connectors/a.properties': sourceProps(
        `${SECRET}.x=1\ntransforms=${SECRET}\ntransforms.${SECRET}.type=mask\ntransforms.Struct-Secret-Valeu.fields=a\n`,
      ),
    });
    expect(r.lines).toEqual([
      'connectors/a.properties:5: [hidden].x: unknown key',
      "connectors/a.properties:8: transforms.Struct-Secret-Valeu.fields: an alias listed in transforms ([hidden]); did you mean 'transforms.[hidden]'?",
    ]);
    expect(JSON.stringify(r.problems)).not.toContain(SECRET);
  });
});
