/** A raw HTTP/1.1 exchange over a socket, for requests fetch() refuses to send. */
import http from "node:http";
import { expect } from "vitest";
import net from "node:net";

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** Every byte received, for checks such as "no 100 Continue". */
  readonly raw: string;
}

/** Sends `request` bytes to `url`'s host and port and reads until the server closes or `waitMs` passes after the first complete response. */
export function rawRequest(url: string, request: string | Buffer, options: { endAfterWrite?: boolean; waitMs?: number } = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let data = Buffer.alloc(0);
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const raw = data.toString("latin1");
      const last = raw.lastIndexOf("HTTP/1.1 ");
      const text = raw.slice(last);
      const [head, ...rest] = text.split("\r\n\r\n");
      const [statusLine, ...lines] = head.split("\r\n");
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(":");
        if (i > 0) headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      resolve({ status: Number(statusLine.split(" ")[1]), headers, body: rest.join("\r\n\r\n"), raw });
    };
    socket.on("data", (chunk) => {
      data = Buffer.concat([data, chunk]);
      const text = data.toString("latin1");
      const headEnd = text.lastIndexOf("\r\n\r\n");
      const m = /content-length: *(\d+)/i.exec(text.slice(text.lastIndexOf("HTTP/1.1 ")));
      if (headEnd >= 0 && m !== null && text.length - headEnd - 4 >= Number(m[1]) && !/^HTTP\/1\.1 100/.test(text.slice(text.lastIndexOf("HTTP/1.1 ")))) {
        timer ??= setTimeout(finish, options.waitMs ?? 20);
      }
    });
    socket.once("error", (err) => (data.length > 0 ? finish() : reject(err)));
    socket.once("close", finish);
    socket.write(request, () => {
      if (options.endAfterWrite === true) socket.end();
    });
  });
}

/** POSTs `bytes` of JSON-typed filler to `url` in chunks (no Content-Length), as a client streaming an oversized body does. */
export function streamBody(url: string, bytes: number): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, body }));
    });
    req.on("error", reject);
    const chunk = Buffer.alloc(1024, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < bytes) {
        sent += chunk.byteLength;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      req.end();
    };
    pump();
  });
}

/** An answer as the bad-input tables see it. */
export interface EdgeAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** One row of a bad-input table: how to send it, and the status and JSON `{code, message}` it must get. */
export interface BadInputCase {
  readonly name: string;
  readonly send: () => Promise<EdgeAnswer>;
  readonly status: number;
  readonly code: string;
  readonly message: RegExp;
  readonly headers?: Record<string, RegExp>;
}

/** Sends a bad-input case and checks its answer: status, JSON content type, `{code, message}`, extra headers. */
export async function expectJsonAnswer(c: BadInputCase): Promise<void> {
  const res = await c.send();
  expect(res.status, res.body).toBe(c.status);
  expect(res.headers["content-type"]).toBe("application/json");
  const body = JSON.parse(res.body) as { code: string; message: string };
  expect(body.code).toBe(c.code);
  expect(body.message).toMatch(c.message);
  for (const [k, v] of Object.entries(c.headers ?? {})) expect(res.headers[k]).toMatch(v);
}
