import { defineConfig } from "vitest/config";

/**
 * The whole suite. No test stops or restarts a service of the machine: a
 * test that restarts a broker starts its own process on free ports with its
 * own data directory (test/messaging/private-brokers.ts), so every file runs
 * in this one phase.
 */
export default defineConfig({
  test: {
    include: ["src/**/*.spec.ts", "test/**/*.spec.ts", "examples/**/*.spec.ts"],
    exclude: ["**/node_modules/**"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: "forks",
    // Most slow files wait on brokers, child processes and timers rather than
    // CPU: three files at a time keeps both cores busy (about 9 minutes with
    // one at a time on 2 cores).
    maxWorkers: 3,
    minWorkers: 1,
  },
});
