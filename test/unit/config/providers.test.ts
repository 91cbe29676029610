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

describe('config provider settings', () => {
  const build = (worker: Record<string, string>, baseDir = '/', env: Record<string, string> = {}) =>
    ProviderSet.fromWorker(worker, 'worker.properties', { env, baseDir });

  it('reports a misspelt param with the right key, and the provider then resolves nothing', () => {
    const dir = writeBundle({
      'allowed/a.properties': 'k=v\n',
      'outside/secret.properties': 'root=hunter2\n',
    });
    const built = build(
      {
        'config.providers': 'f',
        'config.providers.f.class': 'org.apache.kafka.common.config.provider.FileConfigProvider',
        'config.providers.f.param.allowed.path': 'allowed',
      },
      dir,
    );
    expect(built.problems).toEqual([
      {
        file: 'worker.properties',
        key: 'config.providers.f.param.allowed.path',
        expected:
          "a setting of file config provider 'f' (config.providers.f.class, config.providers.f.param.allowed.paths)",
        suggestion: 'config.providers.f.param.allowed.paths',
      },
    ]);
    const r = built.providers.resolve(
      { a: '${f:allowed/a.properties:k}', b: '${f:outside/secret.properties:root}' },
      'c',
    );
    expect(r.values).toEqual({ a: '${f:allowed/a.properties:k}', b: '${f:outside/secret.properties:root}' });
    expect(r.secretValues).toEqual([]);
    expect(r.problems).toEqual([
      expect.objectContaining({
        key: 'a',
        got: "none: the provider's config.providers.f.* settings have problems",
      }),
      expect.objectContaining({ key: 'b' }),
    ]);
    expect(JSON.stringify(r)).not.toContain('hunter2');
  });

  it('reports a misspelt class key with a suggestion', () => {
    const built = build({
      'config.providers': 'env,f',
      'config.providers.f.class': 'file',
      'config.providers.env.clas': 'env',
    });
    expect(built.problems).toEqual([
      expect.objectContaining({ key: 'config.providers.env.clas', suggestion: 'config.providers.env.class' }),
    ]);
    // config.providers lists env and f: only those exist (env unusable, its settings have a problem).
    expect(built.providers.names()).toEqual(['f', 'env']);
  });

  it('reports a param that belongs to another kind of provider', () => {
    const built = build({ 'config.providers': 'env', 'config.providers.env.param.allowed.paths': '/x' });
    expect(built.problems).toEqual([
      {
        file: 'worker.properties',
        key: 'config.providers.env.param.allowed.paths',
        expected:
          "a setting of env config provider 'env' (config.providers.env.class, config.providers.env.param.allowlist.pattern)",
      },
    ]);
  });

  it('applies params on a built-in name once it is declared, with no class needed', () => {
    const dir = writeBundle({
      'ok/a.properties': 'k=v\n',
      'no/b.properties': 'k=hunter2\n',
      'no/f': 'hunter2',
    });
    const set = providers(
      {
        'config.providers': 'file,dir,env',
        'config.providers.file.param.allowed.paths': 'ok',
        'config.providers.dir.param.allowed.paths': 'ok',
        'config.providers.env.param.allowlist.pattern': 'APP_.*',
      },
      dir,
      { APP_A: 'a', SECRET: 'hunter2' },
    );
    const r = set.resolve(
      {
        inside: '${file:ok/a.properties:k}',
        file: '${file:no/b.properties:k}',
        dir: '${dir:no:f}',
        env: '${env:APP_A}',
        denied: '${env:SECRET}',
      },
      'c',
    );
    expect(r.values.inside).toBe('v');
    expect(r.values.env).toBe('a');
    expect(r.problems.map((p) => p.key)).toEqual(['file', 'dir', 'denied']);
    expect(JSON.stringify(r.problems)).not.toContain('hunter2');
  });

  it('without config.providers, has the built-ins without params: a param is a problem and that provider resolves nothing', () => {
    const dir = writeBundle({ 'ok/a.properties': 'k=v\n', 'no/b.properties': 'k=hunter2\n' });
    const built = build({ 'config.providers.file.param.allowed.paths': 'ok' }, dir, { A: 'a' });
    expect(built.problems).toEqual([
      {
        file: 'worker.properties',
        key: 'config.providers.file.param.allowed.paths',
        expected: "declare 'file' in config.providers for its settings to apply",
      },
    ]);
    const r = built.providers.resolve(
      { inside: '${file:ok/a.properties:k}', out: '${file:no/b.properties:k}', env: '${env:A}' },
      'c',
    );
    expect(r.values).toEqual({
      inside: '${file:ok/a.properties:k}',
      out: '${file:no/b.properties:k}',
      env: 'a',
    });
    expect(r.problems).toEqual([
      {
        file: 'c',
        key: 'inside',
        expected: "a value from config provider 'file'",
        got: "none: the provider's config.providers.file.* settings have problems",
      },
      expect.objectContaining({ key: 'out' }),
    ]);
    expect(r.failedKeys).toEqual(['inside', 'out']);
    expect(JSON.stringify(r)).not.toContain('hunter2');
  });

  it('once config.providers is set, has only the providers it lists: dir cannot sidestep a confined file', () => {
    const dir = writeBundle({ 'secrets/s.properties': 'pw=inside\n', 'outside/o': 'hunter2-outside' });
    const set = providers(
      {
        'config.providers': 'file',
        'config.providers.file.class': 'org.apache.kafka.common.config.provider.FileConfigProvider',
        'config.providers.file.param.allowed.paths': 'secrets',
      },
      dir,
      { HOME: '/root' },
    );
    expect(set.names()).toEqual(['file']);
    const r = set.resolve(
      { a: '${file:secrets/s.properties:pw}', b: `\${dir:${join(dir, 'outside')}:o}`, c: '${env:HOME}' },
      'c',
    );
    expect(r.values.a).toBe('inside');
    expect(r.problems).toEqual([
      { file: 'c', key: 'b', expected: 'a declared config provider (file)', got: 'dir' },
      { file: 'c', key: 'c', expected: 'a declared config provider (file)', got: 'env' },
    ]);
    expect(JSON.stringify(r)).not.toContain('hunter2');
  });

  it('reports settings of a provider name that is neither declared nor built in', () => {
    const built = build({
      'config.providers': 'vault',
      'config.providers.vault.class': 'file',
      'config.providers.x.class': 'file',
      'config.providers.vualt.param.allowed.paths': '/x',
    });
    expect(built.problems).toEqual([
      {
        file: 'worker.properties',
        key: 'config.providers.x.class',
        expected: "declare 'x' in config.providers",
      },
      {
        file: 'worker.properties',
        key: 'config.providers.vualt.param.allowed.paths',
        expected: "declare 'vualt' in config.providers",
        suggestion: 'config.providers.vault.param.allowed.paths',
      },
    ]);
    expect(built.providers.resolve({ a: '${x:/etc/hosts:k}' }, 'c').problems).toEqual([
      expect.objectContaining({ key: 'a', expected: 'a declared config provider (vault)', got: 'x' }),
    ]);
  });

  it('reports a key with no setting after the provider name', () => {
    expect(build({ 'config.providers.vault': 'x', 'config.providers..class': 'file' }).problems).toEqual([
      expect.objectContaining({
        key: 'config.providers.vault',
        expected: expect.stringContaining('<name>.class'),
      }),
      expect.objectContaining({ key: 'config.providers..class' }),
    ]);
  });

  it('reports a declared provider without a class, and resolves nothing from it', () => {
    const built = build({ 'config.providers': 'vault' });
    expect(built.problems).toEqual([
      expect.objectContaining({
        key: 'config.providers.vault.class',
        expected: expect.stringContaining('class'),
      }),
    ]);
    expect(built.providers.resolve({ a: '${vault:p:k}' }, 'c').problems).toEqual([
      expect.objectContaining({ key: 'a', expected: "a value from config provider 'vault'" }),
    ]);
  });

  it('reports an invalid allowlist.pattern by key, without the pattern, and resolves nothing', () => {
    for (const pattern of ['[hunter2', 'hunter2)|(.*', 'a{2,1}hunter2']) {
      const built = build(
        {
          'config.providers': 'e',
          'config.providers.e.class': 'env',
          'config.providers.e.param.allowlist.pattern': pattern,
        },
        '/',
        { X: 'x' },
      );
      expect(built.problems).toEqual([
        {
          file: 'worker.properties',
          key: 'config.providers.e.param.allowlist.pattern',
          expected: 'a regular expression (JavaScript syntax) that whole variable names must match',
          got: expect.stringMatching(/^an invalid one( \([a-z {}]+\))?$/),
        },
      ]);
      expect(JSON.stringify(built.problems)).not.toContain('hunter2');
      const r = built.providers.resolve({ a: '${e:X}' }, 'c');
      expect(r.values.a).toBe('${e:X}');
      expect(r.problems).toHaveLength(1);
    }
    expect(
      build({ 'config.providers': 'env', 'config.providers.env.param.allowlist.pattern': '[' }).problems[0]
        ?.got,
    ).toBe('an invalid one (unterminated character class)');
  });

  it('survives class names and variables named like Object.prototype members', () => {
    const built = build({
      'config.providers': 'a,b',
      'config.providers.a.class': 'constructor',
      'config.providers.b.class': '__proto__',
    });
    expect(built.problems.map((p) => p.key)).toEqual([
      'config.providers.a.class',
      'config.providers.b.class',
    ]);
    const r = providers({}, '/', {}).resolve(
      { x: '${env:toString}', y: '${env:constructor}', z: '${env:__proto__}' },
      'c',
    );
    expect(r.problems.map((p) => p.key)).toEqual(['x', 'y', 'z']);
    expect(r.secretValues).toEqual([]);
  });

  it('returns values as a null-prototype object, __proto__ an ordinary key', () => {
    const raw: Record<string, string> = Object.create(null);
    const entries: [string, string][] = [
      ['__proto__', '${env:A}'],
      ['constructor', 'plain'],
    ];
    for (const [key, value] of entries) raw[key] = value;
    const r = providers({}, '/', { A: 'a-value' }).resolve(raw, 'c');
    expect(Object.getPrototypeOf(r.values)).toBe(null);
    expect(Object.entries(r.values)).toEqual([
      ['__proto__', 'a-value'],
      ['constructor', 'plain'],
    ]);
    expect(r.secretKeys).toEqual(['__proto__']);
  });
});
