/**
 * `npm start` as a user runs it: the printed curl commands work as printed,
 * a busy port gives a one-line message naming the flag, and Ctrl-C (SIGINT)
 * shuts down gracefully; with observability, it prints its /metrics address,
 * the scrape counts the calls made, and with OTEL_EXPORTER_OTLP_ENDPOINT set
 * the checkout's trace reaches an OTLP/HTTP receiver under service.name "shop".
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { promisify } from "node:util";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../../test/observability/otel-harness.js";
import { decodeTraceRequest, startOtlpReceiver } from "../../test/observability/otlp-receiver.js";

const run = promisify(execFile);
const children: ChildProcess[] = [];

function startMain(args: string[], env: Record<string, string> = {}): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  // Free metrics and dashboard ports unless the test names them: 9464 and 9400
  // may be taken by another shop on this machine.
  const metrics = [
    ...(args.includes("--metrics-port") ? [] : ["--metrics-port", "0"]),
    ...(args.includes("--dashboard-port") ? [] : ["--dashboard-port", "0"]),
  ];
  const child = spawn(process.execPath, ["--import", "tsx", "examples/shop/main.ts", ...args, ...metrics], {
    env: { ...process.env, FERRY_LOG_LEVEL: "silent", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function waitForText(output: () => string, text: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!output().includes(text)) {
    if (Date.now() > end) throw new Error(`timed out waiting for "${text}"; output so far:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
});

// Each test starts npm start in a child (tsx) whose calls wait for its PGlite store to open: seconds on a loaded machine.
describe("npm start (examples/shop/main.ts)", { timeout: 45_000 }, () => {
  it("prints addresses and curl commands (getting a token, then using it) that work as printed; Ctrl-C stops it cleanly", async () => {
    const [grpcPort, httpPort] = [await freePort(), await freePort()];
    const main = startMain(["--grpc-port", String(grpcPort), "--http-port", String(httpPort)]);
    await waitForText(main.output, "Ctrl-C stops it.");
    expect(main.output()).toContain(`grpc://127.0.0.1:${grpcPort}`);
    const commands = main.output().split("\n").filter((l) => l.trim().startsWith("curl "));
    expect(commands).toHaveLength(4);
    const results = [];
    for (const cmd of commands) results.push((await run("sh", ["-c", `${cmd.trim()} -s -w ' %{http_code}'`])).stdout);
    expect(results[0]).toMatch(/"accessToken".*"tokenType":"Bearer","expiresIn":900\} 200$/);
    expect(results[1]).toMatch(/"products".* 200$/);
    expect(results[2]).toMatch(/"lines".* 200$/);
    expect(results[3]).toMatch(/"orderId".* 200$/);
    const cart = await fetch(`${/HTTP {2}(http:\/\/\S+)/.exec(main.output())?.[1]}/v1/carts/ann`);
    expect(cart.status).toBe(401); // secure by default: the printed commands carry a token
    main.child.kill("SIGINT");
    expect(await main.exited).toBe(0);
    expect(main.output()).toContain("shutting down");
  });

  it("--insecure turns authentication off: three commands without a token", async () => {
    const main = startMain(["--grpc-port", "0", "--http-port", "0", "--insecure"]);
    await waitForText(main.output, "Ctrl-C stops it.");
    const commands = main.output().split("\n").filter((l) => l.trim().startsWith("curl "));
    expect(commands).toHaveLength(3);
    expect(commands.join("\n")).not.toContain("authorization");
    expect((await run("sh", ["-c", `${commands[1].trim()} -s -w ' %{http_code}'`])).stdout).toMatch(/"lines".* 200$/);
    main.child.kill("SIGINT");
    expect(await main.exited).toBe(0);
  });

  it("a port in use gives one line naming the port and the flag", async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const main = startMain(["--grpc-port", String(port), "--http-port", "0"]);
      expect(await main.exited).toBe(1);
      expect(main.output().trim()).toBe(`port ${port} is already in use: choose another with --grpc-port`);
    } finally {
      blocker.close();
    }
  });

  it("prints /metrics, counts the calls there, and exports the checkout's trace over OTLP", async () => {
    const receiver = await startOtlpReceiver();
    const main = startMain(["--grpc-port", "0", "--http-port", "0", "--metrics-port", "0"], {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: "100",
      OTEL_METRICS_EXPORTER: "prometheus",
    });
    await waitForText(main.output, "Ctrl-C stops it.");
    const metricsUrl = /metrics (http:\/\/\S+\/metrics)/.exec(main.output())?.[1];
    const api = /HTTP {2}(http:\/\/\S+)/.exec(main.output())?.[1];
    expect(metricsUrl).toBeDefined();
    expect(main.output()).toContain(`traces  exported over OTLP to ${receiver.url}`);
    const { accessToken } = (await (await post(`${api}/v1/auth/token`, { userId: "ann" })).json()) as { accessToken: string };
    expect((await post(`${api}/v1/carts/ann/items`, { sku: "KB-001", quantity: 1 }, accessToken)).status).toBe(200);
    expect((await post(`${api}/v1/carts/ann/checkout`, undefined, accessToken)).status).toBe(200);

    const scrape = await (await fetch(metricsUrl!)).text();
    parsePrometheusTextFormat(scrape); // a valid exposition
    const checkout = scrape.split("\n").find((l) => l.startsWith("rpc_server_duration_count{") && l.includes('rpc_method="Checkout"'));
    expect(checkout).toMatch(/rpc_service="shop\.v1\.OrderService".*rpc_grpc_status_code="0".* 1$/);

    await eventually(() => {
      const spans = receiver.requests.filter((r) => r.path === "/v1/traces").flatMap((r) => decodeTraceRequest(r.body));
      const http = spans.find((s) => s.name === "POST /v1/carts/{user_id}/checkout");
      expect(http?.serviceName).toBe("shop");
      expect(spans.filter((s) => s.traceId === http!.traceId).map((s) => s.name)).toEqual(expect.arrayContaining(["shop.v1.OrderService/Checkout", "shop.v1.PaymentService/Charge", "send shop.order.placed", "process shop.order.placed"]));
    }, 10_000);
    main.child.kill("SIGINT");
    expect(await main.exited).toBe(0);
    await receiver.close();
  });
});

function post(url: string, body?: unknown, token?: string): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json", ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) };
  return fetch(url, { method: "POST", headers, body: body === undefined ? undefined : JSON.stringify(body) });
}
