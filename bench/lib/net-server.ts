import type { Server as NetServer } from "node:net";
import type { Http2Server } from "node:http2";

/** Listens on `host` port 0 and resolves with the port picked. */
export function listenServer(server: NetServer | Http2Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => {
      server.off("error", reject);
      const address = server.address();
      if (address === null || typeof address === "string") reject(new Error("listener has no TCP address"));
      else resolve(address.port);
    });
  });
}

/** Closes `server`, destroying open connections where the API allows. */
export function closeServer(server: NetServer | Http2Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    (server as { closeAllConnections?: () => void }).closeAllConnections?.();
  });
}

/** Splits `host:port`. */
export function parseHostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(":");
  return { host: address.slice(0, i), port: Number(address.slice(i + 1)) };
}

/** Resolves on the writable's next "drain" or "close", whichever comes first. */
export function waitForDrain(writable: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      writable.off("drain", done);
      writable.off("close", done);
      resolve();
    };
    writable.on("drain", done);
    writable.on("close", done);
  });
}
