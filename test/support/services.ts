import { Socket } from "node:net";

/** The outcome of {@link checkService}: whether the tests that need it must be skipped, and why. */
export interface ServiceCheck {
  /** True when the service is unreachable and FERRY_REQUIRE_SERVICES is not "1". */
  readonly skip: boolean;
  /** One-line reason to show for the skip; empty when the service answered. */
  readonly reason: string;
}

/** Resolves true if a TCP connection to host:port opens within `timeoutMs` (default 1000). */
export function isReachable(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("error", () => done(false));
    socket.connect(port, host, () => done(true));
  });
}

/**
 * Checks that a real service the tests need is listening. When it is not:
 * throws if env FERRY_REQUIRE_SERVICES=1 (CI: a missing service is a
 * failure), otherwise prints a one-line reason and returns `skip: true`, for
 * `describe.skipIf(check.skip)`.
 */
export async function checkService(name: string, host: string, port: number): Promise<ServiceCheck> {
  if (await isReachable(host, port)) return { skip: false, reason: "" };
  const reason = `${name} is not reachable on ${host}:${port}`;
  if (process.env.FERRY_REQUIRE_SERVICES === "1") {
    throw new Error(`${reason} and FERRY_REQUIRE_SERVICES=1 (start it with .ci/services.sh)`);
  }
  console.warn(`skipping ${name} tests: ${reason}`);
  return { skip: true, reason };
}
