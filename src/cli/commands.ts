import { installBenchCommand } from "./bench-command.js";
import { installCallCommand } from "./call-command.js";
import { installDashboardCommand } from "./dashboard-command.js";
import { installDescribeCommand } from "./describe-command.js";
import { installDlqCommand } from "./dlq-command.js";
import { installHealthCommand } from "./health-command.js";
import { installK8sCommand } from "./k8s-command.js";
import { installListCommand } from "./list-command.js";
import { installOpenApiCommand } from "./openapi-command.js";
import type { CommandInstaller } from "./program.js";
import { installRunCommand } from "./run-command.js";
import { installTopicsCommand } from "./topics-command.js";

/**
 * Every command of the `ferry` tool, in the order `ferry --help` lists them.
 * A command file exports one installer; add it here.
 */
export const commands: readonly CommandInstaller[] = [
  installListCommand,
  installDescribeCommand,
  installOpenApiCommand,
  installCallCommand,
  installHealthCommand,
  installBenchCommand,
  installTopicsCommand,
  installDlqCommand,
  installDashboardCommand,
  installRunCommand,
  installK8sCommand,
];
