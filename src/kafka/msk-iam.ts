/**
 * Amazon MSK IAM authentication: SASL OAUTHBEARER with a token that AWS's `aws-msk-iam-sasl-signer-js`
 * signs with the function's credentials (the default provider chain: the Lambda role). Connect's
 * `sasl.mechanism=AWS_MSK_IAM` and `OAUTHBEARER` (with MSK's login callback handler) both land here.
 *
 * The signer is injected (./msk-iam-signer.ts is AWS's): a function packaged for a bundle without IAM does
 * not contain it, nor the AWS SDK credential providers it pulls in.
 * @module
 */
import type { OauthbearerProviderResponse } from 'kafkajs';

/** Signs one token: `{ token, expiryTime }` as the AWS signer returns it. */
export type MskTokenSigner = (
  region: string,
) => Promise<{ readonly token: string; readonly expiryTime: number }>;

/** What a client without a signer does: says the package lacks it (a bundle changed after packaging). */
const noSigner: MskTokenSigner = async () => {
  throw new Error(
    'MSK IAM authentication needs the MSK IAM signer, which this function was built without: package the bundle again',
  );
};

/**
 * kafkajs' `oauthBearerProvider` for MSK IAM in `region`. kafkajs calls it for every new connection and
 * re-authentication; a token is reused until a minute before it expires (tokens live 15 minutes).
 *
 * @example
 * ```ts
 * new Kafka({ brokers, ssl: true, sasl: { mechanism: 'oauthbearer', oauthBearerProvider: mskIamTokenProvider('eu-west-1', awsMskIamSigner) } });
 * ```
 */
export function mskIamTokenProvider(
  region: string,
  sign: MskTokenSigner = noSigner,
  nowMs: () => number = Date.now,
): () => Promise<OauthbearerProviderResponse> {
  let cached: { token: string; expiryTime: number } | undefined;
  return async function mskIamToken() {
    if (cached === undefined || cached.expiryTime - 60_000 <= nowMs()) cached = await sign(region);
    return { value: cached.token };
  };
}
