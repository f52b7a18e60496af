import { CommanderError } from "commander";
import { describeFailure } from "./cli-error.js";
import { commands } from "./commands.js";
import { createProgram, type CliIo } from "./program.js";

/**
 * Runs the program on `argv` (without node and script) and resolves with the
 * exit status; never calls `process.exit` itself.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = createProgram(io, commands);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    const failure = describeFailure(err);
    if (failure.text !== "") io.stderr.write(`${failure.text}\n`);
    return failure.exitCode;
  }
}
