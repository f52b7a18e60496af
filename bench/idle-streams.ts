/**
 * Cost growth (issue 16): many idle server streams on one connection, then
 * one active stream. Reports the server's memory per idle stream (RSS and
 * heap after a full GC, before and after the idle streams opened) and the
 * active stream's round-trip p50/p99 (a bidi stream echoing one 100-byte
 * message at a time) with the idle streams open, against the same run with
 * none. Server on core 0 and client on core 1, each in its own process.
 *
 *   npx tsx --conditions=ferry-source bench/idle-streams.ts [--transport=native|grpc] [--streams=10000] [--messages=20000]
 *
 * Run it under `flock /tmp/ferry-bench.lock` on a shared machine. It runs
 * from source through tsx (both runs the same way), so absolute latencies
 * are a little above the compiled benchmark's; the ratio is the figure.
 */
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createClient, createServer, type CallContext } from "../src/index.js";
import { createGrpcServerTransport } from "../src/transport/grpc/index.js";
import { createNativeServerTransport } from "../src/transport/native/index.js";
import { EchoService, type EchoRequest } from "../test/gen/ferry/test/v1/echo_pb.js";
import { percentileInPlace } from "./lib/stats.js";

const flag = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const transport = flag("transport") ?? "native";
const streams = Number(flag("streams") ?? 10_000);
const messages = Number(flag("messages") ?? 20_000);
const PAYLOAD = new Uint8Array(100);

/** Server role: EchoService where ServerStream with text "idle" waits for its cancellation; Echo "stats" answers memory after a GC. */
async function serve(): Promise<void> {
  let idle = 0;
  const server = createServer().service(EchoService, {
    echo: (req: EchoRequest) => {
      if (req.text !== "stats") return { payload: req.payload };
      (globalThis as { gc?: () => void }).gc?.();
      const m = process.memoryUsage();
      return { text: JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, idle }) };
    },
    async *serverStream(_req: EchoRequest, ctx: CallContext) {
      idle++;
      try {
        await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
      } finally {
        idle--;
      }
      yield* []; // sends nothing: idle until cancelled
    },
    async *bidi(reqs: AsyncIterable<EchoRequest>) {
      for await (const r of reqs) yield { payload: r.payload };
    },
  });
  const limit = streams + 100;
  const t = transport === "grpc" ? createGrpcServerTransport({ host: "127.0.0.1", port: 0, maxConcurrentStreams: limit }) : createNativeServerTransport({ host: "127.0.0.1", port: 0, maxConcurrentStreams: limit });
  console.log(JSON.stringify({ url: (await server.listen(t)).url }));
  process.stdin.resume();
  process.stdin.on("end", () => void server.shutdown(100).finally(() => process.exit(0)));
}

type Echo = ReturnType<typeof createClient<typeof EchoService>>;

/** Round trips of one message at a time on a bidi stream, in µs. */
async function activeStream(client: Echo, n: number): Promise<{ p50: number; p99: number }> {
  const samples = new Float64Array(n);
  let release: (() => void) | undefined;
  let sentAt = 0;
  async function* requests() {
    for (let i = 0; i < n; i++) {
      sentAt = performance.now();
      yield { payload: PAYLOAD };
      await new Promise<void>((r) => (release = r));
    }
  }
  let i = 0;
  for await (const _ of client.bidi(requests())) {
    samples[i++] = (performance.now() - sentAt) * 1000;
    release?.();
  }
  return { p50: percentileInPlace(samples, 50), p99: percentileInPlace(samples, 99) };
}

async function stats(client: Echo): Promise<{ rss: number; heapUsed: number; idle: number }> {
  return JSON.parse((await client.echo({ text: "stats" })).text) as { rss: number; heapUsed: number; idle: number };
}

/** Client role: active stream alone, memory, N idle streams, memory, active stream again. */
async function drive(url: string): Promise<void> {
  const client = createClient(EchoService, url);
  await activeStream(client, Math.ceil(messages / 5)); // warm-up
  const alone = await activeStream(client, messages);
  const before = await stats(client);
  const open: AsyncIterator<unknown>[] = [];
  for (let i = 0; i < streams; i++) {
    const it = client.serverStream({ text: "idle" })[Symbol.asyncIterator]();
    it.next().catch(() => undefined);
    open.push(it);
  }
  const deadline = Date.now() + 120_000;
  let after = await stats(client);
  while (after.idle < streams && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    after = await stats(client);
  }
  const busy = await activeStream(client, messages);
  console.log(JSON.stringify({ alone, busy, before, after }));
  const cleanup = Promise.all(open.map((it) => it.return?.())).then(() => client[Symbol.asyncDispose]());
  await Promise.race([cleanup, new Promise((r) => setTimeout(r, 2000))]);
  process.exit(0);
}

const hasTaskset = spawnSync("taskset", ["--version"]).status === 0;
function child(core: number, args: string[], expose = false): ReturnType<typeof spawn> {
  const node = [...process.execArgv, ...(expose ? ["--expose-gc"] : []), fileURLToPath(import.meta.url), ...args];
  return hasTaskset ? spawn("taskset", ["-c", String(core), process.execPath, ...node], { stdio: ["pipe", "pipe", "inherit"] }) : spawn(process.execPath, node, { stdio: ["pipe", "pipe", "inherit"] });
}

async function main(): Promise<void> {
  const common = [`--transport=${transport}`, `--streams=${streams}`, `--messages=${messages}`];
  const srv = child(0, ["--role=server", ...common], true);
  const { url } = JSON.parse((await createInterface({ input: srv.stdout! })[Symbol.asyncIterator]().next()).value as string) as { url: string };
  const cli = child(1, ["--role=client", `--url=${url}`, ...common]);
  let out = "";
  cli.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  const [code] = (await once(cli, "exit")) as [number];
  srv.stdin!.end();
  if (code !== 0) throw new Error(`client exited with ${code}`);
  const r = JSON.parse(out.trim().split("\n").pop()!) as { alone: { p50: number; p99: number }; busy: { p50: number; p99: number }; before: { rss: number; heapUsed: number }; after: { rss: number; heapUsed: number; idle: number } };
  const kib = (bytes: number) => (bytes / 1024).toFixed(2);
  console.log(`${transport}: ${r.after.idle} idle server streams on one connection`);
  console.log(`  server memory per idle stream: RSS ${kib((r.after.rss - r.before.rss) / streams)} KiB, heap ${kib((r.after.heapUsed - r.before.heapUsed) / streams)} KiB (after a full GC)`);
  console.log(`  active bidi stream round trip: alone p50 ${r.alone.p50.toFixed(0)} µs, p99 ${r.alone.p99.toFixed(0)} µs; with the idle streams p50 ${r.busy.p50.toFixed(0)} µs, p99 ${r.busy.p99.toFixed(0)} µs (p99 ${(r.busy.p99 / r.alone.p99).toFixed(2)}×)`);
}

const role = flag("role");
if (role === "server") await serve();
else if (role === "client") await drive(flag("url")!);
else await main();
