/** What the consistency benchmarks share: the machine's services, a topic of their own, quiet logs. */
import { randomBytes } from "node:crypto";
import { StringValueSchema } from "@bufbuild/protobuf/wkt";
import { defineTopic } from "../../src/messaging/topic.js";

/** The PostgreSQL server of the development machines (`FERRY_BENCH_POSTGRES_URL` overrides it). */
export const postgresUrl = process.env.FERRY_BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** The NATS JetStream server of the development machines (`FERRY_BENCH_NATS_URL` overrides it). */
export const natsUrl = process.env.FERRY_BENCH_NATS_URL ?? "nats://127.0.0.1:4222";

/** A logger that drops everything. */
export const quietLogger = { error() {}, warn() {}, info() {}, debug() {} };

/** A schema of its own for one run (dropped afterwards). */
export function benchSchema(): string {
  return `ferry_bench_${randomBytes(5).toString("hex")}`;
}

/** A topic with a root of its own, `ferry-bench-<random>.events` (its JetStream stream is deleted afterwards). */
export function benchTopic() {
  return defineTopic(`ferry-bench-${randomBytes(4).toString("hex")}.events`, StringValueSchema);
}
