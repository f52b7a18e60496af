/**
 * `npm start` as a user runs it: the printed curl commands work as printed,
 * a busy port gives a one-line message naming the flag, and Ctrl-C (SIGINT)
 * shuts down gracefully.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";

const run = promisify(execFile);
const children: ChildProcess[] = [];

function startMain(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ["--import", "tsx", "examples/shop/main.ts", ...args], {
    env: { ...process.env, FERRY_LOG_LEVEL: "silent" },
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

describe("npm start (examples/shop/main.ts)", () => {
  it("prints addresses and three curl commands that work as printed; Ctrl-C stops it cleanly", async () => {
    const [grpcPort, httpPort] = [await freePort(), await freePort()];
    const main = startMain(["--grpc-port", String(grpcPort), "--http-port", String(httpPort)]);
    await waitForText(main.output, "Ctrl-C stops it.");
    expect(main.output()).toContain(`grpc://127.0.0.1:${grpcPort}`);
    const commands = main.output().split("\n").filter((l) => l.trim().startsWith("curl "));
    expect(commands).toHaveLength(3);
    const results = [];
    for (const cmd of commands) results.push((await run("sh", ["-c", `${cmd.trim()} -s -w ' %{http_code}'`])).stdout);
    expect(results[0]).toMatch(/"products".* 200$/);
    expect(results[1]).toMatch(/"lines".* 200$/);
    expect(results[2]).toMatch(/"orderId".* 200$/);
    main.child.kill("SIGINT");
    expect(await main.exited).toBe(0);
    expect(main.output()).toContain("shutting down");
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
});
