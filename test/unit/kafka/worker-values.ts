/**
 * Worker configurations for the Kafka adapters' tests: every connection key at its default, plus overrides.
 */
import { Redactor } from '../../../src/config/redaction.ts';
import type { ConnectionValues, KafkaWorkerConfig } from '../../../src/kafka/index.ts';
import type { Endpoint } from '../../../src/kafka/kafka-failure.ts';

/** The endpoint faked adapters report in their errors: one plaintext broker `b:9092`. */
export function fakeEndpoint(): Endpoint {
  return {
    brokers: ['b:9092'],
    securityProtocol: 'PLAINTEXT',
    mechanism: undefined,
    username: undefined,
    redactor: new Redactor(),
  };
}

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
