/**
 * Which partitions a sink task reads: Kafka Connect's subscription (`topics` or `topics.regex`), spread over
 * the tasks deterministically — every topic-partition sorted by topic then partition, dealt round robin
 * (partition `i` of that list goes to task `i % taskCount`). Recomputed from metadata on every invocation,
 * so partitions added to a topic, and topics that start matching `topics.regex`, are picked up.
 *
 * A task reads only its own partitions and commits only their offsets, so two tasks never commit the same
 * partition, whatever the invocations' timing.
 * @module
 */
import { ConnectFnError } from '../errors.ts';
import type { TopicPartition } from '../spi/sink.ts';
import type { TopicCatalog } from './ports.ts';

/** The sink's subscription: exactly one of the two (the bundle validation makes sure of that). */
export type Subscription =
  | { readonly topics: readonly string[]; readonly regex?: undefined }
  | { readonly topics?: undefined; readonly regex: string };

/** A topic the sink names in `topics` does not exist. */
export class SinkTopicMissingError extends ConnectFnError {
  readonly code = 'CONNECT_FN_SINK_TOPIC_MISSING';
}

/**
 * The partitions of task `taskId` of `taskCount`, sorted by topic then partition.
 *
 * @example
 * ```ts
 * await assignPartitions({ topics: ['orders'] }, admin, 1, 2); // orders-1, orders-3, ...
 * ```
 */
export async function assignPartitions(
  subscription: Subscription,
  catalog: TopicCatalog,
  taskId: number,
  taskCount: number,
): Promise<TopicPartition[]> {
  const topics = await subscribedTopics(subscription, catalog);
  const all: TopicPartition[] = [];
  for (const topic of topics) {
    const count = await catalog.partitionCount(topic).catch((err: unknown) => {
      if (subscription.topics !== undefined && isMissingTopic(err)) {
        throw new SinkTopicMissingError(`topics names ${topic}, which does not exist`, { cause: err });
      }
      throw err;
    });
    for (let partition = 0; partition < count; partition++) all.push({ topic, partition });
  }
  return all.filter((_, i) => i % taskCount === taskId);
}

async function subscribedTopics(subscription: Subscription, catalog: TopicCatalog): Promise<string[]> {
  if (subscription.topics !== undefined) return [...new Set(subscription.topics)].sort(byCodeUnits);
  const subscribes = subscriptionFilter(subscription);
  return (await catalog.topics()).filter(subscribes).sort(byCodeUnits);
}

/**
 * Whether the sink reads `topic`: it is one of `topics`, or `topics.regex` matches its whole name (Java's
 * `Pattern.matcher(topic).matches()`, as Connect's consumer subscription).
 *
 * @example
 * ```ts
 * subscriptionFilter({ regex: 'orders-.*' })('orders-eu'); // true
 * subscriptionFilter({ topics: ['orders'] })('payments'); // false
 * ```
 */
export function subscriptionFilter(subscription: Subscription): (topic: string) => boolean {
  if (subscription.topics !== undefined) {
    const topics = new Set(subscription.topics);
    return (topic) => topics.has(topic);
  }
  const pattern = new RegExp(`^(?:${subscription.regex})$`);
  return (topic) => pattern.test(topic);
}

/** The subscription as the connector configures it, for messages: `topics=a,b` or `topics.regex=...`. */
export function describeSubscription(subscription: Subscription): string {
  const text =
    subscription.topics !== undefined
      ? `topics=${subscription.topics.join(',')}`
      : `topics.regex=${subscription.regex}`;
  // A topic name has at most 249 characters, but a list of them (or a regex) has no bound.
  return text.length <= MAX_SHOWN ? text : `${text.slice(0, MAX_SHOWN)}... (${text.length} characters)`;
}

const MAX_SHOWN = 300;

function isMissingTopic(err: unknown): boolean {
  return err instanceof ConnectFnError && err.code === 'CONNECT_FN_KAFKA_TOPIC_MISSING';
}

/** Sorted as Java sorts strings (UTF-16 code units), not by locale. */
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
