/**
 * How a client reaches the brokers, from Connect's worker keys: `bootstrap.servers`, `security.protocol`
 * (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL), `sasl.mechanism` with `sasl.jaas.config` (PLAIN, SCRAM-SHA-256,
 * SCRAM-SHA-512), AWS_MSK_IAM / OAUTHBEARER (MSK IAM tokens for `aws.region`), and `ssl.*` (see tls.ts).
 *
 * As in Connect, `producer.<key>`, `consumer.<key>` and `admin.<key>` override any of these for one kind of
 * client (e.g. `producer.sasl.jaas.config` for a producer-only user); overrides are parsed by the worker's
 * own key specs, so they accept and reject exactly what the worker keys do.
 * @module
 */

import type { ConnectionOptions } from 'node:tls';
import type { SASLOptions } from 'kafkajs';
import type { ConfigValues } from '../config/keys.ts';
import { Redactor } from '../config/redaction.ts';
import { workerKeys } from '../config/worker-schema.ts';
import type { ConfigProblem } from '../errors.ts';
import { JaasSyntaxError, parseJaasConfig } from './jaas.ts';
import type { Endpoint } from './kafka-failure.ts';
import { type MskTokenSigner, mskIamTokenProvider } from './msk-iam.ts';
import { tlsOptions } from './tls.ts';

/** The worker keys that say how to connect; each may be overridden per client kind. */
export const CONNECTION_KEYS = [
  'bootstrap.servers',
  'security.protocol',
  'sasl.mechanism',
  'sasl.jaas.config',
  'ssl.truststore.location',
  'ssl.truststore.certificates',
  'ssl.keystore.location',
  'ssl.keystore.certificate.chain',
  'ssl.keystore.key',
  'ssl.key.password',
  'ssl.endpoint.identification.algorithm',
] as const;
export type ConnectionKey = (typeof CONNECTION_KEYS)[number];

/** The worker values a Kafka client is built from (`Bundle.worker.values` has them all). */
export type ConnectionValues = Pick<ConfigValues<typeof workerKeys>, ConnectionKey | 'aws.region'>;

/** A problem before the file it belongs to is known. */
export type Problem = Omit<ConfigProblem, 'file'>;

/** What kafkajs needs to connect, and how errors describe it. */
export interface Connection {
  readonly brokers: string[];
  readonly ssl: ConnectionOptions | boolean | undefined;
  readonly sasl: SASLOptions | undefined;
  readonly endpoint: Endpoint;
}

const CONNECTION_KEY_SET: ReadonlySet<string> = new Set(CONNECTION_KEYS);

/** True for keys {@link withOverrides} takes (so client-settings tables skip them). */
export function isConnectionKey(key: string): key is ConnectionKey {
  return CONNECTION_KEY_SET.has(key);
}

/**
 * `values` with the connection keys among `overrides` (one client kind's `producer.*` / `consumer.*` /
 * `admin.*`, prefix removed) applied; `prefix` names them in problems.
 */
export function withOverrides(
  values: ConnectionValues,
  overrides: Readonly<Record<string, string>>,
  prefix: string,
  problems: Problem[],
): ConnectionValues {
  const merged: Record<string, unknown> = { ...values };
  for (const [key, raw] of Object.entries(overrides)) {
    if (!isConnectionKey(key)) continue;
    const spec = workerKeys[key];
    const parsed = spec.schema.safeParse(raw);
    if (parsed.success) merged[key] = parsed.data;
    else
      problems.push({
        key: `${prefix}${key}`,
        expected: spec.expected,
        ...(spec.secret ? {} : { got: raw }),
      });
  }
  return merged as ConnectionValues;
}

const SASL_MODULES = {
  PLAIN: { module: 'org.apache.kafka.common.security.plain.PlainLoginModule', kafkajs: 'plain' },
  'SCRAM-SHA-256': {
    module: 'org.apache.kafka.common.security.scram.ScramLoginModule',
    kafkajs: 'scram-sha-256',
  },
  'SCRAM-SHA-512': {
    module: 'org.apache.kafka.common.security.scram.ScramLoginModule',
    kafkajs: 'scram-sha-512',
  },
} as const;

interface Credentials {
  readonly sasl: SASLOptions | undefined;
  readonly username: string | undefined;
}

function passwordSasl(values: ConnectionValues, problems: Problem[]): Credentials {
  const mechanism = values['sasl.mechanism'] as keyof typeof SASL_MODULES;
  const { module, kafkajs } = SASL_MODULES[mechanism];
  const line = values['sasl.jaas.config'];
  const expected = `${module} required username="..." password="...";`;
  if (line === undefined) {
    problems.push({ key: 'sasl.jaas.config', expected: `${expected} (required for ${mechanism})` });
    return { sasl: undefined, username: undefined };
  }
  try {
    const entry = parseJaasConfig(line);
    const { username, password } = entry.options;
    const className = entry.loginModule.slice(entry.loginModule.lastIndexOf('.') + 1);
    if (className !== module.slice(module.lastIndexOf('.') + 1)) {
      problems.push({ key: 'sasl.jaas.config', expected: `${expected} (${mechanism} needs ${module})` });
    } else if (username === undefined || password === undefined) {
      problems.push({ key: 'sasl.jaas.config', expected: `${expected} (both username and password)` });
    } else {
      return { sasl: { mechanism: kafkajs, username, password }, username };
    }
  } catch (err) {
    if (!(err instanceof JaasSyntaxError)) throw err;
    problems.push({ key: 'sasl.jaas.config', expected: `${expected} (${err.message})` });
  }
  return { sasl: undefined, username: undefined };
}

function saslOptions(
  values: ConnectionValues,
  env: Env,
  problems: Problem[],
  signer: MskTokenSigner | undefined,
): Credentials {
  const mechanism = values['sasl.mechanism'];
  if (mechanism !== 'AWS_MSK_IAM' && mechanism !== 'OAUTHBEARER') return passwordSasl(values, problems);
  const region = values['aws.region'] ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) {
    problems.push({
      key: 'aws.region',
      expected: `an AWS region for ${mechanism} (or AWS_REGION in the environment)`,
    });
    return { sasl: undefined, username: undefined };
  }
  return {
    sasl: { mechanism: 'oauthbearer', oauthBearerProvider: mskIamTokenProvider(region, signer) },
    username: undefined,
  };
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Builds the connection; problems are reported (all of them), never thrown. MSK IAM signs with `signer`
 * (without one, authentication fails saying so).
 */
export function resolveConnection(
  values: ConnectionValues,
  env: Env,
  problems: Problem[],
  signer?: MskTokenSigner,
): Connection {
  const protocol = values['security.protocol'];
  const usesSasl = protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL';
  const usesTls = protocol === 'SSL' || protocol === 'SASL_SSL';
  const credentials = usesSasl
    ? saslOptions(values, env, problems, signer)
    : { sasl: undefined, username: undefined };
  const ssl = usesTls ? tlsOptions(values, problems) : undefined;
  const secrets = [
    values['sasl.jaas.config'],
    values['ssl.key.password'],
    values['ssl.keystore.key'],
    credentials.sasl !== undefined && 'password' in credentials.sasl ? credentials.sasl.password : undefined,
  ].flatMap((s) => (s === undefined || s === '' ? [] : [s]));
  return {
    brokers: [...values['bootstrap.servers']],
    ssl,
    sasl: credentials.sasl,
    endpoint: {
      brokers: [...values['bootstrap.servers']],
      securityProtocol: protocol,
      mechanism: usesSasl ? values['sasl.mechanism'] : undefined,
      username: credentials.username,
      redactor: new Redactor(secrets),
    },
  };
}
