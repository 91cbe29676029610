/**
 * One step of a sequential reader, started before it is asked for: while the caller converts and
 * delivers what the last step gave, the next step's request is already on its way (GetRecords on
 * DynamoDB Local answers 1000 changes in ~100-300 ms; started only at the next poll, that time adds to
 * every batch the cycle's delivery takes longer to overlap).
 *
 * Bounds: at most one step ahead — one started ({@link ReadAhead.schedule}) or one result held back
 * ({@link ReadAhead.hold}), never both — and steps never overlap: a step is scheduled only after the
 * last one was taken and settled. A scheduled step starts on the next turn of the event loop (after the
 * caller has its result), and a step not yet started when it is asked for is simply run then.
 *
 * @example
 * ```ts
 * const ahead = new ReadAhead<Page | undefined>();
 * const page = await (ahead.take() ?? step());
 * ahead.schedule(step); // the next page is read while this one is used
 * await ahead.close(); // aborts a step in flight (ahead.signal), waits for it to settle
 * ```
 * @module
 */

export class ReadAhead<T> {
  readonly #abort = new AbortController();
  #scheduled: NodeJS.Immediate | undefined;
  #pending: Promise<T> | undefined;

  /** Aborted by {@link close}: a step's requests pass it on, so a step in flight ends at once. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Starts `step` on the next turn of the event loop; a no-op after {@link close}. */
  schedule(step: () => Promise<T>): void {
    if (this.#abort.signal.aborted) return;
    if (this.#scheduled !== undefined || this.#pending !== undefined) {
      throw new Error('read-ahead: one step ahead at most');
    }
    this.#scheduled = setImmediate(() => {
      this.#scheduled = undefined;
      const pending = step();
      // Awaited by take() (which rethrows) or close(); never left unhandled meanwhile.
      pending.catch(() => undefined);
      this.#pending = pending;
    });
  }

  /** Keeps `value` for the next {@link take} (what a step gave beyond what the caller took). */
  hold(value: T): void {
    if (this.#scheduled !== undefined || this.#pending !== undefined) {
      throw new Error('read-ahead: one step ahead at most');
    }
    this.#pending = Promise.resolve(value);
  }

  /**
   * The step started or the value held, once; undefined when there is none (a step scheduled but not yet
   * started is dropped: the caller runs it now, the same step).
   */
  take(): Promise<T> | undefined {
    clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    const pending = this.#pending;
    this.#pending = undefined;
    return pending;
  }

  /** Drops what is ahead: a step not started never starts, one in flight is aborted and awaited. */
  async close(): Promise<void> {
    this.#abort.abort();
    await this.take()?.catch(() => undefined);
  }
}
