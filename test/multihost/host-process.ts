/**
 * The Ferry processes of one simulated host (test/multihost), started by
 * the multi-host spec inside the host's network namespace. A small
 * shop-like set in one process (the topology launcher, `ferry run`, is not
 * used here):
 * - `EchoService` on `native://<ip>:0`, registered in the NATS KV registry
 *   (bucket with 3 replicas) with the host's address;
 * - an HTTP front on `<ip>:8080`: `GET /order?id=X` calls EchoService on any
 *   host through a `registry:///` channel (three attempts with a 1 s timeout
 *   each), then publishes `mh.orders.placed` with message id X (retried for
 *   up to 6 s while JetStream is unavailable) and answers 200 once JetStream
 *   confirmed it;
 * - a consumer group `audit` on `mh.orders.>`.
 * Prints `ready <json>` on stdout once serving. Arguments: `--name`,
 * `--ip`, `--nats` (cluster URL), `--ttl-ms`.
 */
import { createServer as createHttpServer } from "node:http";
import { parseArgs } from "node:util";
// Narrow imports (not "ferry"'s index): each host starts faster under tsx.
import { createChannel } from "../../src/channel/index.js";
import { createRegistry, createResolver } from "../../src/registry/index.js";
import { createClient } from "../../src/rpc/client.js";
import { FerryError } from "../../src/rpc/ferry-error.js";
import { createServer } from "../../src/rpc/server.js";
import "../../src/transport/native/index.js";
import { createBroker, defineTopic } from "../../src/messaging/index.js";
import { EchoRequestSchema, EchoService } from "../gen/ferry/test/v1/echo_pb.js";

const { values: args } = parseArgs({ options: { name: { type: "string" }, ip: { type: "string" }, nats: { type: "string" }, "ttl-ms": { type: "string" } } });
const name = args.name!;
const ip = args.ip!;
const nats = args.nats!;
const quiet = { error() {}, warn() {}, info() {}, debug() {} };

/** The events topic of the multi-host shop. */
const placed = defineTopic("mh.orders.placed", EchoRequestSchema);

const registry = await createRegistry(`${nats}&replicas=3&bucket=ferry_multihost&bucketMaxAgeMs=60000`, { logger: quiet });
const broker = await createBroker(`${nats}&replicas=3`, { logger: quiet, adapterOptions: { publishTimeoutMs: 2000, connectionName: `front-${name}` } });
const server = createServer({ logger: quiet });
server.service(EchoService, {
  echo: (req: { text: string }) => ({ text: `${req.text}@${name}` }),
  serverStream: async function* () {},
  clientStream: async () => ({ text: "" }),
  bidi: async function* () {},
} as never);
const { url } = await server.listen(`native://${ip}:0`);
await registry.register({ service: EchoService.typeName, instanceId: `echo-${name}`, endpoints: [{ transport: "native", url }] }, { ttlMs: Number(args["ttl-ms"] ?? 10_000) });

const target = `registry:///${EchoService.typeName}?transport=native`;
const channel = createChannel({ resolver: createResolver(target, { registry }), target });
const echo = createClient(EchoService, channel);
await broker.subscribe(placed, { group: "audit", ackTimeoutMs: 5000 }, () => {});

async function echoWithRetry(id: string): Promise<string> {
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return (await echo.echo({ text: id }, { timeoutMs: 1000 })).text;
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

/** Publishes with the request's id as message id, retrying a retryable failure (e.g. no stream leader during an election) for up to 6 s; de-duplication makes the retries safe. */
async function publishConfirmed(id: string): Promise<string> {
  const until = Date.now() + 6000;
  for (;;) {
    try {
      return (await broker.publish(placed, { text: id }, { messageId: id })).sequence;
    } catch (err) {
      if (!(err instanceof FerryError) || !err.retryable || Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

const http = createHttpServer((req, res) => {
  const id = new URL(req.url ?? "/", "http://x").searchParams.get("id");
  if (id === null) return void res.writeHead(400).end();
  echoWithRetry(id)
    .then(async (echoed) => {
      const sequence = await publishConfirmed(id);
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ echoed, front: name, sequence }));
    })
    .catch((err: unknown) => {
      res.writeHead(503, { "content-type": "text/plain" }).end(err instanceof FerryError ? err.message : String(err));
    });
});
await new Promise<void>((resolve) => http.listen(8080, ip, resolve));
console.log(`ready ${JSON.stringify({ name, echo: url, http: `http://${ip}:8080` })}`);

process.on("SIGTERM", () => {
  http.close();
  void Promise.allSettled([server.shutdown(1000), channel.close(), broker.close(), registry.close()]).then(() => process.exit(0));
});
