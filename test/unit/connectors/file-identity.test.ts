/** The file source's fingerprint constants. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EMPTY_SHA256 } from '../../../src/connectors/file/file-identity.ts';

describe('file identity', () => {
  it('EMPTY_SHA256 is the SHA-256 of no bytes', () => {
    expect(EMPTY_SHA256).toBe(createHash('sha256').digest('hex'));
  });
});
