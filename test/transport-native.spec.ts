import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { createNativeTransport } from "../src/transport/native/index.js";
import { describeTransportContract } from "./support/transport-contract.js";

const dir = mkdtempSync(join(tmpdir(), "ferry-native-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeTransportContract("native (TCP)", async (server) => {
  const { url } = await server.listen("native://127.0.0.1:0");
  const u = new URL(url);
  const transport = createNativeTransport({ host: u.hostname, port: Number(u.port) });
  return { transport, close: () => transport.close() };
});

describeTransportContract("native (Unix socket, by URL)", async (server) => {
  const { url } = await server.listen(`native+unix://${join(dir, "contract.sock")}`);
  const { clientTransportFromUrl } = await import("../src/rpc/transport-registry.js");
  const transport = await clientTransportFromUrl(url);
  return { transport, close: () => transport.close() };
});

describeTransportContract("native (TCP, 3 connections, microtask flush)", async (server) => {
  const { url } = await server.listen("native://127.0.0.1:0");
  const u = new URL(url);
  const transport = createNativeTransport({ host: u.hostname, port: Number(u.port), connections: 3, flushMode: "microtask" });
  return { transport, close: () => transport.close() };
});
