import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, createServer, type Server } from "../src/index.js";
import { Code } from "../src/rpc/code.js";
import { createChannel, type Channel } from "../src/channel/channel.js";
import type { ChannelEvent } from "../src/channel/channel-events.js";
import { getDefaultRegistry } from "../src/registry/create-registry.js";
import { createMemoryRegistry } from "../src/registry/memory-registry.js";
import { createResolver } from "../src/registry/create-resolver.js";
import { EchoService, echoImpl } from "./support/echo-service.js";
import { rejection } from "./support/rejection.js";

const SERVICE = EchoService.typeName;

/** A gRPC server on a free port whose echo answers `<name>:<text>`. */
async function startServer(name: string): Promise<{ server: Server; url: string }> {
  const server = createServer().service(EchoService, {
    ...echoImpl,
    async echo(req, ctx) {
      const res = await echoImpl.echo!(req, ctx);
      return { ...res, text: `${name}:${res.text}` };
    },
  });
  const { url } = await server.listen("grpc://127.0.0.1:0");
  return { server, url };
}

function serverOf(text: string): string {
  return text.split(":")[0];
}

describe("Channel over gRPC (three real servers)", () => {
  let servers: { server: Server; url: string }[] = [];
  const channels: Channel[] = [];

  beforeAll(async () => {
    servers = await Promise.all(["s0", "s1", "s2"].map(startServer));
  });

  afterAll(async () => {
    await Promise.all(channels.map((c) => c.close()));
    await Promise.all(servers.map((s) => s.server.shutdown(0)));
  });

  it("spreads calls over the servers, then sends them to the others when one dies (ejection)", async () => {
    const channel = createChannel({
      resolver: createResolver(`static:///${servers.map((s) => s.url).join(",")}`),
      target: "static:///three",
      outlierDetection: { consecutiveFailures: 2, baseEjectionTimeMs: 60_000, maxEjectionPercent: 50 },
    });
    channels.push(channel);
    const events: ChannelEvent[] = [];
    channel.events.onAny((e) => events.push(e));
    const client = createClient(EchoService, channel);

    const counts = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      const server = serverOf((await client.echo({ text: "x" }, { timeoutMs: 5_000 })).text);
      counts.set(server, (counts.get(server) ?? 0) + 1);
    }
    expect([...counts.values()]).toEqual([10, 10, 10]);

    await servers[1].server.shutdown(0);
    let failures = 0;
    const answeredBy: string[] = [];
    for (let i = 0; i < 30; i++) {
      try {
        answeredBy.push(serverOf((await client.echo({ text: "x" }, { timeoutMs: 5_000 })).text));
      } catch {
        failures++;
      }
    }
    // At most `consecutiveFailures` calls reach the dead server before it is
    // ejected (none when its refused connection is retried transparently).
    expect(failures).toBeLessThanOrEqual(2);
    expect(answeredBy.slice(-20)).not.toContain("s1");
    expect(new Set(answeredBy.slice(-20))).toEqual(new Set(["s0", "s2"]));
    const dead = servers[1].url;
    const gone = events.some(
      (e) => (e.type === "endpoint.ejected" || (e.type === "subchannel.state" && e.state === "TRANSIENT_FAILURE")) && e.endpoint.url === dead,
    );
    expect(gone).toBe(true);
  });
});

describe("Channel wait-for-ready over gRPC", () => {
  let live: { server: Server; url: string };

  beforeAll(async () => {
    live = await startServer("late");
  });

  afterAll(async () => {
    await live.server.shutdown(0);
  });

  it("completes a call made before any endpoint exists once one registers before its deadline", async () => {
    const registry = createMemoryRegistry();
    const channel = createChannel({ resolver: createResolver(`registry:///${SERVICE}`, { registry }) });
    const client = createClient(EchoService, channel);
    const pending = client.echo({ text: "early" }, { timeoutMs: 5_000 });
    await new Promise((r) => setTimeout(r, 50));
    expect(channel.queuedCalls).toBe(1);
    const registration = await registry.register({ service: SERVICE, endpoints: [{ transport: "grpc", url: live.url }] });
    expect((await pending).text).toBe("late:early");
    await registration.close();
    await channel.close();
    await registry.close();
  });

  it("fails with DEADLINE_EXCEEDED when no endpoint appears before the deadline", async () => {
    const registry = createMemoryRegistry();
    const channel = createChannel({ resolver: createResolver(`registry:///${SERVICE}`, { registry }) });
    const client = createClient(EchoService, channel);
    const error = await rejection(client.echo({ text: "early" }, { timeoutMs: 100 }));
    expect(error.code).toBe(Code.DEADLINE_EXCEEDED);
    expect(channel.queuedCalls).toBe(0);
    await channel.close();
    await registry.close();
  });
});

describe("createClient() with a channel target", () => {
  let servers: { server: Server; url: string }[] = [];

  beforeAll(async () => {
    servers = await Promise.all(["t0", "t1"].map(startServer));
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.server.shutdown(0)));
  });

  it("balances over a static:/// list", async () => {
    const client = createClient(EchoService, `static:///${servers.map((s) => s.url).join(",")}`);
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add(serverOf((await client.echo({ text: "x" }, { timeoutMs: 5_000 })).text));
    expect(seen).toEqual(new Set(["t0", "t1"]));
  });

  it("resolves registry:///SERVICE through the default registry", async () => {
    const registrations = await Promise.all(
      servers.map((s) => getDefaultRegistry().register({ service: SERVICE, endpoints: [{ transport: "grpc", url: s.url }] })),
    );
    const client = createClient(EchoService, `registry:///${SERVICE}?balancer=round_robin`);
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add(serverOf((await client.echo({ text: "x" }, { timeoutMs: 5_000 })).text));
    expect(seen).toEqual(new Set(["t0", "t1"]));
    await Promise.all(registrations.map((r) => r.close()));
  });

  it("rejects an unknown balancer in the target with INVALID_ARGUMENT", async () => {
    const client = createClient(EchoService, `registry:///${SERVICE}?balancer=fastest`);
    const error = await rejection(client.echo({ text: "x" }));
    expect(error.code).toBe(Code.INVALID_ARGUMENT);
    expect(error.message).toContain("unknown balancer");
  });
});
