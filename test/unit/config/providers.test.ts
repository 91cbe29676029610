import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProviderSet } from '../../../src/config/providers.ts';
import { writeBundle } from '../../support/bundle-fixture.ts';

function providers(worker: Record<string, string>, baseDir: string, env: Record<string, string> = {}) {
  const built = ProviderSet.fromWorker(worker, 'worker.properties', { env, baseDir });
  expect(built.problems).toEqual([]);
  return built.providers;
}

describe('config providers', () => {
  it('resolves the built-in env, file and dir providers without any declaration', () => {
    const dir = writeBundle({
      'secrets/db.properties': 'user=app\npassword = pa:ss\n',
      'run/token': 'tok-123',
    });
    const set = providers({}, dir, { DB_HOST: 'db.local' });
    const r = set.resolve(
      {
        host: '${env:DB_HOST}',
        url: 'jdbc://${env:DB_HOST}:5432/${file:secrets/db.properties:user}',
        password: '${file:secrets/db.properties:password}',
        token: '${dir:run:token}',
        plain: 'no references',
      },
      'c.properties',
    );
    expect(r.problems).toEqual([]);
    expect(r.values).toEqual({
      host: 'db.local',
      url: 'jdbc://db.local:5432/app',
      password: 'pa:ss',
      token: 'tok-123',
      plain: 'no references',
    });
    expect(r.secretKeys.sort()).toEqual(['host', 'password', 'token', 'url']);
    expect(r.secretValues).toEqual(expect.arrayContaining(['db.local', 'app', 'pa:ss', 'tok-123']));
  });

  it('accepts providers declared with Kafka Connect class names and parameters', () => {
    const dir = writeBundle({ 'vault/a.properties': 'k=v\n' });
    const set = providers(
      {
        'config.providers': 'vault,environment',
        'config.providers.vault.class': 'org.apache.kafka.common.config.provider.FileConfigProvider',
        'config.providers.environment.class': 'org.apache.kafka.common.config.provider.EnvVarConfigProvider',
        'config.providers.environment.param.allowlist.pattern': 'APP_.*',
      },
      dir,
      { APP_X: '1', OTHER: '2' },
    );
    const r = set.resolve(
      { a: '${vault:vault/a.properties:k}', b: '${environment:APP_X}', c: '${environment:OTHER}' },
      'c',
    );
    expect(r.values.a).toBe('v');
    expect(r.values.b).toBe('1');
    expect(r.problems).toEqual([
      {
        file: 'c',
        key: 'c',
        expected: "a value from config provider 'environment'",
        got: 'OTHER does not match allowlist.pattern',
      },
    ]);
  });

  it('reports an unknown provider class with a suggestion', () => {
    const built = ProviderSet.fromWorker(
      {
        'config.providers': 'ssm',
        'config.providers.ssm.class': 'org.apache.kafka.common.config.provider.FileConfigProvidr',
      },
      'worker.properties',
      { env: {}, baseDir: '/' },
    );
    expect(built.problems).toEqual([
      expect.objectContaining({
        key: 'config.providers.ssm.class',
        suggestion: 'org.apache.kafka.common.config.provider.FileConfigProvider',
      }),
    ]);
  });

  it('reports an undeclared provider name with the closest declared one', () => {
    const r = providers({}, '/').resolve({ a: '${evn:HOME}' }, 'c');
    expect(r.problems).toEqual([expect.objectContaining({ key: 'a', got: 'evn', suggestion: 'env' })]);
  });

  it('keeps file and dir providers inside allowed.paths, even through .. and symlinks out', () => {
    const dir = writeBundle({ 'ok/a.properties': 'k=v\n', 'no/b.properties': 'k=secret\n', 'ok/file': 'x' });
    symlinkSync(join(dir, 'no'), join(dir, 'ok', 'link'));
    const set = providers(
      {
        'config.providers': 'file,dir',
        'config.providers.file.param.allowed.paths': 'ok',
        'config.providers.dir.param.allowed.paths': join(dir, 'ok'),
      },
      dir,
    );
    const r = set.resolve(
      {
        inside: '${file:ok/a.properties:k}',
        dotdot: '${file:ok/../no/b.properties:k}',
        symlink: '${file:ok/link/b.properties:k}',
        dirInside: '${dir:ok:file}',
        dirOut: '${dir:no:b.properties}',
        dirEscape: '${dir:ok:../no/b.properties}',
      },
      'c',
    );
    expect(r.values.inside).toBe('v');
    expect(r.problems.map((p) => p.key).sort()).toEqual(['dirEscape', 'dirOut', 'dotdot', 'symlink']);
    expect(JSON.stringify(r.problems)).not.toContain('secret');
  });
});
