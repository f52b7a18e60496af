#!/usr/bin/env node
/**
 * The `ferry` command (the package's `bin`). Exit status: 0 on success, 2 for
 * bad usage, otherwise the gRPC status code of the failed call.
 */
import type { CliIo } from "./program.js";
import { runCli } from "./run-cli.js";

const io: CliIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };
let settled = false;
// A command whose promise never settles while nothing keeps the event loop alive
// would otherwise end silently with status 0.
process.once("beforeExit", () => {
  if (settled) return;
  process.stderr.write("ferry: internal error: the command stopped before finishing\n");
  process.exitCode = 1;
});
runCli(process.argv.slice(2), io).then(
  (status) => {
    settled = true;
    process.exitCode = status;
    // A streaming call that ended before its input (the server failed or finished
    // first) must not wait for more stdin to exit.
    process.stdin.destroy();
    // Whatever a command leaves open (a connection still closing), the tool never hangs
    // once it has its answer: give handles 2 s, then exit with the status.
    setTimeout(() => process.exit(status), 2000).unref();
  },
  (err: unknown) => {
    settled = true;
    process.stderr.write(`ferry: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
