import type { Duplex } from "node:stream";

const REASONS: Record<number, string> = { 400: "Bad Request", 408: "Request Timeout", 413: "Content Too Large", 414: "URI Too Long", 431: "Request Header Fields Too Large" };

/**
 * Answers a request node:http could not parse (its `clientError` event) with
 * a JSON `{code, message}` body instead of a bare status line: 431 for
 * headers over the limit (414 when the request line alone is), 408 for a
 * request that took too long, 400 for anything malformed (bytes outside
 * ASCII, bad framing). Closes the connection afterwards.
 */
export function answerHttp1ClientError(err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex, maxUrlBytes: number): void {
  if (!socket.writable || (err as { code?: string }).code === "ECONNRESET") return void socket.destroy();
  let status = 400;
  let code = "invalid_argument";
  let message = "malformed HTTP request";
  if (err.code === "HPE_HEADER_OVERFLOW") {
    const head = err.rawPacket?.toString("latin1") ?? "";
    const lineEnd = head.indexOf("\r\n");
    const requestLineTooLong = /^[A-Z]{3,10} /.test(head) && (lineEnd < 0 || lineEnd > maxUrlBytes);
    status = requestLineTooLong ? 414 : 431;
    code = "resource_exhausted";
    message = requestLineTooLong ? "request URL exceeds the server's limit" : "request headers exceed the server's limit";
  } else if (err.code === "ERR_HTTP_REQUEST_TIMEOUT") {
    status = 408;
    code = "deadline_exceeded";
    message = "request not received in time";
  } else if (err.code === "HPE_INVALID_METHOD" || err.code === "HPE_INVALID_URL" || err.code === "HPE_INVALID_VERSION") {
    message = "malformed request line (bytes outside printable ASCII must be percent-encoded)";
  } else if (err.code === "HPE_INVALID_HEADER_TOKEN" || err.code === "HPE_INVALID_CONSTANT") {
    message = "malformed request header";
  }
  const body = JSON.stringify({ code, message });
  socket.end(`HTTP/1.1 ${status} ${REASONS[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}
