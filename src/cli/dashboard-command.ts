import { openBroker, parseBrokerUrl, type BrokerConnection } from "./broker-connection.js";
import { CliUsageError } from "./cli-error.js";
import { createRegistry } from "../registry/create-registry.js";
import type { ServiceRegistry } from "../registry/service-registry.js";
import type { CliIo, CommandInstaller } from "./program.js";
import { DEFAULT_DASHBOARD_HOST, DEFAULT_DASHBOARD_PORT, startDashboard } from "../dashboard/index.js";

const EXAMPLES = `
Examples:
  $ ferry dashboard
  $ ferry dashboard --port 9500
  $ FERRY_DASHBOARD_TOKEN=$(openssl rand -hex 16) ferry dashboard --host 0.0.0.0
  $ ferry dashboard --broker nats://127.0.0.1:4222 --registry nats://127.0.0.1:4222
  $ ferry dashboard --explore 127.0.0.1:50051

Serves the dashboard page (topology, calls, traces) and an OTLP/HTTP receiver (protobuf or
JSON): point OpenTelemetry exporters at http://HOST:PORT/v1/traces and /v1/metrics
(OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9400, http/protobuf or http/json).
Bound to anything but loopback it requires a token (at least 16 characters), sent as
Authorization: Bearer T by exporters and as ?token=T in the browser. With --broker, the
Messaging view can re-drive a consumer group's dead letters; with --registry, the Topology
view lists each service's registered instances; with --explore, the API explorer calls that
server's methods. Runs until Ctrl-C.
Exit status: 0 after Ctrl-C or SIGTERM; 3 INVALID_ARGUMENT (no or short token off loopback);
9 FAILED_PRECONDITION (uplot or cytoscape not installed); 14 UNAVAILABLE (port in use); 2 bad usage.`;

/** Flags of `ferry dashboard`. */
interface DashboardFlags {
  readonly port: string;
  readonly host: string;
  readonly token?: string;
  readonly maxTraces?: string;
  readonly broker?: string;
  readonly registry?: string;
  readonly explore?: string;
}

/** Installs `ferry dashboard [--port 9400] [--host H] [--token T] [--broker URL] [--registry URL] [--explore TARGET]`: the dashboard, until Ctrl-C. */
export const installDashboardCommand: CommandInstaller = (program, io) => {
  program
    .command("dashboard")
    .description("serve the live dashboard (topology, calls, traces) and an OTLP/HTTP receiver")
    .option("--port <port>", "TCP port (0: any free port)", String(DEFAULT_DASHBOARD_PORT))
    .option("--host <host>", "address to bind; anything but loopback requires --token", DEFAULT_DASHBOARD_HOST)
    .option("--token <token>", "required of every request (default: $FERRY_DASHBOARD_TOKEN)")
    .option("--max-traces <n>", "traces kept (default 2000)")
    .option("--broker <url>", "broker for the Messaging view's re-drive action (nats://, amqp://, redis://)")
    .option("--registry <url>", "service registry whose instances the Topology view lists (nats://, etcd://, static:, dns:)")
    .option("--explore <target>", "server whose methods the API explorer lists (by gRPC reflection) and calls: host:port or a Ferry URL")
    .addHelpText("after", EXAMPLES)
    .action((flags: DashboardFlags) => runDashboard(io, flags));
};

async function runDashboard(io: CliIo, flags: DashboardFlags): Promise<void> {
  const port = integerFlag("--port", flags.port, 0, 65_535);
  const maxTraces = flags.maxTraces === undefined ? undefined : integerFlag("--max-traces", flags.maxTraces, 1, 10_000_000);
  const token = flags.token ?? process.env.FERRY_DASHBOARD_TOKEN;
  let connection: BrokerConnection | undefined;
  let registry: ServiceRegistry | undefined;
  try {
    if (flags.broker !== undefined) connection = await openBroker(parseBrokerUrl(flags.broker));
    if (flags.registry !== undefined) registry = await createRegistry(flags.registry);
    const explorer = flags.explore === undefined ? undefined : { target: flags.explore };
    const dashboard = await startDashboard({ port, host: flags.host, token, maxTraces, broker: connection?.broker, registry, explorer });
    const base = dashboard.url.replace(/\?.*$/, "");
    io.stdout.write(`Ferry dashboard: ${dashboard.url}\nOTLP/HTTP: ${base}v1/traces  ${base}v1/metrics\n`);
    await untilSignalled();
    await dashboard.close();
  } finally {
    await connection?.close();
    await registry?.close();
  }
}

/** Resolves on the first SIGINT or SIGTERM. */
async function untilSignalled(): Promise<void> {
  let stop = (): void => {};
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    await stopped;
  } finally {
    process.removeListener("SIGINT", stop);
    process.removeListener("SIGTERM", stop);
  }
}

function integerFlag(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) throw new CliUsageError(`${name} must be an integer from ${min} to ${max}, got "${text}"`);
  return n;
}
