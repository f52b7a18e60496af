import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { connect } from "amqplib";

const run = promisify(execFile);

/** The AMQP URL of the test broker (RabbitMQ on loopback, guest/guest). */
export const amqpTestUrl = "amqp://guest:guest@127.0.0.1:5672";

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
