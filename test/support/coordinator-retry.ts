/**
 * `read()`, asked again while the broker answers with a retriable error: on a freshly started broker the
 * group coordinator moves or is still loading (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS), which
 * kafkajs' admin.fetchOffsets does not retry. Bounded as a hang detector, not a timing assertion.
 * @module
 */
export async function whileCoordinatorMoves<T>(read: () => Promise<T>): Promise<T> {
  const until = Date.now() + 60_000;
  for (;;) {
    try {
      return await read();
    } catch (err) {
      const retriable = (err as { retriable?: unknown }).retriable === true;
      if (!retriable || Date.now() >= until) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
