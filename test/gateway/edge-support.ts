/** A raw HTTP/1.1 exchange over a socket, for requests fetch() refuses to send. */
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
