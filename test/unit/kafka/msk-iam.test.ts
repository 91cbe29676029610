import { describe, expect, it, vi } from 'vitest';
import { mskIamTokenProvider } from '../../../src/kafka/msk-iam.ts';
import { awsMskIamSigner } from '../../../src/kafka/msk-iam-signer.ts';

describe('mskIamTokenProvider', () => {
  it('signs for the region and reuses a token until a minute before it expires', async () => {
    let now = 0;
    const sign = vi.fn(async (region: string) => ({
      token: `token-${region}-${sign.mock.calls.length}`,
      expiryTime: 900_000,
    }));
    const provider = mskIamTokenProvider('eu-west-1', sign, () => now);

    const first = await provider();
    now = 839_999;
    const reused = await provider();
    now = 840_000;
    const renewed = await provider();

    expect(first).toEqual({ value: 'token-eu-west-1-1' });
    expect(reused).toEqual(first);
    expect(renewed).toEqual({ value: 'token-eu-west-1-2' });
    expect(sign).toHaveBeenCalledTimes(2);
  });

  it("signs a real MSK IAM token with AWS's signer from environment credentials, offline", async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY');
    vi.stubEnv('AWS_SESSION_TOKEN', '');
    try {
      const { value } = await mskIamTokenProvider('eu-west-1', awsMskIamSigner)();
      const url = Buffer.from(value, 'base64url').toString('utf8');

      expect(url).toMatch(/^https:\/\/kafka\.eu-west-1\.amazonaws\.com\/\?Action=kafka-cluster%3AConnect/);
      expect(url).toContain('X-Amz-Credential=AKIDEXAMPLE%2F');
      expect(url).not.toContain('wJalrXUtnFEMI');
    } finally {
      vi.unstubAllEnvs();
    }
  });
  it('says the function was built without the signer when none is given', async () => {
    await expect(mskIamTokenProvider('eu-west-1')()).rejects.toThrow(
      /built without: package the bundle again/,
    );
  });
});
