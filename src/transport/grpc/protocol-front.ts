import type http from "node:http";
import type { Http2Server } from "node:http2";
import net from "node:net";
import tls from "node:tls";
import { answerHttp1ClientError } from "../../util/http1-client-error.js";

/** What {@link createProtocolFront} hands connections to. */
export interface ProtocolFrontOptions {
  /** The HTTP/2 server (never listening itself) that gets HTTP/2 connections. */
  readonly h2: Http2Server;
  /** The HTTP/1.1 server that gets other connections; without it only HTTP/2 is accepted. */
  readonly h1: http.Server | undefined;
  /** TLS options; when given, ALPN picks the protocol (`h2`, else `http/1.1`). */
  readonly tls: tls.TlsOptions | undefined;
  /** Time a new connection may take to send its first bytes, in ms. */
  readonly firstBytesTimeoutMs: number;
}

const PREFACE_START = "PRI";

/**
 * The listening socket of a server that speaks HTTP/2 (gRPC, Connect) and,
 * optionally, HTTP/1.1 (Connect) on one port. Over TLS, ALPN chooses. In
 * cleartext, the first bytes choose: HTTP/2's connection preface starts with
 * "PRI", no HTTP/1.1 request does. The bytes read to decide are handed back
 * (`unshift`) and node:http2 replays them into its native session, so HTTP/2
 * connections keep the native fast path.
 */
export function createProtocolFront(options: ProtocolFrontOptions): net.Server | tls.Server {
  const { h2, h1 } = options;
  // Unparsable HTTP/1.1 requests (headers over the limit, bytes outside ASCII) get a JSON body, not a bare status line.
  if (h1 !== undefined && h1.listenerCount("clientError") === 0) h1.on("clientError", (err: NodeJS.ErrnoException, socket) => answerHttp1ClientError(err, socket, 8192));
  if (options.tls) {
    return tls.createServer({ ...options.tls, ALPNProtocols: h1 ? ["h2", "http/1.1"] : ["h2"] }, (socket) => {
      socket.setNoDelay(true);
      if (h1 !== undefined && socket.alpnProtocol === "http/1.1") h1.emit("connection", socket);
      else h2.emit("connection", socket);
    });
  }
  return net.createServer((socket) => {
    socket.setNoDelay(true);
    if (h1 === undefined) return void h2.emit("connection", socket);
    sniff(socket, options);
  });
}

function sniff(socket: net.Socket, { h2, h1, firstBytesTimeoutMs }: ProtocolFrontOptions): void {
  let seen: Buffer = Buffer.alloc(0);
  socket.setTimeout(firstBytesTimeoutMs, () => socket.destroy());
  socket.on("error", () => undefined);
  const onData = (chunk: Buffer) => {
    seen = seen.byteLength === 0 ? chunk : Buffer.concat([seen, chunk]);
    if (seen.byteLength < PREFACE_START.length && PREFACE_START.startsWith(seen.toString("latin1"))) return;
    socket.off("data", onData);
    socket.setTimeout(0);
    socket.pause();
    socket.unshift(seen);
    if (seen.subarray(0, 3).toString("latin1") === PREFACE_START) return void h2.emit("connection", socket);
    h1!.emit("connection", socket);
    socket.resume();
  };
  socket.on("data", onData);
}
