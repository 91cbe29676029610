/**
 * Where a connector's tasks report conditions worth a warning that are not errors (a missing input file,
 * a file that shrank). The composition root passes the structured logger (its `warn` fits this shape);
 * without one, warnings go to `process.emitWarning`, which Lambda's log capture still sees.
 *
 * @example
 * ```ts
 * const connectors = sourceConnectors({ log: logger }); // logger from createLogger(...)
 * ```
 * @module
 */

export interface TaskLog {
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

/** The fallback: a Node process warning (`(node:pid) Warning: ...` on stderr) with the fields as JSON. */
export const processWarningLog: TaskLog = {
  warn(message, fields) {
    process.emitWarning(fields === undefined ? message : `${message} ${JSON.stringify(fields)}`, {
      code: 'CONNECT_FN_TASK_WARNING',
    });
  },
};
