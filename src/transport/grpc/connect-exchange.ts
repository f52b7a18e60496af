import type { IncomingMessage, ServerResponse } from "node:http";
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import { readPeerCertificate, type PeerCertificateInfo } from "../peer-certificate.js";
import { waitForDrain } from "../../util/wait-for-drain.js";

/** One HTTP request/response, over HTTP/2 or HTTP/1.1, as the Connect handler sees it. */
export interface ConnectExchange {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly peer: string;
  /** The client certificate on a TLS connection (mTLS), as the grpc and native transports give it; `undefined` in cleartext or without one. */
  readonly peerCertificate: PeerCertificateInfo | undefined;
  /** The whole body; rejects with RESOURCE_EXHAUSTED past `maxBytes`, before buffering more. */
  readBody(maxBytes: number): Promise<Buffer>;
  /** Sends the response; ignored once the client has gone. */
  respond(status: number, headers: OutgoingHttpHeaders, body: Buffer): void;
  /** Calls `fn` if the client goes away before the response is sent. */
  onAbort(fn: () => void): void;
  /** The request body as a stream of chunks, for the enveloped (streaming) protocols. */
  readonly source: Source;
  /** Starts a streamed response: status and headers go out at once. */
  writeHead(status: number, headers: OutgoingHttpHeaders): void;
  /** Writes part of a streamed response; false when the caller should wait for {@link drained}. */
  write(chunk: Buffer): boolean;
  /** Resolves when the response can take more bytes, or the exchange closed. */
  drained(): Promise<void>;
  /** Ends a streamed response, after `chunk` if given. */
  end(chunk?: Buffer): void;
  /** True once the response ended or the client went away. */
  readonly finished: boolean;
}

/** A readable request body (an HTTP/2 stream or an HTTP/1.1 request). */
export type Source = NodeJS.ReadableStream & { destroy(): void; isPaused(): boolean };


function readLimited(source: Source, declared: string | undefined, maxBytes: number): Promise<Buffer> {
  if (declared !== undefined && Number(declared) > maxBytes) return Promise.reject(tooLarge(maxBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    source.on("data", (c: Buffer) => {
      size += c.byteLength;
      if (size > maxBytes) {
        source.removeAllListeners("data");
        source.pause();
        return reject(tooLarge(maxBytes));
      }
      chunks.push(c);
    });
    source.once("end", () => resolve(Buffer.concat(chunks, size)));
    source.once("error", (err: Error) => reject(new FerryError(Code.CANCELLED, `request body not received: ${err.message}`)));
  });
}

function tooLarge(maxBytes: number): FerryError {
  return new FerryError(Code.RESOURCE_EXHAUSTED, `request body exceeds the limit of ${maxBytes} bytes`);
}

/** The exchange of one HTTP/2 stream. */
export function http2Exchange(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, peer: string): ConnectExchange {
  stream.on("error", () => undefined);
  return {
    method: String(headers[":method"]),
    path: String(headers[":path"] ?? ""),
    headers,
    peer,
    get peerCertificate() {
      const socket = stream.session?.socket;
      return socket === undefined ? undefined : readPeerCertificate(socket);
    },
    readBody: (max) => readLimited(stream, headers["content-length"], max),
    respond(status, out, body) {
      if (stream.destroyed || stream.closed) return;
      try {
        stream.respond({ ...out, ":status": status, "content-length": body.byteLength });
        stream.end(body);
      } catch {
        // reset by the client meanwhile
      }
    },
    onAbort: (fn) => stream.once("close", () => stream.rstCode !== 0 && fn()),
    source: stream,
    writeHead(status, out) {
      if (stream.destroyed || stream.closed || stream.headersSent) return;
      try {
        stream.respond({ ...out, ":status": status });
      } catch {
        // reset by the client meanwhile
      }
    },
    write: (chunk) => (stream.destroyed || stream.writableEnded ? true : stream.write(chunk)),
    drained: () => waitForDrain(stream),
    end(chunk) {
      if (!stream.destroyed && !stream.writableEnded) stream.end(chunk);
    },
    get finished() {
      return stream.destroyed || stream.writableEnded;
    },
  };
}

/** The exchange of one HTTP/1.1 request. */
export function http1Exchange(req: IncomingMessage, res: ServerResponse): ConnectExchange {
  return {
    method: req.method ?? "",
    path: req.url ?? "",
    headers: req.headers as IncomingHttpHeaders,
    peer: `${req.socket.remoteAddress}:${req.socket.remotePort}`,
    get peerCertificate() {
      return readPeerCertificate(req.socket);
    },
    readBody: (max) => readLimited(req, req.headers["content-length"], max),
    respond(status, out, body) {
      if (res.headersSent || res.destroyed) return;
      res.writeHead(status, { ...(out as Record<string, string>), "content-length": body.byteLength });
      res.end(body);
    },
    onAbort: (fn) => res.once("close", () => !res.writableFinished && fn()),
    source: req,
    writeHead(status, out) {
      if (res.headersSent || res.destroyed) return;
      res.writeHead(status, out as Record<string, string>);
      res.flushHeaders();
    },
    write: (chunk) => (res.destroyed || res.writableEnded ? true : res.write(chunk)),
    drained: () => waitForDrain(res),
    end(chunk) {
      if (!res.destroyed && !res.writableEnded) res.end(chunk);
    },
    get finished() {
      return res.destroyed || res.writableEnded;
    },
  };
}
