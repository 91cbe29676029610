import { defineConfig } from 'vitest/config';

// The tiers (DESIGN.md §6): `unit` needs no network and runs in seconds; `integration` talks to a real
// Kafka broker and a real DynamoDB Local, started once per run by test/stack/global-setup.ts (or taken
// from KAFKA_BROKERS / DYNAMODB_ENDPOINT when set). `faults` (test/faults) uses the same setup.
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
      {
        // Fault injection against a real stack (issue 3, "Reliability"): every invocation is a
        // `connect-fn run` child that gets killed, stopped or starved. The setup is the integration one
        // (test/faults/global-setup.ts says why it wraps it). Files run one at a time: the deadline file
        // measures timings, and the others keep both cores busy on their own.
        test: {
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          globalSetup: ['test/faults/global-setup.ts'],
          // A hang detector, not a measure: with both cores busy a child's cold start took ~7 s, and the
          // kill rounds (tens of children each) ran past 180 s (issue 10).
          testTimeout: 600_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
      {
        // The packaged function under AWS's Lambda Runtime Interface Emulator and Node.js runtime
        // interface client (test/e2e/support). The setup installs both on a cold cache (minutes: the client
        // compiles a native addon) while the stack starts; each test starts its own emulator.
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/e2e/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
