import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { addConnectionOptions, openSession, type ConnectionFlags } from "./cli-session.js";
import type { CliIo, CommandInstaller } from "./program.js";

/** Time a reflection request may take when `--timeout` is absent, in ms. */
export const DEFAULT_REFLECTION_TIMEOUT_MS = 10_000;

const EXAMPLES = `
Examples:
  $ ferry list 127.0.0.1:50051
  $ ferry list grpcs://api.example.com:443 --cacert ca.pem
  $ ferry list 127.0.0.1:50051 shop.v1.InventoryService
  $ ferry list --proto shop/v1/cart.proto --import-path proto --import-path examples/shop/proto x:1

Prints one full name per line: the services (through gRPC server reflection, v1 or
v1alpha, or the services the --proto files define), or with SERVICE its methods.
Exit status: 0, or the gRPC status code (12 UNIMPLEMENTED: the server has no reflection;
14 UNAVAILABLE: cannot connect); 2 for bad usage.`;

/** Installs `ferry list TARGET [SERVICE]`: the server's services (or one service's methods), one full name a line. */
export const installListCommand: CommandInstaller = (program, io) => {
  const command = program
    .command("list")
    .description("list the services of a server (gRPC reflection or --proto files), or the methods of one")
    .argument("<target>", "host:port (gRPC, cleartext) or a Ferry URL such as grpcs://host:port")
    .argument("[service]", "list this service's methods instead");
  addConnectionOptions(command, "deadline of each reflection request (default 10s)")
    .addHelpText("after", EXAMPLES)
    .action((target: string, service: string | undefined, flags: ConnectionFlags) => runList(io, target, service, flags));
};

async function runList(io: CliIo, target: string, service: string | undefined, flags: ConnectionFlags): Promise<void> {
  const session = await openSession(target, flags, DEFAULT_REFLECTION_TIMEOUT_MS);
  try {
    let names: string[];
    if (service === undefined) names = await session.source.listServices();
    else {
      const desc = (await session.source.registryFor(service)).getService(service);
      if (desc === undefined) throw new FerryError(Code.NOT_FOUND, `"${service}" is not a service`);
      names = desc.methods.map((m) => `${service}.${m.name}`);
    }
    io.stdout.write(names.map((n) => `${n}\n`).join(""));
  } finally {
    await session.close();
  }
}
