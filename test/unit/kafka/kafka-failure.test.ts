import { inspect } from 'node:util';
import {
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSSASLAuthenticationError,
} from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { Redactor } from '../../../src/config/redaction.ts';
import { FencedError } from '../../../src/errors.ts';
import {
  KafkaAuthenticationError,
  KafkaAuthorizationError,
  KafkaOperationError,
  KafkaUnreachableError,
  TopicMissingError,
} from '../../../src/kafka/errors.ts';
import { describeEndpoint, type Endpoint, kafkaFailure } from '../../../src/kafka/kafka-failure.ts';

const endpoint: Endpoint = {
  brokers: ['b1:9096', 'b2:9096'],
  securityProtocol: 'SASL_SSL',
  mechanism: 'SCRAM-SHA-512',
  username: 'svc',
  redactor: new Redactor(['s3cret-pass']),
};

function protocolError(type: string, retriable = false) {
  return new KafkaJSProtocolError({ type, code: 0, retriable, message: `${type} happened` } as never);
}

describe('kafkaFailure', () => {
  it('describes where and how it connected', () => {
    expect(describeEndpoint(endpoint)).toBe(
      'brokers b1:9096,b2:9096 over SASL_SSL with SASL mechanism SCRAM-SHA-512 as user "svc"',
    );
    expect(describeEndpoint({ ...endpoint, mechanism: undefined, username: undefined }, 'b2:9096')).toBe(
      'broker b2:9096 over SASL_SSL',
    );
  });

  it('turns a refused login, however wrapped, into KafkaAuthenticationError', () => {
    // kafkajs' declarations lag its constructors: (message) and (error, { cause }).
    const SaslError = KafkaJSSASLAuthenticationError as unknown as new (message: string) => Error;
    const NonRetriable = KafkaJSNonRetriableError as unknown as new (e: Error, o: { cause: Error }) => Error;
    const refused = new SaslError('SASL SCRAM SHA512 authentication failed: invalid credentials');
    const wrapped = new NonRetriable(refused, { cause: refused });

    const err = kafkaFailure(wrapped, endpoint, 'connecting');

    expect(err).toBeInstanceOf(KafkaAuthenticationError);
    expect(err.message).toBe(
      'authentication failed at brokers b1:9096,b2:9096 over SASL_SSL with SASL mechanism SCRAM-SHA-512 as user "svc": ' +
        'SASL SCRAM SHA512 authentication failed: invalid credentials',
    );
    expect(err.cause).toBe(wrapped);
  });

  it('names the broker a connection failure carries and marks it retriable', () => {
    const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED', {
      broker: 'b2:9096',
    } as never);
    const exhausted = new KafkaJSNumberOfRetriesExceeded(refused, { retryCount: 5, retryTime: 800 } as never);

    const err = kafkaFailure(exhausted, endpoint, 'connecting');

    expect(err).toBeInstanceOf(KafkaUnreachableError);
    expect(err).toMatchObject({ retriable: true, code: 'CONNECT_FN_KAFKA_UNREACHABLE' });
    expect(err.message).toContain(
      'cannot reach broker b2:9096 over SASL_SSL with SASL mechanism SCRAM-SHA-512',
    );
  });

  it('classifies authorization failures, missing topics, and everything else with Kafka retriability', () => {
    expect(
      kafkaFailure(protocolError('TOPIC_AUTHORIZATION_FAILED'), endpoint, 'producing to t'),
    ).toBeInstanceOf(KafkaAuthorizationError);
    const missing = kafkaFailure(
      protocolError('UNKNOWN_TOPIC_OR_PARTITION', true),
      endpoint,
      'producing to t',
      't',
    );
    expect(missing).toBeInstanceOf(TopicMissingError);
    expect(missing.message).toContain('topic t does not exist');
    const other = kafkaFailure(protocolError('NOT_ENOUGH_REPLICAS', true), endpoint, 'producing to t');
    expect(other).toBeInstanceOf(KafkaOperationError);
    expect(other).toMatchObject({ retriable: true });
  });

  it('hides secrets in messages, and drops a cause whose text holds one', () => {
    const leaky = new Error('server said: bad password s3cret-pass');

    const err = kafkaFailure(leaky, endpoint, 'connecting');

    expect(err.message).toContain('bad password [hidden]');
    expect(err.cause).toBeUndefined();
    expect(inspect(err, { depth: 5 })).not.toContain('s3cret-pass');
  });

  it('passes our own errors and programmer errors through unchanged', () => {
    const fenced = new FencedError('fenced');
    const bug = new TypeError('x is not a function');

    expect(kafkaFailure(fenced, endpoint, 'committing')).toBe(fenced);
    expect(kafkaFailure(bug, endpoint, 'committing')).toBe(bug);
  });
});
