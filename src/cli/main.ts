#!/usr/bin/env node
/**
 * The `ferry` command (the package's `bin`). Exit status: 0 on success, 2 for
 * bad usage, otherwise the gRPC status code of the failed call.
 */
import type { CliIo } from "./program.js";
import { runCli } from "./run-cli.js";

const io: CliIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };
runCli(process.argv.slice(2), io).then(
  (status) => {
    process.exitCode = status;
  },
  (err: unknown) => {
    process.stderr.write(`ferry: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
