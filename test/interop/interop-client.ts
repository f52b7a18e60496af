/**
 * The Ferry gRPC interop client (grpc/grpc doc/interop-test-descriptions.md,
 * "Client"):
 * `npm run interop:client -- --server_host=H --server_port=N --test_case=NAME|all
 *  [--use_tls=true --use_test_ca=true --server_host_override=NAME]`.
 * Exits 0 when every case passes; otherwise prints one line per failed case
 * ("FAIL name: reason") and exits 1. Bad flags exit 2.
 */
import { pathToFileURL } from "node:url";
import { createGrpcTransport } from "../../src/transport/grpc/index.js";
import { flagBool, parseFlags } from "./flags.js";
import { INTEROP_CASES, runFerryCase, type InteropCase } from "./ferry-cases.js";
import { interopCerts } from "./interop-certs.js";

/** The outcome of one case. */
export interface CaseResult {
  name: string;
  /** `undefined` on pass, else the one-line reason. */
  error?: string;
}

/** Runs the cases the flags select; resolves with one result per case. Raises on bad flags. */
export async function runInteropClient(argv: readonly string[]): Promise<CaseResult[]> {
  const flags = parseFlags(argv);
  const host = flags.get("server_host") ?? "127.0.0.1";
  const port = Number(flags.get("server_port"));
  if (!Number.isInteger(port) || port <= 0) throw new Error("--server_port=N is required");
  const testCase = flags.get("test_case") ?? "all";
  const names = testCase === "all" ? [...INTEROP_CASES] : [testCase];
  for (const n of names) if (!(INTEROP_CASES as readonly string[]).includes(n)) throw new Error(`unknown --test_case "${n}" (known: ${INTEROP_CASES.join(", ")}, all)`);
  const useTls = flagBool(flags, "use_tls");
  const override = flags.get("server_host_override");
  const hostPart = host.includes(":") ? `[${host}]` : host;
  const transport = createGrpcTransport({
    baseUrl: `${useTls ? "https" : "http"}://${hostPart}:${port}`,
    tls: useTls ? { ca: flagBool(flags, "use_test_ca") ? interopCerts().ca : undefined, servername: override } : undefined,
  });
  const results: CaseResult[] = [];
  try {
    for (const name of names) {
      try {
        await runFerryCase(name as InteropCase, transport);
        results.push({ name });
      } catch (err) {
        results.push({ name, error: oneLine(err) });
      }
    }
  } finally {
    await transport.close();
  }
  return results;
}

function oneLine(err: unknown): string {
  const e = err as { message?: string; code?: number };
  return String(e?.message ?? err).replace(/\s+/g, " ").trim();
}

async function main(): Promise<void> {
  let results: CaseResult[];
  try {
    results = await runInteropClient(process.argv.slice(2));
  } catch (err) {
    console.error(`interop client: ${oneLine(err)}`);
    process.exit(2);
  }
  const failed = results.filter((r) => r.error !== undefined);
  for (const r of results) console.log(r.error === undefined ? `PASS ${r.name}` : `FAIL ${r.name}: ${r.error}`);
  if (failed.length > 0) {
    console.error(`${failed.length} of ${results.length} interop cases failed; first: ${failed[0].name}: ${failed[0].error}`);
    process.exit(1);
  }
  process.exit(0);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) void main();
