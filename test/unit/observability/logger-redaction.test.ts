import { describe, expect, it } from 'vitest';
import { Redactor as BundleRedactor } from '../../../src/config/redaction.ts';
import { ConfigProviderError } from '../../../src/errors.ts';
import { createLogger, type Redactor } from '../../../src/observability/logger.ts';

const SECRET = 'hunter2-s3cr3t-value';
const SECRET_2 = 'AKIA-other-secret';

/** The bundle's real redactor, wired the way a handler wires it into the logger. */
function bundleRedactor(values: readonly string[], secretKeys: readonly string[] = []): Redactor {
  const redactor = new BundleRedactor(values, secretKeys);
  return (value) => redactor.deep(value);
}

function capture(redact?: Redactor) {
  const lines: string[] = [];
  const logger = createLogger({ env: {}, sink: (line) => lines.push(line), ...(redact ? { redact } : {}) });
  return { logger, output: () => lines.join(''), records: () => lines.map((l) => JSON.parse(l)) };
}

describe('redaction', () => {
  it('hides values of secret-named keys at any depth, even without a bundle redactor', () => {
    // Prepare
    const { logger, output, records } = capture();
    // Act
    logger.info('client config', {
      password: SECRET,
      kafka: {
        'bootstrap.servers': 'b-1:9096',
        sasl: { 'sasl.jaas.config': `ScramLoginModule required password="${SECRET}";` },
        ssl: [{ 'ssl.keystore.key': SECRET }],
      },
      aws: { Credentials: { accessKeyId: 'AKIA', secretAccessKey: SECRET } },
      AccessToken: SECRET,
    });
    // Assess
    expect(output()).not.toContain(SECRET);
    expect(records()[0]).toMatchObject({
      password: '[hidden]',
      kafka: {
        'bootstrap.servers': 'b-1:9096',
        sasl: { 'sasl.jaas.config': '[hidden]' },
        ssl: [{ 'ssl.keystore.key': '[hidden]' }],
      },
      aws: { Credentials: '[hidden]' },
      AccessToken: '[hidden]',
    });
  });

  it('hides secret values under innocent keys, nested, through the bundle redactor', () => {
    const { logger, output, records } = capture(bundleRedactor([SECRET]));
    logger.warn('retrying', { target: { url: `https://user:${SECRET}@example.com`, tries: [SECRET, 'ok'] } });
    expect(output()).not.toContain(SECRET);
    expect(records()[0].target).toEqual({
      url: 'https://user:[hidden]@example.com',
      tries: ['[hidden]', 'ok'],
    });
  });

  it('hides secret values in the message text', () => {
    const { logger, output, records } = capture(bundleRedactor([SECRET]));
    logger.error(`login failed for password ${SECRET}`);
    expect(output()).not.toContain(SECRET);
    expect(records()[0].message).toBe('login failed for password [hidden]');
  });

  it('hides secret values in error messages, stacks and causes', () => {
    // Prepare
    const { logger, output, records } = capture(bundleRedactor([SECRET, SECRET_2]));
    const cause = new Error(`SASL authentication failed with ${SECRET_2}`);
    const err = new ConfigProviderError(`cannot resolve file:/run/secrets:${SECRET}`, { cause });
    // Act
    logger.error('start failed', { err });
    logger.error('start failed', err);
    // Assess
    expect(output()).not.toContain(SECRET);
    expect(output()).not.toContain(SECRET_2);
    expect(records()[1].error.message).toBe('cannot resolve file:/run/secrets:[hidden]');
    expect(records()[1].error.cause.message).toBe('SASL authentication failed with [hidden]');
  });

  it('hides secrets in every nested string and error even when the redactor only handles text', () => {
    // Prepare: a redactor that leaves objects alone, so only the per-string pass can catch the secret.
    const textOnly: Redactor = (v) => (typeof v === 'string' ? v.replaceAll(SECRET, '[hidden]') : v);
    const { logger, output } = capture(textOnly);
    const err = new Error(`outer ${SECRET}`, { cause: new Error(`inner ${SECRET}`) });
    // Act
    logger.error(`failed ${SECRET}`, { err, nested: { list: [{ text: `x ${SECRET} y` }] } });
    // Assess
    expect(output()).not.toContain(SECRET);
    expect(output()).toContain('outer [hidden]');
  });

  it('hides secrets in persistent keys, invocation keys and child fields', () => {
    const { logger, output } = capture(bundleRedactor([SECRET]));
    logger.appendKeys({ note: SECRET });
    logger.startInvocation({ connector: 'orders', task: 0, invocationId: 'req-1' });
    logger.appendInvocationKeys({ lastError: `bad ${SECRET}` });
    logger.child({ 'ssl.key.password': 'x', detail: SECRET }).info('x');
    expect(output()).not.toContain(SECRET);
    expect(output()).toContain('"ssl.key.password":"[hidden]"');
  });

  it("hides keys the bundle's redactor declares secret beyond the naming rule", () => {
    const { logger, records } = capture(bundleRedactor([], ['connection.url']));
    logger.info('sink config', { 'connection.url': 'jdbc:postgresql://u:p@db/x', 'tasks.max': 1 });
    expect(records()[0]).toMatchObject({ 'connection.url': '[hidden]', 'tasks.max': 1 });
  });

  it('hides the message and drops the fields when the redactor itself fails', () => {
    const failing: Redactor = () => {
      throw new Error(`redactor broke on ${SECRET}`);
    };
    const { logger, output, records } = capture(failing);
    logger.info(`message with ${SECRET}`, { detail: SECRET });
    expect(output()).not.toContain(SECRET);
    expect(records()[0]).toMatchObject({ message: '[message hidden: redactor failed]', logError: 'Error' });
  });
});
