import type { CommandInstaller } from "./program.js";

/**
 * Every command of the `ferry` tool, in the order `ferry --help` lists them.
 * A command file exports one installer; add it here.
 */
export const commands: readonly CommandInstaller[] = [];
