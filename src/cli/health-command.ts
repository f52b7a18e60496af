import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../gen/grpc/health/v1/health_pb.js";
import { createClient } from "../rpc/client.js";
import { CliExitStatus } from "./cli-error.js";
import { addConnectionOptions, openSession, type ConnectionFlags } from "./cli-session.js";
import { DEFAULT_REFLECTION_TIMEOUT_MS } from "./list-command.js";
import type { CliIo, CommandInstaller } from "./program.js";

/** Exit status of `ferry health` when the server answered with any status but SERVING. */
export const EXIT_NOT_SERVING = 1;

const EXAMPLES = `
Examples:
  $ ferry health 127.0.0.1:50051
  $ ferry health 127.0.0.1:50051 shop.v1.CartService
  $ ferry health grpcs://api.example.com:443 --cacert ca.pem --timeout 1s

Prints the grpc.health.v1 status (SERVING, NOT_SERVING, UNKNOWN or SERVICE_UNKNOWN) of the
server (no SERVICE) or of one service. Exit status:
  0   SERVING
  1   answered, but not SERVING (NOT_SERVING, UNKNOWN, SERVICE_UNKNOWN)
  5   NOT_FOUND: the server does not know SERVICE
  12  UNIMPLEMENTED: the server has no health service
  14  UNAVAILABLE: cannot connect;  4 DEADLINE_EXCEEDED: no answer within --timeout (default 10s)
  2   bad usage`;

/** Installs `ferry health TARGET [SERVICE]`: the grpc.health.v1 status; exit 0 only when SERVING. */
export const installHealthCommand: CommandInstaller = (program, io) => {
  const command = program
    .command("health")
    .description("check a server's grpc.health.v1 status; exit 0 only when SERVING")
    .argument("<target>", "host:port (gRPC, cleartext) or a Ferry URL such as grpcs://host:port")
    .argument("[service]", "full service name (default: the whole server)", "");
  addConnectionOptions(command, "deadline of the check (default 10s)", false)
    .addHelpText("after", EXAMPLES)
    .action((target: string, service: string, flags: ConnectionFlags) => runHealth(io, target, service, flags));
};

async function runHealth(io: CliIo, target: string, service: string, flags: ConnectionFlags): Promise<void> {
  const session = await openSession(target, flags, DEFAULT_REFLECTION_TIMEOUT_MS);
  try {
    const { status } = await createClient(Health, session.transport).check({ service }, session.callOptions);
    io.stdout.write(`${ServingStatus[status] ?? `status ${status}`}\n`);
    if (status !== ServingStatus.SERVING) throw new CliExitStatus(EXIT_NOT_SERVING);
  } finally {
    await session.close();
  }
}
