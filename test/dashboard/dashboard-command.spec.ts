/**
 * `ferry dashboard` as a user runs it (a child process from source): it
 * prints its address, serves the page and the OTLP receiver until SIGINT,
 * then exits 0; usage and configuration mistakes exit with their status.
 */
import type { ChildProcess } from "node:child_process";
import { describe, expect, it } from "vitest";
import { runFerry } from "../cli/run-ferry.js";

describe("ferry dashboard", () => {
  it("prints its address, answers on it (with --broker and --registry), and exits 0 on SIGINT", async () => {
    let child: ChildProcess | undefined;
    let printed = "";
    let resolveUrl: (url: string) => void = () => {};
    const address = new Promise<string>((resolve) => (resolveUrl = resolve));
    const run = runFerry(["dashboard", "--port", "0", "--broker", "memory:", "--registry", "memory:"], {
      onSpawn: (c) => {
        child = c;
        c.stdout?.on("data", (d: Buffer | string) => {
          printed += d.toString();
          const url = /Ferry dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(printed)?.[1];
          if (url !== undefined) resolveUrl(url);
        });
      },
    });
    const url = await address;
    expect(printed).toContain(`OTLP/HTTP: ${url}v1/traces  ${url}v1/metrics`);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<title>Ferry dashboard</title>");
    const posted = await fetch(`${url}v1/traces`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"resourceSpans":[]}' });
    expect(posted.status).toBe(200);
    const redrive = await fetch(`${url}api/messaging/redrive`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"topic":"shop.orders.placed","group":"billing"}' });
    expect(await redrive.json()).toEqual({ moved: 0, skipped: 0 });
    expect(((await (await fetch(`${url}api/topology`)).json()) as { registry: unknown }).registry).toEqual({ kind: "memory" });
    child?.kill("SIGINT");
    const result = await run;
    expect(result.code).toBe(0);
  });

  it("exits 3 (INVALID_ARGUMENT) bound off loopback without a token", async () => {
    const result = await runFerry(["dashboard", "--port", "0", "--host", "0.0.0.0"]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/requires a token/);
  });

  it("exits 2 for a port that is not a number", async () => {
    const result = await runFerry(["dashboard", "--port", "http"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--port must be an integer/);
  });
});
