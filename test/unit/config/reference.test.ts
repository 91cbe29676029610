import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderReference } from '../../../src/config/reference.ts';
import { builtinRegistry } from '../../../src/connectors/builtins.ts';

describe('docs/configuration.md', () => {
  it('is what `npm run docs` generates from the schemas (run it when this fails)', () => {
    expect(readFileSync('docs/configuration.md', 'utf8')).toBe(renderReference(builtinRegistry()));
  });

  it('documents every worker, connector and plugin key', () => {
    const text = renderReference(builtinRegistry());
    for (const key of [
      'bootstrap.servers',
      'sasl.jaas.config',
      'rest.modify.enable',
      'tasks.max',
      'invocation.safety.margin.ms',
      'batch.size',
      'schemas.enable',
    ]) {
      expect(text).toContain(`| \`${key}\` |`);
    }
    expect(text).toContain('org.apache.kafka.connect.file.FileStreamSourceConnector');
  });
});
