import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { connect } from "amqplib";
import { isReachable } from "../support/services.js";

const run = promisify(execFile);

/** The AMQP URL of the test broker (RabbitMQ on loopback, guest/guest). */
export const amqpTestUrl = "amqp://guest:guest@127.0.0.1:5672";

/** Polls until an AMQP connection opens (`up`) or port 5672 stops answering (`!up`), at most `timeoutMs`. */
async function waitRabbit(up: boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!up && !(await isReachable("127.0.0.1", 5672, 300))) return;
    if (up) {
      const ok = await connect(amqpTestUrl).then(
        async (c) => (await c.close().catch(() => {}), true),
        () => false,
      );
      if (ok) return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`RabbitMQ did not ${up ? "come up" : "stop"} within ${timeoutMs} ms`);
}

/**
 * Restarts RabbitMQ's application (`rabbitmqctl stop_app`, then `start_app`,
 * the brief's service keeps its Erlang node) and waits until AMQP
 * connections open again. Durable quorum queues and persistent messages
 * survive it. If the node itself is down, starts it with the brief's
 * command (`rabbitmq-server -detached`).
 */
export async function restartRabbitmq(downMs = 500): Promise<void> {
  try {
    await run("rabbitmqctl", ["stop_app"], { timeout: 60_000 });
    await waitRabbit(false, 30_000);
    await new Promise((r) => setTimeout(r, downMs));
  } finally {
    await run("rabbitmqctl", ["start_app"], { timeout: 60_000 }).catch(async () => {
      await run("rabbitmq-server", ["-detached"]);
    });
    await waitRabbit(true, 60_000);
  }
}

/**
 * Deletes the queues a test run created: every queue of `exchange` whose
 * topic is under `root` or `dead-letter.<root>` (queue names are
 * `<exchange>.<group>.<topic>`), and, when `deleteExchange`, the exchange.
 */
export async function cleanupAmqp(exchange: string, root: string, deleteExchange = false): Promise<void> {
  const { stdout } = await run("rabbitmqctl", ["list_queues", "-q", "--no-table-headers", "name"], { timeout: 30_000 });
  const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const pattern = new RegExp(`^${esc(exchange)}\\.[A-Za-z0-9_-]+\\.(dead-letter\\.)?${esc(root)}(\\.|$)`);
  const queues = stdout.split("\n").map((l) => l.trim()).filter((name) => pattern.test(name));
  const conn = await connect(amqpTestUrl);
  try {
    const ch = await conn.createChannel();
    for (const q of queues) await ch.deleteQueue(q);
    if (deleteExchange) await ch.deleteExchange(exchange);
    await ch.close();
  } finally {
    await conn.close();
  }
}
