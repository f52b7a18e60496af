import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { sleep, waitFor, type CaseContext } from "./conformance-helpers.js";

const childScript = fileURLToPath(new URL("./consumer-child.ts", import.meta.url));

/**
 * A consumer process takes messages and is killed (SIGKILL) while handling
 * them, before any ack; a consumer in the same group must then receive and
 * handle every one of them (at-least-once: the broker redelivers after the
 * ack timeout).
 */
export async function crashRedelivery({ adapter, broker, topic, group }: CaseContext): Promise<void> {
  const t = topic("crash");
  const g = group("crash");
  const count = 5;
  const ackTimeoutMs = 1000;
  const child = fork(childScript, [JSON.stringify({ url: adapter.url, topic: t.name, group: g, ackTimeoutMs, concurrency: count, prefetch: count })], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, FERRY_LOG_LEVEL: "silent" },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const started: string[] = [];
  let ready = false;
  child.on("message", (m: { started?: string; ready?: boolean }) => {
    if (m.ready) ready = true;
    if (m.started !== undefined) started.push(m.started);
  });
  try {
    await waitFor(() => ready, "the child consumer to subscribe", 15_000);
    const sent = Array.from({ length: count }, (_, i) => `m${i}`);
    for (const text of sent) await broker.publish(t, { text });
    await waitFor(() => started.length === count, "the child to start handling every message");
    child.kill("SIGKILL");
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once("exit", r)));
    const handled: { text: string; attempt: number }[] = [];
    const sub = await broker.subscribe(t, { group: g, ackTimeoutMs }, (m, d) => void handled.push({ text: m.text, attempt: d.deliveryAttempt }));
    await waitFor(() => handled.length >= count, "every message to be redelivered", 15_000);
    await sleep(200);
    expect(handled.map((h) => h.text).sort()).toEqual(sent);
    for (const h of handled) expect(h.attempt).toBeGreaterThanOrEqual(2);
    await sub.stop();
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}
