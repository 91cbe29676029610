import { describe, expect, it } from 'vitest';
import { JaasSyntaxError, parseJaasConfig } from '../../../src/kafka/jaas.ts';

const SCRAM = 'org.apache.kafka.common.security.scram.ScramLoginModule';

describe('parseJaasConfig', () => {
  it("reads Connect's SCRAM line", () => {
    const entry = parseJaasConfig(`${SCRAM} required username="alice" password="alice-secret";`);

    expect(entry).toEqual({
      loginModule: SCRAM,
      flag: 'required',
      options: { username: 'alice', password: 'alice-secret' },
    });
  });

  it('unescapes quotes, backslashes and Java escapes inside quoted values', () => {
    const entry = parseJaasConfig(String.raw`${SCRAM} required username="a\"b" password="c\\d\"e\tf\101";`);

    expect(entry.options).toEqual({ username: 'a"b', password: 'c\\d"e\tfA' });
  });

  it('takes single quotes, bare words, other flags, line breaks and comments', () => {
    const line = [
      'org.apache.kafka.common.security.plain.PlainLoginModule sufficient // the user',
      "  username=svc-user_1.x /* its password: */ password='p=w;\"d'",
      '  ;',
    ].join('\n');

    expect(parseJaasConfig(line)).toEqual({
      loginModule: 'org.apache.kafka.common.security.plain.PlainLoginModule',
      flag: 'sufficient',
      options: { username: 'svc-user_1.x', password: 'p=w;"d' },
    });
  });

  it('keeps = and ; inside quoted values and allows an empty value', () => {
    expect(parseJaasConfig(`${SCRAM} required username="" password="x;y=z";`).options).toEqual({
      username: '',
      password: 'x;y=z',
    });
  });

  it.each([
    ['', /expected a login module class name at the end/],
    [`${SCRAM} username="a";`, /expected a control flag .* at character/],
    [`${SCRAM} mandatory username="a";`, /expected a control flag/],
    [`${SCRAM} required username="a" password="hunter22"`, /expected an option name or ";" at the end/],
    [`${SCRAM} required username "a";`, /expected "=" after option username/],
    [`${SCRAM} required username=;`, /expected a value for option username/],
    [`${SCRAM} required password="hunter22;`, /unterminated quoted value starting at character/],
    [`${SCRAM} required /* password="hunter22";`, /unterminated comment/],
    [`${SCRAM} required; ${SCRAM} required;`, /one login module only/],
  ])('rejects %j with a message that never quotes the line', (line, message) => {
    const failure = (() => {
      try {
        parseJaasConfig(line);
        return undefined;
      } catch (err) {
        return err;
      }
    })();

    expect(failure).toBeInstanceOf(JaasSyntaxError);
    expect((failure as Error).message).toMatch(message);
    expect((failure as Error).message).not.toContain('hunter22');
  });
});
