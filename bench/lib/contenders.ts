import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { MODULE_EXT } from "./compiled.js";

/**
 * The contenders of one benchmark run. Each lives in
 * `bench/contenders/<name>/` as `server.ts` (exports `startServer`) and
 * `client.ts` (exports `connectClient`); see bench/lib/contender-api.ts.
 * A contender whose two files are missing is listed as "not available yet",
 * so adding a transport's contender is a two-file change.
 */

/** One contender. */
export interface Contender {
  /** Directory name under bench/contenders, used by `--contender=`. */
  readonly name: string;
  /** What it is, for the docs. */
  readonly description: string;
  /** The raw reference its ratio is computed against: Node's TCP or HTTP/2 ceiling. */
  readonly reference: "raw-tcp" | "raw-h2";
  /** Client and server in one process pinned to one core (inproc); otherwise two pinned processes. */
  readonly sameProcess: boolean;
}

/** The contender every ratio's "× grpc-js" column divides by. */
export const BASELINE = "grpc-js";

/** Every contender, in table order. */
export const CONTENDERS: readonly Contender[] = [
  { name: "raw-tcp", description: "length-prefixed frames over node:net (Node's TCP ceiling)", reference: "raw-tcp", sameProcess: false },
  { name: "raw-h2", description: "node:http2 with minimal gRPC framing (HTTP/2's ceiling in Node)", reference: "raw-h2", sameProcess: false },
  { name: "ferry-native-tcp", description: "Ferry, native transport over TCP", reference: "raw-tcp", sameProcess: false },
  { name: "ferry-native-unix", description: "Ferry, native transport over a Unix domain socket", reference: "raw-tcp", sameProcess: false },
  { name: "ferry-grpc", description: "Ferry, grpc transport (gRPC over HTTP/2)", reference: "raw-h2", sameProcess: false },
  { name: "ferry-native-tcp-push", description: "Ferry native/TCP, ServerStream written push-style (pushStream: send() with backpressure)", reference: "raw-tcp", sameProcess: false },
  { name: "ferry-grpc-push", description: "Ferry grpc, ServerStream written push-style (pushStream: send() with backpressure)", reference: "raw-h2", sameProcess: false },
  { name: "ferry-inproc", description: "Ferry, in-process transport (one process, one core)", reference: "raw-tcp", sameProcess: true },
  {
    name: "ferry-inproc-explicit",
    description: "Ferry, in-process transport, server with `implicitCallContext: false` (no AsyncLocalStorage; deadlines propagate through `parent`)",
    reference: "raw-tcp",
    sameProcess: true,
  },
  // Observability cost (docs/observability.md): the same pipelines without telemetry, with an SDK recording everything, with a dropping sampler.
  { name: "ferry-native-tcp-notel", description: "Ferry native/TCP with `telemetry: false` (the pipeline without observability)", reference: "raw-tcp", sameProcess: false },
  { name: "ferry-native-tcp-otel", description: "Ferry native/TCP with the OpenTelemetry SDK recording every span, batched", reference: "raw-tcp", sameProcess: false },
  { name: "ferry-native-tcp-otel-drop", description: "Ferry native/TCP with the OpenTelemetry SDK and a sampler dropping every span", reference: "raw-tcp", sameProcess: false },
  { name: "ferry-native-tcp-dashboard", description: "Ferry native/TCP, server with the dashboard attached in-process (SDK recording every span into it, metrics every 5 s)", reference: "raw-tcp", sameProcess: false },
  { name: "ferry-grpc-notel", description: "Ferry grpc with `telemetry: false` (the pipeline without observability)", reference: "raw-h2", sameProcess: false },
  { name: "ferry-grpc-otel", description: "Ferry grpc with the OpenTelemetry SDK recording every span, batched", reference: "raw-h2", sameProcess: false },
  { name: "ferry-grpc-otel-drop", description: "Ferry grpc with the OpenTelemetry SDK and a sampler dropping every span", reference: "raw-h2", sameProcess: false },
  { name: "grpc-js", description: "@grpc/grpc-js server and client", reference: "raw-h2", sameProcess: false },
  { name: "connect-grpc", description: "@connectrpc/connect-node, gRPC protocol", reference: "raw-h2", sameProcess: false },
  // The fastest Node peers on plain TCP (issue 16): JSON over a socket, the payload in base64.
  { name: "nestjs-tcp", description: "NestJS microservices, TCP transport (JSON)", reference: "raw-tcp", sameProcess: false },
  { name: "moleculer-tcp", description: "Moleculer, TCP transporter (JSON)", reference: "raw-tcp", sameProcess: false },
];

/** The contender named `name`, or undefined. */
export function findContender(name: string): Contender | undefined {
  return CONTENDERS.find((c) => c.name === name);
}

/** Absolute path of a contender's `server` or `client` module, in the tree this process runs (`.ts` sources or compiled `.js`). */
export function contenderModule(name: string, file: "server" | "client"): string {
  return fileURLToPath(new URL(`../contenders/${name}/${file}${MODULE_EXT}`, import.meta.url));
}

/** Why `contender` cannot run, when its files are missing; undefined when they exist. */
export function missingFilesReason(contender: Contender): string | undefined {
  const missing = (["server", "client"] as const).filter((f) => !existsSync(contenderModule(contender.name, f)));
  if (missing.length === 0) return undefined;
  return `not available yet (bench/contenders/${contender.name}/{server,client}.ts not written)`;
}
