/**
 * `connect-fn package` end to end: the zips hold exactly the code, its map and the connector's part of the
 * bundle, the same bytes on every build, no secret of the bundle's; a bad bundle writes nothing; and the
 * packaged function, unzipped, runs in a plain `node` process against the local stack as Lambda would
 * call it (the Runtime Interface Emulator tier is test/e2e's).
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import type { ConnectorManifest } from '../../../src/deploy/manifest.ts';
import { stackEnv } from '../../stack/env.ts';
import { writeBundle } from '../../support/bundle-fixture.ts';
import { testEnv } from '../../support/cli.ts';

async function runPackage(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['package', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

const tempDir = () => mkdtempSync(join(tmpdir(), 'connect-fn-package-'));

/** Unzips `zip` into a fresh directory (with the system's unzip) and returns it. */
function unzip(zip: string): string {
  const dir = tempDir();
  execFileSync('unzip', ['-q', zip, '-d', dir]);
  return dir;
}

function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(dir, join(prefix, e.name)) : [join(prefix, e.name)]))
    .sort();
}

const readManifest = (out: string, name: string): ConnectorManifest =>
  JSON.parse(readFileSync(join(out, name, 'manifest.json'), 'utf8'));

const SOURCE = (name: string, file: string, topic: string) =>
  `name=${name}\nconnector.class=FileStreamSource\nfile=${file}\ntopic=${topic}\n`;

