import { defineConfig } from 'vitest/config';

// Two tiers (DESIGN.md §6): `unit` needs no network and runs in seconds; `integration` talks to a real
// Kafka broker and a real DynamoDB Local, started once per run by test/stack/global-setup.ts (or taken
// from KAFKA_BROKERS / DYNAMODB_ENDPOINT when set).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/stack/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
