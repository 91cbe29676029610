import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, zipEntries } from '../../../src/deploy/zip.ts';

const entries = [
  { name: 'index.mjs', data: Buffer.from('export const handler = () => 1;\n'.repeat(50)) },
  { name: 'bundle/worker.properties', data: Buffer.from('bootstrap.servers=${env:KAFKA_BROKERS}\n') },
  { name: 'bundle/connectors/orders.properties', data: Buffer.from('name=orders\n') },
  { name: 'empty', data: Buffer.alloc(0) },
];

function unpack(zip: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'zip-test-'));
  writeFileSync(join(dir, 'a.zip'), zip);
  execFileSync('unzip', ['-q', join(dir, 'a.zip'), '-d', join(dir, 'out')]);
  return join(dir, 'out');
}

describe('zipEntries', () => {
  it('writes an archive unzip reads back, entry for entry', () => {
    const out = unpack(zipEntries(entries));
    for (const e of entries) expect(readFileSync(join(out, e.name))).toEqual(e.data);
  });

  it('is the same bytes whatever order the entries come in', () => {
    expect(zipEntries([...entries].reverse()).equals(zipEntries(entries))).toBe(true);
  });

  it('lists entries sorted, at the zip epoch, mode 0644', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zip-test-'));
    writeFileSync(join(dir, 'a.zip'), zipEntries(entries));
    const listing = execFileSync('zipinfo', ['-T', join(dir, 'a.zip')], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.startsWith('-'));
    expect(listing.map((l) => l.split(/\s+/).at(-1))).toEqual([
      'bundle/connectors/orders.properties',
      'bundle/worker.properties',
      'empty',
      'index.mjs',
    ]);
    for (const line of listing) {
      expect(line.startsWith('-rw-r--r--')).toBe(true);
      expect(line).toContain('19800101.000000');
    }
  });

  it('refuses duplicate and unsafe names', () => {
    expect(() => zipEntries([entries[0]!, entries[0]!])).toThrow(/twice/);
    expect(() => zipEntries([{ name: '../x', data: Buffer.alloc(1) }])).toThrow(/relative/);
    expect(() => zipEntries([{ name: '/x', data: Buffer.alloc(1) }])).toThrow(/relative/);
  });

  it('computes the CRC-32 zlib computes', () => {
    for (const e of entries) expect(crc32(e.data)).toBe(zlibCrc32(e.data));
  });
});
