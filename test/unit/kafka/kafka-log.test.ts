import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { Redactor } from '../../../src/config/redaction.ts';
import { type KafkaLogLevel, kafkaLogOptions } from '../../../src/kafka/kafka-log.ts';

function logged(namespace: string, level: logLevel, message: string, extra: Record<string, unknown> = {}) {
  const lines: [KafkaLogLevel, string, Readonly<Record<string, unknown>>][] = [];
  const { logCreator } = kafkaLogOptions((l, m, f) => lines.push([l, m, f]), new Redactor());
  const entry = logCreator!(logLevel.DEBUG);
  entry({ namespace, level, label: 'ERROR', log: { timestamp: '', message, ...extra } });
  return lines;
}

describe('kafkaLogOptions', () => {
  it('passes errors on with only the safe fields', () => {
    expect(
      logged('Producer', logLevel.ERROR, 'Failed to send messages: broker down', {
        retryCount: 2,
        stack: 'at x',
        payload: 'secret',
      }),
    ).toEqual([['error', 'Failed to send messages: broker down', { kafkajs: 'Producer', retryCount: 2 }]]);
  });

  it('demotes what is retried above it to debug', () => {
    const demoted = [
      ['Connection', 'Response Produce(key: 0, version: 7)'],
      ['Producer', 'Limiting retries for the idempotent producer to 8'],
      [
        'Producer',
        'Failed to send messages: The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing',
      ],
    ] as const;
    for (const [namespace, message] of demoted) {
      expect(logged(namespace, logLevel.ERROR, message)[0]?.[0]).toBe('debug');
    }
  });
});
