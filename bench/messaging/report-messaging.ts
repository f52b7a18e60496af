import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { formatConditions, readConditions } from "../lib/conditions.js";
import { DOCS_PATH } from "../lib/report.js";
import { PAYLOAD_BYTES } from "./payload.js";
import type { MessagingOptions } from "./options.js";

/** Where the latest messaging run's report goes (gitignored, beside the RPC suite's latest.md). */
export const MESSAGING_LATEST_PATH = fileURLToPath(new URL("../results/messaging-latest.md", import.meta.url));
/** Markers around the generated messaging section in docs/benchmarks.md. */
export const MESSAGING_START = "<!-- bench:messaging:start -->";
export const MESSAGING_END = "<!-- bench:messaging:end -->";

/** The conditions of a messaging run as a markdown list. */
export function messagingConditions(options: MessagingOptions): string {
  const base = readConditions({ runs: options.runs, seconds: options.seconds, warmupSeconds: options.warmupSeconds });
  const conditions = formatConditions({
    ...base,
    pinning: "not pinned: publisher and consumer in one Node process (the runner); the brokers run on the same cores",
  });
  return [
    conditions,
    `- Payload ${PAYLOAD_BYTES} bytes (Ferry: the \`payload\` field of \`ferry.test.v1.EchoRequest\`, 102 bytes encoded; raw: the bytes as they are)`,
    `- publish: ${options.inFlight} publishes in flight, each awaited for its broker confirmation; one consumer group exists, nothing consumes`,
    `- e2e: one subscription in one group; latency from the publish call to the handler at ${options.ratePerSecond} msgs/s; sustained: ${options.inFlight} publishes in flight while consuming, at most ${options.maxOutstanding} messages published and not yet handled, handled msgs/s within the window`,
    "- Brokers on 127.0.0.1: NATS JetStream 4222 (file store), RabbitMQ 5672 (quorum queues), Redis 6379 (no persistence)",
  ].join("\n");
}

/** The messaging section: an optional note, the conditions, then the tables. */
export function formatMessagingResults(conditions: string, tables: readonly { title: string; table: string }[], note: string | undefined): string {
  const parts = [];
  if (note !== undefined) parts.push(`> **${note}**`);
  parts.push(conditions);
  for (const t of tables) parts.push(`#### ${t.title}\n\n${t.table}`);
  return parts.join("\n\n");
}

/** Writes bench/results/messaging-latest.md. */
export function writeMessagingLatest(results: string): void {
  mkdirSync(dirname(MESSAGING_LATEST_PATH), { recursive: true });
  writeFileSync(MESSAGING_LATEST_PATH, `# Ferry messaging benchmark: latest run\n\n${results}\n`);
}

/** Replaces the messaging section between its markers in docs/benchmarks.md (appends one when missing). */
export function writeMessagingDocs(results: string): void {
  const section = `${MESSAGING_START}\n${results}\n${MESSAGING_END}`;
  const current = existsSync(DOCS_PATH) ? readFileSync(DOCS_PATH, "utf8") : "# Benchmarks\n";
  const start = current.indexOf(MESSAGING_START);
  const end = current.indexOf(MESSAGING_END);
  const next = start >= 0 && end > start
    ? current.slice(0, start) + section + current.slice(end + MESSAGING_END.length)
    : `${current.trimEnd()}\n\n## Messaging results\n\n${section}\n`;
  writeFileSync(DOCS_PATH, next);
}
