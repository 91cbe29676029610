/**
 * Which configuration or field names hold secrets. Dependency-free on purpose, a leaf like `errors.ts`, so
 * that both redactors — the config bundle's and the logger's — share one definition (and `secret-shapes.ts`,
 * which finds secrets in text by the names they are assigned to).
 *
 * @module
 */

/**
 * Names whose value is a secret, matched case-insensitively anywhere in the key:
 * - `password`, `passwd` (`ssl.key.password`, `connection.password`, `sasl.password`)
 * - `secret` (`aws.secret.access.key`, `client.secret`, `secretAccessKey`)
 * - `token` (`sessionToken`, `sasl.oauthbearer.token`)
 * - `credential` (`credentials`, `aws.credentials`)
 * - `sasl.jaas.config` (holds the password inline), `basic.auth.user.info` (`user:password`)
 * - `private` (`private.key`, `privateKey`), `authorization`, `api.key` / `api_key` / `apiKey`
 *
 * plus `key` alone or as the last part of a dotted name (`ssl.keystore.key`: a PEM private key) and `*.pem`.
 * `key.converter` is not a secret, and neither is `partitionKey`. (A bare `key` is a record key: payload,
 * which has no place in a log line either.)
 */
const SECRET_KEY_PATTERN =
  /passw(?:or)?d|secret|token|credential|jaas\.config|auth\.user\.info|authorization|private|api[._-]?key|(?:^|\.)key$|\.pem$/i;

/**
 * True when a field or configuration key names a secret, so its value must never be shown.
 *
 * @example
 * ```ts
 * isSecretKeyName('sasl.jaas.config'); // true
 * isSecretKeyName('ssl.keystore.key'); // true
 * isSecretKeyName('key.converter'); // false
 * ```
 */
export function isSecretKeyName(key: string): boolean {
  return SECRET_KEY_PATTERN.test(key);
}
