/**
 * How integration tests find the stack that test/stack/global-setup.ts started (or took from
 * KAFKA_BROKERS / DYNAMODB_ENDPOINT).
 *
 * @example
 * ```ts
 * import { stackEnv } from '../stack/env.ts';
 * const { kafkaBrokers, dynamodbEndpoint } = stackEnv();
 * const kafka = new Kafka({ brokers: kafkaBrokers.split(',') });
 * ```
 * @module
 */
import { inject } from 'vitest';
import type { KafkaScramAccess } from '../../src/stack/index.ts';
import { LOCAL_AWS } from '../../src/stack/readiness.ts';

export type { KafkaScramAccess } from '../../src/stack/index.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `host:port[,host:port...]` of the integration tests' Kafka. */
    kafkaBrokers: string;
    /** `http://host:port` of the integration tests' DynamoDB (Local). */
    dynamodbEndpoint: string;
    /** The broker's SASL_PLAINTEXT/SCRAM listener and its user; null when there is none. */
    kafkaScram: KafkaScramAccess | null;
    /** Which services the setup started itself (false: taken from KAFKA_BROKERS / DYNAMODB_ENDPOINT). */
    stackStarted: { kafka: boolean; dynamodb: boolean };
  }
}

export interface StackEnv {
  readonly kafkaBrokers: string;
  readonly dynamodbEndpoint: string;
  /** The SCRAM listener; undefined for a broker from `KAFKA_BROKERS` without `KAFKA_SCRAM_*` (tests skip). */
  readonly kafkaScram: KafkaScramAccess | undefined;
  /** False for a service given by the environment: a test about our broker's defaults then skips. */
  readonly started: { readonly kafka: boolean; readonly dynamodb: boolean };
}

/** The addresses provided by the global setup; only callable inside a vitest test file. */
export function stackEnv(): StackEnv {
  return {
    kafkaBrokers: inject('kafkaBrokers'),
    dynamodbEndpoint: inject('dynamodbEndpoint'),
    kafkaScram: inject('kafkaScram') ?? undefined,
    started: inject('stackStarted'),
  };
}

/** Region and dummy credentials for clients of DynamoDB Local (`{ ...localAws, endpoint }`). */
export const localAws = LOCAL_AWS;
