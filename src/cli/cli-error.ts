/**
 * How the CLI prints an error that ends a command, through a redactor: a command that loaded a bundle
 * passes the bundle's (it knows the bundle's secret values); before that, a redactor that knows no value
 * still hides every secret-shaped assignment (`password=...`). A usage error prints its message; one of
 * ours `<code>: <message>`; anything else, a bug, its stack, so it can be reported.
 * @module
 */
import { Redactor } from '../config/redaction.ts';
import { ConnectFnError, UsageError } from '../errors.ts';
import { Exit } from './io.ts';

/** Hides secret-shaped text; used until a command has a bundle's redactor. */
export const shapeRedactor = new Redactor();

/** The lines to print for `err`, redacted, and the exit code. */
export function describeCliError(
  err: unknown,
  redactor: Redactor = shapeRedactor,
): { readonly text: string; readonly code: number } {
  if (err instanceof UsageError) return { text: redactor.text(err.message), code: Exit.usage };
  if (err instanceof ConnectFnError)
    return { text: redactor.text(`${err.code}: ${err.message}`), code: Exit.failed };
  const text = err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
  return { text: redactor.text(`internal error (a bug of connect-fn): ${text}`), code: Exit.failed };
}
