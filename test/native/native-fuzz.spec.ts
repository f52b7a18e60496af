import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toBinary, create } from "@bufbuild/protobuf";
import { createClient, type Server } from "../../src/index.js";
import { createNativeTransport } from "../../src/transport/native/index.js";
import { FrameType, GoAwayCode } from "../../src/transport/native/native-protocol.js";
import { EchoRequestSchema } from "../gen/ferry/test/v1/echo_pb.js";
import { EchoService } from "../support/echo-service.js";
import { call, frame, preface, RawPeer, settings, startNativeEcho, waitUntil } from "./raw-peer.js";
import { seededRandom } from "../support/seeded-random.js";


function randomBytes(rand: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

/** Resolves true once the peer answered a PING or closed the connection: the server never just hangs. */
async function answersOrCloses(peer: RawPeer): Promise<boolean> {
  const before = peer.frames.length;
  peer.send(frame(0, FrameType.PING, 0, Buffer.alloc(8, 9)));
  const acked = (async () => {
    await waitUntil(() => peer.frames.slice(before).some((f) => f.type === FrameType.PING && f.flags === 1) || peer.socket.destroyed, 3000);
    return true;
  })();
  return Promise.race([acked, peer.closed.then(() => true)]);
}

describe("native transport: malformed and hostile input", () => {
  let server: Server;
  let port: number;
  let logger: Awaited<ReturnType<typeof startNativeEcho>>["logger"];
  const transports: ReturnType<typeof createNativeTransport>[] = [];
  let good: ReturnType<typeof createClient<typeof EchoService>>;

  beforeAll(async () => {
    ({ server, port, logger } = await startNativeEcho({ keepaliveIntervalMs: 200, keepaliveTimeoutMs: 200, handshakeTimeoutMs: 300 }));
    const t = createNativeTransport({ port });
    transports.push(t);
    good = createClient(EchoService, t);
    await good.echo({ text: "warm" });
  });
  afterAll(async () => {
    for (const t of transports) await t.close();
    await server.shutdown(100);
  });

  async function expectClosedWith(peer: RawPeer, reason: RegExp): Promise<void> {
    await peer.closed;
    await waitUntil(() => logger.warnings.some((w) => reason.test(w)));
    expect((await good.echo({ text: "other connection" })).text).toBe("other connection");
  }

  it("closes a connection that does not start with the preface, logging why", async () => {
    const peer = await RawPeer.connect(port);
    peer.send(Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    await expectClosedWith(peer, /invalid connection preface/);
  });

  it("answers an unsupported version range with GOAWAY(UNSUPPORTED_VERSION)", async () => {
    const peer = await RawPeer.connect(port);
    peer.send(preface(7, 9), settings());
    const goAway = await peer.waitFor((f) => f.type === FrameType.GOAWAY);
    expect(goAway.payload[4]).toBe(GoAwayCode.UNSUPPORTED_VERSION);
    await expectClosedWith(peer, /unsupported protocol versions 7-9/);
  });

  it("closes a connection whose first frame is not SETTINGS", async () => {
    const peer = await RawPeer.connect(port);
    peer.send(preface(), call(1, "/ferry.test.v1.EchoService/Echo", { message: new Uint8Array() }));
    await expectClosedWith(peer, /first frame must be SETTINGS/);
  });

  it("closes a connection announcing a frame over the size limit, before buffering it", async () => {
    const peer = await RawPeer.connect(port).then((p) => p.handshake());
    const header = Buffer.alloc(10);
    header.writeUInt32BE(0xfffffff0, 0);
    header.writeUInt32BE(1, 4);
    header[8] = FrameType.MESSAGE;
    peer.send(header);
    const goAway = await peer.waitFor((f) => f.type === FrameType.GOAWAY);
    expect(goAway.payload[4]).toBe(GoAwayCode.FRAME_TOO_LARGE);
    await expectClosedWith(peer, /exceeds the limit/);
  });

  it("closes a connection that stalls inside the handshake", async () => {
    const peer = await RawPeer.connect(port);
    peer.send(preface().subarray(0, 5));
    await expectClosedWith(peer, /no preface and SETTINGS within 300 ms/);
  });

  it("closes a connection stalled inside a truncated frame once keepalive PINGs go unanswered", async () => {
    const peer = await RawPeer.connect(port).then((p) => p.handshake());
    const full = call(1, "/ferry.test.v1.EchoService/Echo", { message: new Uint8Array(50) });
    peer.send(full.subarray(0, full.length - 7));
    // The raw peer never answers PINGs: the server declares it dead.
    await expectClosedWith(peer, /did not answer a keepalive PING/);
  });

  it("ignores frames of unknown types", async () => {
    const peer = await RawPeer.connect(port).then((p) => p.handshake());
    const msg = toBinary(EchoRequestSchema, create(EchoRequestSchema, { text: "after unknown" }));
    peer.send(frame(0, 0x7f, 0xff, Buffer.from("future extension")), call(1, "/ferry.test.v1.EchoService/Echo", { message: msg }));
    const headers = await peer.waitFor((f) => f.type === FrameType.HEADERS && f.id === 1);
    expect(headers.payload.toString("latin1")).toContain("after unknown");
    peer.close();
  });

  it("survives random frames: every connection answers or is closed with a reason, and other connections keep working", async () => {
    const rand = seededRandom(20261121);
    const types = [FrameType.CALL, FrameType.MESSAGE, FrameType.HALF_CLOSE, FrameType.HEADERS, FrameType.TRAILERS, FrameType.CANCEL, FrameType.WINDOW_UPDATE, FrameType.PING, FrameType.GOAWAY, FrameType.SETTINGS, 0x42];
    for (let round = 0; round < 60; round++) {
      const peer = await RawPeer.connect(port).then((p) => p.handshake());
      const frames: Buffer[] = [];
      for (let i = 0; i < 8; i++) {
        const type = types[Math.floor(rand() * types.length)];
        const id = Math.floor(rand() * 4);
        frames.push(frame(id, type, Math.floor(rand() * 256), randomBytes(rand, Math.floor(rand() * 48))));
      }
      peer.send(...frames);
      expect(await answersOrCloses(peer)).toBe(true);
      peer.close();
    }
    expect(logger.errors.filter((e) => JSON.stringify(e).includes("internal error handling a frame"))).toEqual([]);
    expect((await good.echo({ text: "still serving" })).text).toBe("still serving");
  });

  it("survives mutated valid calls (random bytes flipped inside the payload)", async () => {
    const rand = seededRandom(7);
    const msg = toBinary(EchoRequestSchema, create(EchoRequestSchema, { text: "mutant", payload: new Uint8Array(20) }));
    const valid = call(1, "/ferry.test.v1.EchoService/Echo", { message: msg, timeoutMs: 1000, metadata: [["x-k", "v"], ["x-b-bin", Buffer.from([1, 2])]] });
    for (let round = 0; round < 80; round++) {
      const mutated = Buffer.from(valid);
      for (let i = 0; i < 3; i++) mutated[10 + Math.floor(rand() * (mutated.length - 10))] = Math.floor(rand() * 256);
      const peer = await RawPeer.connect(port).then((p) => p.handshake());
      peer.send(mutated);
      expect(await answersOrCloses(peer)).toBe(true);
      peer.close();
    }
    expect((await good.echo({ text: "still serving" })).text).toBe("still serving");
  });
});
