import { Command } from "commander";
import { readPackageVersion } from "./package-version.js";

/**
 * Where a command writes. Commands never touch `process.stdout` directly, so
 * tests can run the program in-process and so output can go to a pipe.
 */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

/** A command of the `ferry` tool: a function that adds itself to the program. */
export type CommandInstaller = (program: Command, io: CliIo) => void;

/**
 * Builds the `ferry` program with every command installed. Each command lives
 * in its own file (`*-command.ts`) and is listed in `commands.ts`.
 */
export function createProgram(io: CliIo, installers: readonly CommandInstaller[]): Command {
  const program = new Command("ferry")
    .description("Call, inspect, benchmark and tail Ferry and gRPC services and Ferry brokers.")
    .version(readPackageVersion(), "-V, --version")
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // Usage errors are one line, like CliUsageError's: "ferry: unknown option '--x' (run with --help for usage)".
      outputError: (text, write) => write(`ferry: ${text.trim().replace(/^error: /, "")} (run with --help for usage)\n`),
    })
    .exitOverride();
  for (const install of installers) install(program, io);
  return program;
}
