import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, createServer, type Server, type ServiceImpl } from "../../src/index.js";
import { createNativeServerTransport, createNativeTransport } from "../../src/transport/native/index.js";
import { EchoService } from "../gen/ferry/test/v1/echo_pb.js";
import { Defaults } from "../../src/transport/native/native-protocol.js";
import { waitUntil } from "./raw-peer.js";

const KIB = 1024;
/** Default per-stream window (1 MiB) over a 1 KiB message: the most a stalled stream may buffer, plus slack for one message in flight per side. */
const WINDOW_MESSAGES = Math.ceil(Defaults.initialWindowBytes / KIB) + 8;

const produced = new Map<string, number>();
const consumed = new Map<string, number>();
let gate: Promise<void> = Promise.resolve();

const impl: ServiceImpl<typeof EchoService> = {
  echo: (req) => ({ text: req.text }),
  async *serverStream(req) {
    for (let i = 0; i < req.count; i++) {
      produced.set(req.text, i + 1);
      yield { text: req.text, index: i, payload: req.payload };
    }
  },
  async clientStream(reqs) {
    let n = 0;
    let name = "";
    for await (const r of reqs) {
      name = r.text;
      consumed.set(name, ++n);
      if (n === 3) await gate;
    }
    return { text: name, index: n };
  },
  async *bidi(reqs) {
    for await (const r of reqs) yield { text: r.text };
  },
};

describe("native transport: per-stream flow control", () => {
  let server: Server;
  let client: ReturnType<typeof createClient<typeof EchoService>>;
  let transport: ReturnType<typeof createNativeTransport>;

  beforeAll(async () => {
    server = createServer().service(EchoService, impl);
    const { url } = await server.listen(createNativeServerTransport({ port: 0 }));
    transport = createNativeTransport({ port: Number(new URL(url).port) });
    client = createClient(EchoService, transport);
  });
  afterAll(async () => {
    await transport.close();
    await server.shutdown(100);
  });

  it("a slow reader of a server stream holds the handler at one window; other streams and calls on the connection keep flowing", async () => {
    const slow = client.serverStream({ text: "slow", count: 100_000, payload: new Uint8Array(KIB) })[Symbol.asyncIterator]();
    for (let i = 0; i < 5; i++) await slow.next();
    await new Promise((r) => setTimeout(r, 300)); // the reader stalls
    const stalledAt = produced.get("slow")!;
    expect(stalledAt).toBeLessThan(5 + WINDOW_MESSAGES);

    let fast = 0;
    for await (const _ of client.serverStream({ text: "fast", count: 3000, payload: new Uint8Array(KIB) })) fast++;
    expect(fast).toBe(3000);
    expect((await client.echo({ text: "unary" })).text).toBe("unary");
    expect(produced.get("slow")).toBe(stalledAt);

    // Reading again releases credit (a WINDOW_UPDATE once half the window was read), and the handler resumes.
    for (let i = 0; i < WINDOW_MESSAGES; i++) await slow.next();
    await waitUntil(() => produced.get("slow")! > stalledAt + 200);
    await slow.return!();
  });

  it("a slow handler of a client stream holds the client's sender at one window", async () => {
    let pulled = 0;
    let open!: () => void;
    gate = new Promise((r) => (open = r));
    async function* requests() {
      for (let i = 0; i < 2000; i++) {
        pulled++;
        yield { text: "upload", payload: new Uint8Array(KIB) };
      }
    }
    const result = client.clientStream(requests());
    await waitUntil(() => consumed.get("upload") === 3);
    await new Promise((r) => setTimeout(r, 300));
    expect(pulled).toBeLessThan(3 + WINDOW_MESSAGES);
    expect((await client.echo({ text: "meanwhile" })).text).toBe("meanwhile");
    open();
    expect(await result).toMatchObject({ text: "upload", index: 2000 });
  });
});
