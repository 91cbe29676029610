/**
 * ListTransactions (API 66, KIP-664, Kafka ≥ 3.0): every transactional id the cluster's transaction
 * coordinators remember, whatever its state. A coordinator forgets an id `transactional.id.expiration.ms`
 * (7 days by default) after its last transaction. kafkajs cannot send it; ./flexible-protocol.ts does.
 * Asked of every broker (each coordinates the ids of its `__transaction_state` partitions), and only when
 * the offsets topic is missing (src/offsets/prior-runs.ts).
 * @module
 */
import type { Broker } from 'kafkajs';
import { KafkaOperationError } from './errors.ts';
import { CompactWriter, KafkaErrorCode, maxVersionOf, sendFlexible } from './flexible-protocol.ts';
import type { RawCluster } from './raw-cluster.ts';

const LIST_TRANSACTIONS = 66;

/** The ids, or undefined when a broker does not support ListTransactions (before Kafka 3.0). */
export async function listTransactionalIds(raw: RawCluster): Promise<readonly string[] | undefined> {
  const brokers = await raw.brokers();
  const answers = await Promise.all(brokers.map(transactionalIdsAt));
  if (answers.some((ids) => ids === undefined)) return undefined;
  return answers.flatMap((ids) => ids ?? []);
}

async function transactionalIdsAt(broker: Broker): Promise<string[] | undefined> {
  if ((await maxVersionOf(broker, LIST_TRANSACTIONS)) === undefined) return undefined;
  const body = new CompactWriter()
    .compactArray([], () => undefined) // StateFilters: every state
    .compactArray([], () => undefined) // ProducerIdFilters: every producer
    .noTaggedFields()
    .bytes();
  return sendFlexible(broker, {
    apiKey: LIST_TRANSACTIONS,
    apiVersion: 0,
    apiName: 'ListTransactions',
    body,
    parse: (reader) => {
      reader.int32(); // ThrottleTimeMs
      const errorCode = reader.int16();
      if (errorCode !== KafkaErrorCode.NONE) {
        const loading =
          errorCode === KafkaErrorCode.COORDINATOR_LOAD_IN_PROGRESS ||
          errorCode === KafkaErrorCode.COORDINATOR_NOT_AVAILABLE;
        throw new KafkaOperationError(`ListTransactions answered error code ${errorCode}`, {
          retriable: loading,
        });
      }
      for (let n = reader.compactArrayLength(); n > 0; n -= 1) reader.compactString(); // UnknownStateFilters
      const ids: string[] = [];
      for (let n = reader.compactArrayLength(); n > 0; n -= 1) {
        ids.push(reader.compactString()); // TransactionalId
        reader.int64(); // ProducerId
        reader.compactString(); // TransactionState
        reader.skipTaggedFields();
      }
      return ids;
    },
  });
}
