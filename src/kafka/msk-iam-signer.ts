/**
 * AWS's MSK IAM token signer (`aws-msk-iam-sasl-signer-js`), signing with the function's credentials (the
 * default provider chain: the Lambda role). Loaded on the first authentication; a composition root passes
 * it to the Kafka clients (`KafkaClientsOptions.mskIamSigner`) only when the bundle uses IAM.
 * @module
 */
import type { MskTokenSigner } from './msk-iam.ts';

export const awsMskIamSigner: MskTokenSigner = async (region) => {
  const { generateAuthToken } = await import('aws-msk-iam-sasl-signer-js');
  return generateAuthToken({ region });
};
