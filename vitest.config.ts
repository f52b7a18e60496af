import { defineConfig } from "vitest/config";

/**
 * Test files that time a cluster's failover against criteria measured in
 * seconds: they run in a second phase, alone (vitest.multihost.config.ts;
 * `npm test` runs both phases).
 */
export const isolatedSpecs = ["test/multihost/**/*.spec.ts"];

/**
 * The main suite. No test stops or restarts a service of the machine: a
 * test that restarts a broker starts its own process on free ports with its
 * own data directory (test/messaging/private-brokers.ts).
 */
export default defineConfig({
  test: {
    include: ["src/**/*.spec.ts", "test/**/*.spec.ts", "examples/**/*.spec.ts"],
    exclude: ["**/node_modules/**", ...isolatedSpecs],
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
