/**
 * Worker configurations for the Kafka adapters' tests: every connection key at its default, plus overrides.
 */
import type { ConnectionValues, KafkaWorkerConfig } from '../../../src/kafka/index.ts';

export function connectionValues(overrides: Partial<ConnectionValues> = {}): ConnectionValues {
  return {
    'bootstrap.servers': ['127.0.0.1:9092'],
    'security.protocol': 'PLAINTEXT',
    'sasl.mechanism': 'PLAIN',
    'sasl.jaas.config': undefined,
    'ssl.truststore.location': undefined,
    'ssl.truststore.certificates': undefined,
    'ssl.keystore.location': undefined,
    'ssl.keystore.certificate.chain': undefined,
    'ssl.keystore.key': undefined,
    'ssl.key.password': undefined,
    'ssl.endpoint.identification.algorithm': 'https',
    'aws.region': undefined,
    ...overrides,
  };
}

/** A worker for `brokers` (comma-separated), with connection values and `producer.*` etc. overrides. */
export function kafkaWorker(
  brokers: string,
  values: Partial<ConnectionValues> = {},
  clients: KafkaWorkerConfig['clients'] = {},
): KafkaWorkerConfig {
  return {
    file: 'worker.properties',
    values: connectionValues({ 'bootstrap.servers': brokers.split(','), ...values }),
    clients,
  };
}

/** Connect's JAAS line for a SCRAM user. */
export function scramJaas(username: string, password: string): string {
  return `org.apache.kafka.common.security.scram.ScramLoginModule required username="${username}" password="${password}";`;
}
