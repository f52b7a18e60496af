/** Parses gRPC interop-style flags: `--name=value` (or `--name value`); `--flag` alone means "true". */
export function parseFlags(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) continue;
    const eq = arg.indexOf("=");
    if (eq > 0) out.set(arg.slice(2, eq), arg.slice(eq + 1));
    else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) out.set(arg.slice(2), argv[++i]);
    else out.set(arg.slice(2), "true");
  }
  return out;
}

/** A boolean flag: "true"/"1" is true. */
export function flagBool(flags: Map<string, string>, name: string): boolean {
  const v = flags.get(name);
  return v === "true" || v === "1";
}
