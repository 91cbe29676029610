/**
 * Names a record that could not be sent by where it came from: a source record's partition and offset
 * (for a file source, the file and the position after its line), so "too large" says which record.
 * @module
 */
import { boundText, RecordTooLargeError } from '../errors.ts';
import type { SourceRecord } from '../spi/records.ts';

/** Where a converted record came from, kept beside it until it is sent. */
export type SourceCoordinates = Pick<SourceRecord, 'sourcePartition' | 'sourceOffset'>;

/**
 * `err` with the record's coordinates when it is a {@link RecordTooLargeError} about one of `sources`
 * (indexed as the records of the send); any other error unchanged. Coordinates are metadata (as in the
 * logs), never record data; each is bounded, as every echoed value is.
 */
export function withSourceCoordinates(err: unknown, sources: readonly SourceCoordinates[]): unknown {
  if (!(err instanceof RecordTooLargeError)) return err;
  const source = sources[err.index];
  if (source === undefined) return err;
  const partition = boundText(JSON.stringify(source.sourcePartition));
  const offset = boundText(JSON.stringify(source.sourceOffset));
  return new RecordTooLargeError(
    `the record of source partition ${partition} at offset ${offset}: ${err.message}`,
    err,
    { cause: err },
  );
}
