import { defineConfig } from "vitest/config";

/**
 * The main suite. Tests that restart a shared broker service
 * (test/messaging/broker-restart.spec.ts) would disturb files running in
 * parallel on the same broker, so they run afterwards, alone, with
 * vitest.restart.config.ts (`npm test` runs both).
 */
export const restartSpecs = ["test/messaging/broker-restart.spec.ts"];

export default defineConfig({
  test: {
    include: ["src/**/*.spec.ts", "test/**/*.spec.ts", "examples/**/*.spec.ts"],
    exclude: ["**/node_modules/**", ...restartSpecs],
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
