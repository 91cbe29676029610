import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createKafkaClients,
  KafkaAuthenticationError,
  KafkaUnreachableError,
} from '../../../src/kafka/index.ts';
import { type KafkaScramAccess, stackEnv } from '../../stack/env.ts';
import { kafkaWorker, scramJaas } from '../../unit/kafka/worker-values.ts';
import { freshTopic, inSeconds, rawAdmin, readAll, record, values } from './support.ts';

function scramWorker(
  scram: KafkaScramAccess,
  mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512',
  password: string,
) {
  return kafkaWorker(scram.brokers, {
    'security.protocol': 'SASL_PLAINTEXT',
    'sasl.mechanism': mechanism,
    'sasl.jaas.config': scramJaas(scram.username, password),
  });
}

/** Everything a user could see of an error: message, stack, and its causes as Node prints them. */
function everythingShown(err: unknown): string {
  return `${String(err)}\n${(err as Error).stack}\n${inspect(err, { depth: 10 })}\n${JSON.stringify(err)}`;
}

/**
 * A TCP proxy to `target` (`host:port`) that counts the connections made through it: each connection to a
 * SASL listener is one authentication attempt (kafkajs authenticates once per connection).
 */
async function connectionCountingProxy(
  target: string,
): Promise<{ address: string; connections: () => number; close: () => Promise<void> }> {
  const [host, port] = [
    target.slice(0, target.lastIndexOf(':')),
    Number(target.slice(target.lastIndexOf(':') + 1)),
  ];
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    connections += 1;
    const upstream = connect(port, host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: listening } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${listening}`,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('SASL/SCRAM against the real broker', () => {
  let topic: string;

  beforeAll(async () => {
    const admin = await rawAdmin();
    topic = await freshTopic(admin, 'scram');
    await admin.disconnect();
  });

  for (const mechanism of ['SCRAM-SHA-512', 'SCRAM-SHA-256'] as const) {
    it(`produces and reads back through the SCRAM listener with ${mechanism}`, async (context) => {
      const scram = stackEnv().kafkaScram;
      if (scram === undefined) return context.skip();
      const clients = createKafkaClients(scramWorker(scram, mechanism, scram.password));
      const writer = clients.recordWriter();
      const reader = clients.partitionReader();
      try {
        const start = (await reader.endOffsets(topic, [0])).get(0)!;
        await writer.send([record(topic, `${mechanism}-1`), record(topic, `${mechanism}-2`)]);

        const batches = await readAll(reader, {
          topic,
          partition: 0,
          fromOffset: start,
          deadlineMs: inSeconds(10),
        });

        expect(values(batches)).toEqual([`${mechanism}-1`, `${mechanism}-2`]);
      } finally {
        await writer.close();
        await reader.close();
      }
    });
  }

  it('fails a wrong password with an error naming the broker and the mechanism, and no secret', async (context) => {
    const scram = stackEnv().kafkaScram;
    if (scram === undefined) return context.skip();
    const wrongPassword = `${scram.password.slice(0, 8)}-not-it`;
    const proxy = await connectionCountingProxy(scram.brokers);
    const clients = createKafkaClients(
      scramWorker({ ...scram, brokers: proxy.address }, 'SCRAM-SHA-512', wrongPassword),
    );
    const writer = clients.recordWriter();
    try {
      const failure = await writer.send([record(topic, 'never')]).then(
        () => undefined,
        (err: unknown) => err,
      );

      expect(failure).toBeInstanceOf(KafkaAuthenticationError);
      const err = failure as KafkaAuthenticationError;
      expect(err.code).toBe('CONNECT_FN_KAFKA_AUTHENTICATION');
      expect(err.retriable).toBe(false);
      expect(err.message).toContain(proxy.address);
      expect(err.message).toContain('SCRAM-SHA-512');
      expect(err.message).toContain(`"${scram.username}"`);
      const shown = everythingShown(err);
      expect(shown).not.toContain(wrongPassword);
      expect(shown).not.toContain(scram.password);
      // Not retried as if the broker were away: one connection, so one authentication, was ever made.
      expect(proxy.connections()).toBe(1);
    } finally {
      await writer.close();
      await proxy.close();
    }
  });

  it('fails an unreachable broker with an error naming it and the mechanism', async (context) => {
    const scram = stackEnv().kafkaScram;
    if (scram === undefined) return context.skip();
    const worker = scramWorker({ ...scram, brokers: '127.0.0.1:1' }, 'SCRAM-SHA-256', scram.password);
    const clients = createKafkaClients({ ...worker, clients: { producer: { retries: '1' } } });
    const writer = clients.recordWriter();
    try {
      const failure = await writer.connect().then(
        () => undefined,
        (err: unknown) => err,
      );

      expect(failure).toBeInstanceOf(KafkaUnreachableError);
      const err = failure as KafkaUnreachableError;
      expect(err.retriable).toBe(true);
      expect(err.message).toMatch(/127\.0\.0\.1:1\b/);
      expect(err.message).toContain('SCRAM-SHA-256');
      expect(everythingShown(err)).not.toContain(scram.password);
    } finally {
      await writer.close();
    }
  });

  afterAll(async () => {
    if (topic === undefined) return;
    const admin = await rawAdmin();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });
});
