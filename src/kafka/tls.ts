/**
 * TLS options for kafkajs (Node's `tls.ConnectionOptions`) from Connect's `ssl.*` keys, PEM only:
 * `ssl.truststore.location` / `ssl.truststore.certificates` (CA certificates, else the system CAs),
 * `ssl.keystore.location` (one PEM file with the client certificate chain and its key) or
 * `ssl.keystore.certificate.chain` + `ssl.keystore.key` (inline), `ssl.key.password`, and
 * `ssl.endpoint.identification.algorithm` (`https` checks the broker's host name, empty does not).
 * Files are read once, when the client is built (a cold start).
 * @module
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { ConfigProblem } from '../errors.ts';

/** The `ssl.*` values of one client. */
export interface TlsValues {
  readonly 'ssl.truststore.location'?: string | undefined;
  readonly 'ssl.truststore.certificates'?: string | undefined;
  readonly 'ssl.keystore.location'?: string | undefined;
  readonly 'ssl.keystore.certificate.chain'?: string | undefined;
  readonly 'ssl.keystore.key'?: string | undefined;
  readonly 'ssl.key.password'?: string | undefined;
  readonly 'ssl.endpoint.identification.algorithm': string;
}

type Problem = Omit<ConfigProblem, 'file'>;

function readPem(key: string, path: string, problems: Problem[]): string | undefined {
  try {
    const text = readFileSync(path, 'utf8');
    if (!text.includes('-----BEGIN ')) {
      problems.push({ key, expected: 'a PEM file (-----BEGIN ...)', got: path });
      return undefined;
    }
    return text;
  } catch (err) {
    const why = err instanceof Error && 'code' in err ? String(err.code) : 'unreadable';
    problems.push({ key, expected: `a readable PEM file (${why})`, got: path });
    return undefined;
  }
}

/** Builds the TLS options; problems are reported, never thrown, so every one of them is listed. */
export function tlsOptions(values: TlsValues, problems: Problem[]): ConnectionOptions {
  const options: ConnectionOptions = { rejectUnauthorized: true };
  const caFile = values['ssl.truststore.location'];
  const ca =
    values['ssl.truststore.certificates'] ?? (caFile && readPem('ssl.truststore.location', caFile, problems));
  if (ca) options.ca = ca;

  const keystoreFile = values['ssl.keystore.location'];
  const chain = values['ssl.keystore.certificate.chain'];
  const key = values['ssl.keystore.key'];
  if (keystoreFile !== undefined) {
    // One PEM holding both: Node's PEM readers skip the blocks they are not looking for.
    const pem = readPem('ssl.keystore.location', keystoreFile, problems);
    if (pem !== undefined) {
      options.cert = pem;
      options.key = pem;
    }
  } else if (chain !== undefined || key !== undefined) {
    if (chain === undefined || key === undefined) {
      problems.push({
        key: chain === undefined ? 'ssl.keystore.certificate.chain' : 'ssl.keystore.key',
        expected: 'set together with ssl.keystore.key and ssl.keystore.certificate.chain (mutual TLS)',
      });
    } else {
      options.cert = chain;
      options.key = key;
    }
  }
  const passphrase = values['ssl.key.password'];
  if (passphrase !== undefined) options.passphrase = passphrase;
  if (values['ssl.endpoint.identification.algorithm'] === '') options.checkServerIdentity = () => undefined;
  return options;
}
