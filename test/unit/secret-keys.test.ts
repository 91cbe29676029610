import { describe, expect, it } from 'vitest';
import { isSecretKeyName } from '../../src/secret-keys.ts';

describe('isSecretKeyName', () => {
  it.each([
    'password',
    'ssl.key.password',
    'ssl.keystore.password',
    'connection.password',
    'PASSWORD',
    'passwd',
    'sasl.jaas.config',
    'producer.sasl.jaas.config',
    'ssl.keystore.key',
    'ssl.key',
    'key',
    'client.secret',
    'aws.secret.access.key',
    'secretAccessKey',
    'sessionToken',
    'sasl.oauthbearer.token.endpoint.url.token',
    'credentials',
    'aws.credential',
    'value.converter.basic.auth.user.info',
    'Authorization',
    'apiKey',
    'api_key',
    'privateKey',
    'ssl.keystore.pem',
  ])('treats %s as secret', (key) => {
    expect(isSecretKeyName(key)).toBe(true);
  });

  it.each([
    'key.converter',
    'key.converter.schemas.enable',
    'partitionKey',
    'bootstrap.servers',
    'ssl.truststore.location',
    'ssl.keystore.certificate.chain',
    'sasl.mechanism',
    'security.protocol',
    'offset.storage.topic',
    'connector',
    'invocationId',
    'records',
    'aws.access.key.id',
  ])('shows %s', (key) => {
    expect(isSecretKeyName(key)).toBe(false);
  });
});
