import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadBundle } from '../../../src/config/bundle.ts';
import { builtinRegistry, sourceConnectors } from '../../../src/connectors/builtins.ts';
import { datagenConnector, iterationShare } from '../../../src/connectors/datagen/connector.ts';
import { ConfigInvalidError } from '../../../src/errors.ts';
import { writeBundle } from '../../support/bundle-fixture.ts';

describe('datagen: configuration', () => {
  it("validates Confluent's class name and keys from a bundle, and splits iterations across tasks", () => {
    const dir = writeBundle({
      'connectors/orders.properties': [
        'name=orders',
        'connector.class=io.confluent.kafka.connect.datagen.DatagenConnector',
        'tasks.max=3',
        'kafka.topic=orders',
        'quickstart=ORDERS',
        'iterations=10',
        'max.interval=100',
      ].join('\n'),
    });
    const connector = loadBundle(dir, { registry: builtinRegistry() }).connector('orders');
    expect(connector.plugin).toBe('datagen');
    expect(connector.config).toMatchObject({ quickstart: 'orders', iterations: 10, 'batch.size': 1000 });
    const configs = datagenConnector.taskConfigs(connector.config, connector.common['tasks.max']);
    expect(configs.map((c) => [c['task.id'], c['task.count'], c['task.iterations']])).toEqual([
      [0, 3, 4],
      [1, 3, 3],
      [2, 3, 3],
    ]);
  });

  it('refuses seed and random.seed together', () => {
    const dir = writeBundle({
      'connectors/d.properties': 'name=d\nconnector.class=datagen\nkafka.topic=t\nseed=1\nrandom.seed=2\n',
    });
    expect(() => loadBundle(dir, { registry: builtinRegistry() })).toThrow(ConfigInvalidError);
  });

  it('shares iterations so that the shares add up, and keeps unlimited unlimited', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 50 }), (n, tasks) => {
        const shares = Array.from({ length: tasks }, (_, t) => iterationShare(n, t, tasks));
        expect(shares.reduce((a, b) => a + b, 0)).toBe(n);
        expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
      }),
    );
    expect([iterationShare(-1, 0, 2), iterationShare(0, 1, 2)]).toEqual([-1, -1]);
  });

  it('is registered as a source connector under its canonical name', () => {
    expect(sourceConnectors().get('datagen')).toBe(datagenConnector);
    expect(builtinRegistry().find('connector', 'DatagenConnector')?.name).toBe('datagen');
  });
});
