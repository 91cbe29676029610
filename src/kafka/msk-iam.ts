/**
 * Amazon MSK IAM authentication: SASL OAUTHBEARER with a token that AWS's `aws-msk-iam-sasl-signer-js`
 * signs with the function's credentials (the default provider chain: the Lambda role). Connect's
 * `sasl.mechanism=AWS_MSK_IAM` and `OAUTHBEARER` (with MSK's login callback handler) both land here.
 *
 * The signer, and the AWS SDK credential providers it pulls in, are loaded on the first authentication,
 * so functions that do not use IAM never pay for them at cold start.
 * @module
 */
import type { OauthbearerProviderResponse } from 'kafkajs';

/** Signs one token: `{ token, expiryTime }` as the AWS signer returns it. */
export type MskTokenSigner = (
  region: string,
) => Promise<{ readonly token: string; readonly expiryTime: number }>;

async function awsSigner(region: string): Promise<{ token: string; expiryTime: number }> {
  const { generateAuthToken } = await import('aws-msk-iam-sasl-signer-js');
  return generateAuthToken({ region });
}

/**
 * kafkajs' `oauthBearerProvider` for MSK IAM in `region`. kafkajs calls it for every new connection and
 * re-authentication; a token is reused until a minute before it expires (tokens live 15 minutes).
 *
 * @example
 * ```ts
 * new Kafka({ brokers, ssl: true, sasl: { mechanism: 'oauthbearer', oauthBearerProvider: mskIamTokenProvider('eu-west-1') } });
 * ```
 */
export function mskIamTokenProvider(
  region: string,
  sign: MskTokenSigner = awsSigner,
  nowMs: () => number = Date.now,
): () => Promise<OauthbearerProviderResponse> {
  let cached: { token: string; expiryTime: number } | undefined;
  return async function mskIamToken() {
    if (cached === undefined || cached.expiryTime - 60_000 <= nowMs()) cached = await sign(region);
    return { value: cached.token };
  };
}
