import { createServer, connect, type Server, type Socket } from "node:net";

/** A TCP proxy on 127.0.0.1 (port 0) to a real service, whose replies can be held back, as in a network partition. */
export interface PausableProxy {
  /** The port it listens on. */
  readonly port: number;
  /** Holds back everything the service sends from now on (requests still reach it). */
  pause(): void;
  /** Closes the proxy and every connection through it. */
  close(): Promise<void>;
}

/** Starts a {@link PausableProxy} to `host:port`. */
export async function startPausableProxy(host: string, port: number): Promise<PausableProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let paused = false;
  const server: Server = createServer((client) => {
    const upstream = connect(port, host);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.pipe(upstream);
    upstream.on("data", (chunk: Buffer) => {
      if (!paused) client.write(chunk);
    });
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("proxy has no port");
  return {
    port: address.port,
    pause: () => void (paused = true),
    close: async () => {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
