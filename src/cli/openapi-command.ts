import type { DescService } from "@bufbuild/protobuf";
import { writeFile } from "node:fs/promises";
import { createOpenApiDocument } from "../gateway/openapi-document.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { addConnectionOptions, openSession, type ConnectionFlags } from "./cli-session.js";
import { DEFAULT_REFLECTION_TIMEOUT_MS } from "./list-command.js";
import type { CliIo, CommandInstaller } from "./program.js";

const EXAMPLES = `
Examples:
  $ ferry openapi 127.0.0.1:50051 > openapi.json
  $ ferry openapi 127.0.0.1:50051 shop.v1.InventoryService shop.v1.CartService --title Shop -o shop.json
  $ ferry openapi 127.0.0.1:50051 --proto shop/v1/inventory.proto --import-path proto

The document (OpenAPI 3.1) describes the HTTP routes that the services' google.api.http
options declare, as Ferry's gateway serves them (docs/api-docs.md). Services come from
server reflection, or from --proto files. Exit status: 0; 5 NOT_FOUND for an unknown
service; 12 UNIMPLEMENTED when the server has no reflection; 2 for bad usage.`;

interface OpenApiFlags extends ConnectionFlags {
  output?: string;
  title?: string;
  apiVersion?: string;
  server?: string[];
  bearerAuth?: boolean;
}

/** Installs `ferry openapi TARGET [SERVICE...]`: the OpenAPI 3.1 document of the services' HTTP routes. */
export const installOpenApiCommand: CommandInstaller = (program, io) => {
  const command = program
    .command("openapi")
    .description("write the OpenAPI 3.1 document of the services' HTTP routes (google.api.http)")
    .argument("<target>", "host:port (gRPC, cleartext) or a Ferry URL such as grpcs://host:port")
    .argument("[services...]", "full service names (default: every service)")
    .option("-o, --output <file>", "write to FILE instead of standard output")
    .option("--title <text>", "info.title (default: API)")
    .option("--api-version <text>", "info.version, the API's version (default: 1.0.0)")
    .option("--server <url>", "servers[].url; repeatable", (v: string, all: string[] = []) => [...all, v])
    .option("--bearer-auth", "declare HTTP Bearer (JWT) authentication");
  addConnectionOptions(command, "deadline of each reflection request (default 10s)")
    .addHelpText("after", EXAMPLES)
    .action((target: string, names: string[], flags: OpenApiFlags) => runOpenApi(io, target, names, flags));
};

async function runOpenApi(io: CliIo, target: string, names: string[], flags: OpenApiFlags): Promise<void> {
  const session = await openSession(target, flags, DEFAULT_REFLECTION_TIMEOUT_MS);
  let services: DescService[];
  try {
    const wanted = names.length > 0 ? names.map((n) => n.replace(/^\./, "")) : await session.source.listServices();
    services = await Promise.all(wanted.map(async (name) => {
      const service = (await session.source.registryFor(name)).getService(name);
      if (service === undefined) throw new FerryError(Code.NOT_FOUND, `service "${name}" not found`);
      return service;
    }));
  } finally {
    await session.close();
  }
  const doc = createOpenApiDocument(services, { title: flags.title, version: flags.apiVersion, servers: flags.server, bearerAuth: flags.bearerAuth });
  const text = `${JSON.stringify(doc, null, 2)}\n`;
  if (flags.output === undefined) io.stdout.write(text);
  else await writeFile(flags.output, text);
}
