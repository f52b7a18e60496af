/**
 * The client side of the multi-host spec, run inside a client namespace:
 * a steady, bounded HTTP load on the hosts' fronts (like a load balancer:
 * an attempt that fails, cannot connect within 1 s or gets no answer within
 * 8 s goes to the next front, and a front that failed is skipped for 3 s; a
 * request fails only when every front failed it), and a watch of the registry. Prints one JSON line per
 * request (`req`) and per registry change (`registry`). On `stop` (stdin)
 * it ends the load, reads `mh.orders.placed` back from the beginning with a
 * new consumer group until every id it saw confirmed is read (at most 20 s),
 * prints the ids found and the time taken (`verify`), then exits.
 * Arguments: `--fronts` (comma-separated URLs), `--nats`, `--rate` (per s).
 */
import { randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { createRegistry } from "../../src/registry/index.js";
import { createBroker, defineTopic } from "../../src/messaging/index.js";
import { EchoRequestSchema, EchoService } from "../gen/ferry/test/v1/echo_pb.js";

const { values: args } = parseArgs({ options: { fronts: { type: "string" }, nats: { type: "string" }, rate: { type: "string" } } });
const fronts = args.fronts!.split(",");
const rate = Number(args.rate ?? 20);
const quiet = { error() {}, warn() {}, info() {}, debug() {} };
const out = (o: object): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

const registry = await createRegistry(`${args.nats}&bucket=ferry_multihost`, { logger: quiet });
const live = new Set<string>();
registry.watch(EchoService.typeName, {
  onEvent: (e) => {
    if (e.type === "snapshot") for (const i of e.instances) live.add(i.instanceId);
    else if (e.type === "removed") live.delete(e.instance!.instanceId);
    else if (e.instance !== undefined) live.add(e.instance.instanceId);
    out({ type: "registry", t: Date.now(), ids: [...live].sort() });
  },
  onError: () => {},
});

const downUntil = new Map<string, number>();
const confirmed = new Set<string>();
let inFlight = 0;
let stopping = false;

let lastError = "";
/** GET with a 1 s connect timeout (a cut-off front fails fast) and an 8 s answer timeout; a new connection each time. */
function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = httpRequest(url, {
      agent: false,
      signal: AbortSignal.timeout(8000),
      createConnection: () => {
        const socket = connect(Number(u.port), u.hostname);
        const timer = setTimeout(() => socket.destroy(new Error("connect timeout")), 1000);
        socket.once("connect", () => clearTimeout(timer));
        return socket;
      },
    }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d)).on("end", () => resolve({ status: res.statusCode ?? 0, body })).on("error", reject);
    });
    req.on("error", reject).end();
  });
}

async function attempt(front: string, id: string): Promise<string | undefined> {
  try {
    const res = await get(`${front}/order?id=${id}`);
    if (res.status !== 200) lastError = `${front}: ${res.status} ${res.body.slice(0, 120)}`;
    return res.status === 200 ? (JSON.parse(res.body) as { front: string }).front : undefined;
  } catch (err) {
    lastError = `${front}: ${(err as Error).message}`;
    return undefined;
  }
}

async function request(n: number): Promise<void> {
  const id = `req-${n}`;
  const t = Date.now();
  inFlight++;
  let served: string | undefined;
  let attempts = 0;
  const order = fronts.map((_, i) => fronts[(n + i) % fronts.length]!);
  const usable = order.filter((f) => (downUntil.get(f) ?? 0) < Date.now());
  for (const front of [...usable, ...order.filter((f) => !usable.includes(f))]) {
    attempts++;
    served = await attempt(front, id);
    if (served !== undefined) break;
    downUntil.set(front, Date.now() + 3000);
  }
  inFlight--;
  if (served !== undefined) confirmed.add(id);
  out({ type: "req", id, t, ms: Date.now() - t, ok: served !== undefined, attempts, front: served, ...(served === undefined ? { error: lastError } : {}) });
}

const started = Date.now();
let n = 0;
const timer = setInterval(() => {
  // Bounded: at most 200 s of load and 50 requests in flight.
  if (stopping || Date.now() - started > 200_000) return clearInterval(timer);
  if (inFlight < 50) void request(n++);
}, 1000 / rate);

async function verify(): Promise<void> {
  while (inFlight > 0) await new Promise((r) => setTimeout(r, 50));
  const broker = await createBroker(args.nats!, { logger: quiet });
  const ids = new Set<string>();
  const began = Date.now();
  const sub = await broker.subscribe(defineTopic("mh.orders.placed", EchoRequestSchema), { group: `verify-${randomBytes(3).toString("hex")}`, startAt: "beginning" }, (m) => {
    ids.add(m.text);
  });
  // Until every confirmed id is read (a consumer on a replica that is still catching up delivers late), at most 20 s.
  const missing = (): number => [...confirmed].filter((id) => !ids.has(id)).length;
  while (missing() > 0 && Date.now() - began < 20_000) await new Promise((r) => setTimeout(r, 100));
  await sub.stop();
  out({ type: "verify", ids: [...ids], ms: Date.now() - began, stream: missing() > 0 ? await streamState() : undefined });
  await Promise.allSettled([broker.close(), registry.close()]);
  process.exit(0);
}

/** The stream's message count and sequences, to tell a message never stored from one not delivered. */
async function streamState(): Promise<unknown> {
  const nc = await (await import("@nats-io/transport-node")).connect({ servers: new URL(args.nats!).host });
  try {
    const jsm = await (await import("@nats-io/jetstream")).jetstreamManager(nc);
    const info = await jsm.streams.info("FERRY_mh");
    return { messages: info.state.messages, first: info.state.first_seq, last: info.state.last_seq, cluster: info.cluster };
  } finally {
    await nc.close();
  }
}

createInterface({ input: process.stdin }).on("line", (line) => {
  if (line.trim() === "stop" && !stopping) {
    stopping = true;
    clearInterval(timer);
    void verify();
  }
});
out({ type: "started", t: started });
