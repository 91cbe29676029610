/** Which Kafka the stack starts (src/stack/kafka-version.ts) and the log4j 2 config a 4.x broker gets. */
import { describe, expect, it } from 'vitest';
import { StackError } from '../../../src/errors.ts';
import { log4j2Config } from '../../../src/stack/kafka-node.ts';
import { DEFAULT_KAFKA_VERSION, kafkaVersionFrom } from '../../../src/stack/kafka-version.ts';

describe('kafkaVersionFrom', () => {
  it('is 3.9.2 by default and takes a 4.x release from CONNECT_FN_KAFKA_VERSION', () => {
    expect(kafkaVersionFrom({})).toBe(DEFAULT_KAFKA_VERSION);
    expect(kafkaVersionFrom({ CONNECT_FN_KAFKA_VERSION: '' })).toBe('3.9.2');
    expect(kafkaVersionFrom({ CONNECT_FN_KAFKA_VERSION: ' 4.1.2 ' })).toBe('4.1.2');
  });

  it('refuses versions it cannot start, saying which it can', () => {
    for (const asked of ['3.8.1', '5.0.0', '4.1', 'latest', `4.1.2${'x'.repeat(500)}`]) {
      const err = (() => {
        try {
          return kafkaVersionFrom({ CONNECT_FN_KAFKA_VERSION: asked });
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(StackError);
      expect(String(err)).toMatch(/starts Kafka 3\.9\.2 \(the default\) or a 4\.x release/);
      expect(String(err).length).toBeLessThan(300);
    }
  });
});

describe('log4j2Config', () => {
  it('sends everything to the log file, request logging at WARN as in Kafka 4 own config', () => {
    const config = log4j2Config('/tmp/x/kafka.log');
    expect(config).toContain('appender.file.fileName = /tmp/x/kafka.log');
    expect(config).toContain('rootLogger.appenderRef.file.ref = file');
    expect(config).toContain('logger.request.name = kafka.request.logger');
  });
});
