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

/** Resolves on the writable's next "drain", "close" or one of `alsoOn`, whichever comes first; removes its listeners. */
export function waitForDrain(writable: NodeJS.EventEmitter, alsoOn: readonly string[] = []): Promise<void> {
  const events = ["drain", "close", ...alsoOn];
  return new Promise((resolve) => {
    const done = (): void => {
      for (const e of events) writable.off(e, done);
      resolve();
    };
    for (const e of events) writable.on(e, done);
  });
}
