import { defineConfig } from "vitest/config";
import { restartSpecs } from "./vitest.config.js";

/**
 * The broker-restart tests, run after the main suite with nothing else on the
 * brokers, so they restart the shared services themselves (NATS with the
 * brief's start command, RabbitMQ with rabbitmqctl).
 */
export default defineConfig({
  test: {
    include: restartSpecs,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    fileParallelism: false,
    env: { FERRY_RESTART_SHARED_NATS: "1" },
  },
});