describe('connect-fn package', () => {
  it('writes per connector a zip of the code, its map and its bundle files, and its manifest', async () => {
    const dir = writeBundle({
      'worker.properties': 'bootstrap.servers=${env:PKG_BROKERS}\n',
      'connectors/a.properties': SOURCE('a', '/tmp/a.txt', 'ta'),
      'connectors/b.properties': 'name=b\nconnector.class=FileStreamSink\nfile=/tmp/b.txt\ntopics=ta\n',
      'notes.txt': 'not part of any package',
    });
    const out = tempDir();
    const result = await runPackage(dir, '--out', out);
    expect(result.code).toBe(0);
    expect(result.err.filter((l) => /^[ab]: /.test(l))).toHaveLength(2);
    expect(readdirSync(out).sort()).toEqual(['a', 'b']);
    const unpacked = unzip(join(out, 'a', 'a.zip'));
    expect(filesUnder(unpacked)).toEqual([
      'bundle/connectors/a.properties',
      'bundle/worker.properties',
      'index.mjs',
      'index.mjs.map',
    ]);
    expect(readFileSync(join(unpacked, 'bundle/worker.properties'), 'utf8')).toBe(
      'bootstrap.servers=${env:PKG_BROKERS}\n',
    );
    const manifest = readManifest(out, 'a');
    const zip = readFileSync(join(out, 'a', 'a.zip'));
    expect(manifest.artifact).toEqual({
      file: 'a.zip',
      bytes: zip.length,
      sha256: execFileSync('sha256sum', [join(out, 'a', 'a.zip')], { encoding: 'utf8' }).split(' ')[0],
    });
    expect(manifest).toMatchObject({ connector: 'a', kind: 'source', topics: ['ta'] });
    expect(manifest.function.requiredEnvironment).toEqual(['PKG_BROKERS']);
    expect(readFileSync(join(unpacked, 'index.mjs'), 'utf8')).toContain('//# sourceMappingURL=index.mjs.map');
  });

  it('builds the same bytes twice, wherever the output goes', async () => {
    const dir = writeBundle({ 'connectors/a.properties': SOURCE('a', '/tmp/a.txt', 'ta') });
    const [first, second] = [tempDir(), tempDir()];
    expect((await runPackage(dir, '--out', first)).code).toBe(0);
    expect((await runPackage(dir, '--connector', 'a', '--out', second)).code).toBe(0);
    expect(readFileSync(join(second, 'a', 'a.zip')).equals(readFileSync(join(first, 'a', 'a.zip')))).toBe(
      true,
    );
    expect(readManifest(second, 'a')).toEqual(readManifest(first, 'a'));
  });

  it('puts no secret of the bundle in the package: references stay unresolved', async () => {
    const secret = `s3cr3t-${randomUUID()}`;
    const fileSecret = `f1le-${randomUUID()}`;
    testEnv({ PKG_SECRET: secret });
    const dir = writeBundle({
      'worker.properties':
        'bootstrap.servers=b:9096\nsecurity.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n' +
        'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required ' +
        'username="${file:secrets.properties:user}" password="${env:PKG_SECRET}";\n',
      'secrets.properties': `user=${fileSecret}\n`,
      'connectors/a.properties': SOURCE('a', '/tmp/a.txt', 'ta'),
    });
    const out = tempDir();
    const result = await runPackage(dir, '--out', out);
    expect(result.code).toBe(0);
    const unpacked = unzip(join(out, 'a', 'a.zip'));
    const everything = [
      readFileSync(join(out, 'a', 'a.zip')),
      readFileSync(join(out, 'a', 'manifest.json')),
      ...filesUnder(unpacked).map((f) => readFileSync(join(unpacked, f))),
    ];
    for (const bytes of everything) {
      expect(bytes.includes(secret)).toBe(false);
      expect(bytes.includes(fileSecret)).toBe(false);
    }
    expect(readFileSync(join(unpacked, 'bundle/worker.properties'), 'utf8')).toContain('${env:PKG_SECRET}');
    expect(readManifest(out, 'a').function.requiredEnvironment).toEqual(['PKG_SECRET']);
    expect([...result.out, ...result.err].join('\n')).not.toContain(secret);
    expect(result.err).toContain(
      "warning: worker.properties: sasl.jaas.config: ${file:secrets.properties:user} is read at cold start from the function's file system, which the package does not fill: it holds only the worker file and the connector files",
    );
  });

  it('refuses a connector name that cannot name a Lambda function, writing nothing', async () => {
    const dir = writeBundle({
      'worker.properties': 'bootstrap.servers=b:9092\n',
      'connectors/a.properties': SOURCE('orders.v2', '/tmp/a.txt', 'ta'),
    });
    const out = join(tempDir(), 'dist');
    const result = await runPackage(dir, '--out', out);
    expect(result.code).toBe(1);
    expect(result.out).toEqual([
      expect.stringMatching(
        /^connectors\/a\.properties: name: a name that can name a Lambda function.*\(got orders\.v2\)/,
      ),
    ]);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a secret written literally, which the package would hold', async () => {
    const dir = writeBundle({
      'worker.properties':
        'bootstrap.servers=b:9096\nsecurity.protocol=SASL_SSL\nsasl.mechanism=PLAIN\n' +
        'sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="hunter2";\n',
      'connectors/a.properties': SOURCE('a', '/tmp/a.txt', 'ta'),
    });
    const out = join(tempDir(), 'dist');
    const result = await runPackage(dir, '--out', out);
    expect(result.code).toBe(1);
    expect(result.out).toEqual([
      expect.stringMatching(/^worker\.properties:4: sasl\.jaas\.config: a config provider reference/),
    ]);
    expect([...result.out, ...result.err].join('\n')).not.toContain('hunter2');
    expect(existsSync(out)).toBe(false);
  });

  it('packages with a referenced variable unset: the cold start resolves it', async () => {
    const dir = writeBundle({
      'worker.properties': 'bootstrap.servers=${env:PKG_UNSET_BROKERS}\n',
      'connectors/a.properties': SOURCE('a', '/tmp/a.txt', 'ta'),
    });
    const out = tempDir();
    expect((await runPackage(dir, '--out', out)).code).toBe(0);
    expect(readManifest(out, 'a').function.requiredEnvironment).toEqual(['PKG_UNSET_BROKERS']);
  });

  it('writes nothing for a bundle with a problem, printing it as validate does', async () => {
    const dir = writeBundle({
      'connectors/a.properties': SOURCE('a', '/tmp/a.txt', 'ta'),
      'connectors/b.properties': `${SOURCE('b', '/tmp/b.txt', 'tb')}tasks.max=lots\n`,
    });
    const out = join(tempDir(), 'dist');
    const result = await runPackage(dir, '--out', out);
    expect(result.code).toBe(1);
    expect(result.out).toEqual([expect.stringMatching(/^connectors\/b\.properties:5: tasks\.max: /)]);
    expect(existsSync(out)).toBe(false);
    const regex = writeBundle({
      'connectors/s.properties':
        'name=s\nconnector.class=FileStreamSink\nfile=/tmp/o\ntopics.regex=t.*\ntrigger=kafka\n',
    });
    const refused = await runPackage(regex, '--out', out);
    expect(refused.code).toBe(1);
    expect(refused.out).toEqual([expect.stringMatching(/topics\.regex: topics with trigger=kafka/)]);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses an unknown connector name and bad arguments', async () => {
    const dir = writeBundle({ 'connectors/a.properties': SOURCE('a', '/tmp/a.txt', 'ta') });
    expect((await runPackage(dir, '--connector', 'nope')).code).toBe(1);
    expect((await runPackage(dir, '--out')).code).toBe(2);
    expect((await runPackage(dir, '--zip')).code).toBe(2);
  });
});

