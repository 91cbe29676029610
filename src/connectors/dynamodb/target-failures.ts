/**
 * Which DynamoDB failures are about the target rather than a record (DESIGN: a record error may be skipped
 * under `errors.tolerance=all`; a target failure never is — it fails the invocation, see
 * `SinkTargetError`):
 *
 * - a request refused for the table or the caller: the table does not exist (ResourceNotFoundException),
 *   the function may not write it (AccessDeniedException), its credentials are not accepted
 *   (UnrecognizedClientException, InvalidSignatureException, MissingAuthenticationTokenException);
 * - an item refused for its key's attributes when the sink set them as the described table declares them
 *   ({@link isKeySchemaRefusal}): the table's key is not the one the sink checked (it changed).
 *
 * What stays a record error: an item DynamoDB refuses for its contents (over 400 KB, an empty key value, a
 * key of another type than the table's — see table-schema.ts's `keyTypeProblem`).
 * @module
 */
import { SinkTargetError, Stage } from '../../errors.ts';

const TARGET_ERRORS = new Set([
  'ResourceNotFoundException',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'MissingAuthenticationTokenException',
]);

/** `err` (a failed request) is about the table or the caller, whatever was sent. */
export function isTargetRefusal(err: unknown): boolean {
  return err instanceof Error && TARGET_ERRORS.has(err.name);
}

/**
 * DynamoDB refused a write for its key's attributes, not for the item's contents: "One or more parameter
 * values were invalid: Missing the key id in the item", "The provided key element does not match the
 * schema" (AWS), "One of the required keys was not given a value", "The number of conditions on the keys
 * is invalid" (DynamoDB Local). DynamoDB gives no code for it, only ValidationException with these texts.
 */
export function isKeySchemaRefusal(message: string): boolean {
  return /missing the key|key element does not match the schema|required keys was not given|number of conditions on the keys/i.test(
    message,
  );
}

/** The failure of a write DynamoDB refused for the table's key (see {@link isKeySchemaRefusal}). */
export function keySchemaChanged(table: string, reason: string): SinkTargetError {
  return new SinkTargetError(
    `dynamodb sink: DynamoDB refused a write to "${table}" for its key (${reason}): the table's key schema is not the one the connector writes, or it changed`,
    { stage: Stage.TASK_PUT },
  );
}

/** A request to `tables` refused for the table or the caller (see {@link isTargetRefusal}). */
export function targetRefusal(operation: string, tables: string, err: unknown): SinkTargetError {
  const name = err instanceof Error ? err.name : '';
  const message = err instanceof Error ? err.message : String(err);
  const hint =
    name === 'ResourceNotFoundException'
      ? ': the table does not exist (the sink does not create tables)'
      : name === 'AccessDeniedException'
        ? ": the function's role may not do this"
        : '';
  return new SinkTargetError(`dynamodb sink: ${operation} to ${tables} refused: ${name}: ${message}${hint}`, {
    cause: err,
    stage: Stage.TASK_PUT,
  });
}
