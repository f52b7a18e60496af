import { defineConfig } from "vitest/config";
import { isolatedSpecs } from "./vitest.config.js";

/**
 * The second phase of `npm test`: the multi-host tests (test/multihost),
 * alone. They time a three-node NATS cluster's failover (Raft elections,
 * registry TTLs) against pass criteria measured in seconds; with two other
 * test files competing for the two cores the JetStream leader election once
 * took the whole 10 s partition, so they run after the main suite, one file
 * at a time, on an otherwise quiet machine.
 */
export default defineConfig({
  test: {
    include: isolatedSpecs,
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: "forks",
    maxWorkers: 1,
    minWorkers: 1,
  },
});