/** Calls the handler of the function unpacked in `dir` once, in a fresh `node`, as Lambda would; its summary. */
function invokeUnpacked(dir: string, connector: string): Record<string, unknown> {
  const script = `
    const { handler } = await import(${JSON.stringify(join(dir, 'index.mjs'))});
    const context = { awsRequestId: 'r', functionName: 'f', getRemainingTimeInMillis: () => 30000 };
    const summary = await handler({ task: 0 }, context);
    process.stdout.write('SUMMARY ' + JSON.stringify(summary) + '\\n');
    process.exit(0);`;
  const stdout = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: {
      PATH: process.env.PATH,
      CONNECT_FN_CONNECTOR: connector,
      KAFKA_BROKERS: stackEnv().kafkaBrokers,
      NODE_OPTIONS: '--enable-source-maps',
    },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const line = stdout.split('\n').find((l) => l.startsWith('SUMMARY '));
  return JSON.parse(line?.slice('SUMMARY '.length) ?? 'null');
}

describe('packaged functions, unzipped and run in a plain node process', () => {
  it('a source and a scheduled sink deliver and commit as connect-fn run does', async () => {
    const id = randomUUID().slice(0, 8);
    const work = tempDir();
    const [input, output] = [join(work, 'in.txt'), join(work, 'out.txt')];
    writeFileSync(input, 'one\ntwo\nthree\n');
    const topic = `pkg-lines-${id}`;
    const dir = writeBundle({
      'worker.properties': `bootstrap.servers=\${env:KAFKA_BROKERS}\noffset.storage.topic=pkg-offsets-${id}\noffset.storage.replication.factor=1\nkey.converter=org.apache.kafka.connect.storage.StringConverter\nvalue.converter=org.apache.kafka.connect.storage.StringConverter\n`,
      'connectors/lines.properties': SOURCE(`lines-${id}`, input, topic),
      'connectors/copy.properties': `name=copy-${id}\nconnector.class=FileStreamSink\nfile=${output}\ntopics=${topic}\n`,
    });
    const out = tempDir();
    expect((await runPackage(dir, '--out', out)).code).toBe(0);
    const source = unzip(join(out, `lines-${id}`, `lines-${id}.zip`));
    const sink = unzip(join(out, `copy-${id}`, `copy-${id}.zip`));

    expect(invokeUnpacked(source, `lines-${id}`)).toMatchObject({ records: 3, stopReason: 'idle' });
    writeFileSync(input, 'one\ntwo\nthree\nfour\n');
    expect(invokeUnpacked(source, `lines-${id}`)).toMatchObject({ records: 1, stopReason: 'idle' });
    expect(invokeUnpacked(sink, `copy-${id}`)).toMatchObject({
      kind: 'sink',
      records: 4,
      stopReason: 'idle',
    });
    expect(invokeUnpacked(sink, `copy-${id}`)).toMatchObject({ records: 0, stopReason: 'idle' });
    expect(readFileSync(output, 'utf8')).toBe('one\ntwo\nthree\nfour\n');
  });
});
