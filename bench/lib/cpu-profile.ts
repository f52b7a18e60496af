import { Session } from "node:inspector/promises";
import { readFileSync, writeFileSync } from "node:fs";

/**
 * V8 CPU profiles of a benchmark child around its timed part only (start-up
 * and module loading excluded), and a summary that says where a call's CPU
 * time goes: the profile's busy samples grouped by origin, scaled to the
 * measured CPU µs per call. Used by `npm run bench:cpu -- --prof`.
 */

/** A V8 `.cpuprofile` (the fields read here). */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
}

/** Starts profiling this process; the returned function stops and writes the profile to `path`. */
export async function startCpuProfile(path: string): Promise<() => Promise<void>> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 200 });
  await session.post("Profiler.start");
  return async () => {
    const { profile } = await session.post("Profiler.stop");
    writeFileSync(path, JSON.stringify(profile));
    session.disconnect();
  };
}

/** The origin a sampled function is charged to, or undefined for idle time. */
function originOf(functionName: string, url: string): string | undefined {
  if (functionName === "(idle)") return undefined;
  if (functionName === "(garbage collector)") return "GC";
  if (functionName === "(program)") return "V8 (program)";
  if (url.includes("/src/")) return `Ferry ${url.split("/src/")[1].split("/").slice(0, -1).join("/")}`;
  if (url.includes("/bench/")) return "bench harness";
  if (url.includes("@bufbuild/protobuf")) return "protobuf-es";
  if (url.includes("/node_modules/")) return `npm ${url.split("/node_modules/").pop()!.split("/").slice(0, url.includes("/node_modules/@") ? 2 : 1).join("/")}`;
  if (url.includes("http2")) return "node:http2";
  if (url.includes("async_hooks")) return "async_hooks (AsyncLocalStorage)";
  if (url.startsWith("node:")) return `node:${url.slice(5).split("/").slice(0, 2).join("/")}`;
  return url === "" ? `native ${functionName}` : "other";
}

/**
 * Where the time goes: one line per origin with its share of the busy
 * samples and that share of `microsPerUnit` (the measured CPU µs per call
 * or message), largest first, up to `lines` lines.
 */
export function summarizeCpuProfile(path: string, microsPerUnit: number, unit: string, lines = 12): string {
  const profile = JSON.parse(readFileSync(path, "utf8")) as CpuProfile;
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const counts = new Map<string, number>();
  let busy = 0;
  for (const id of profile.samples) {
    const frame = frames.get(id)!;
    const origin = originOf(frame.functionName, frame.url);
    if (origin === undefined) continue;
    busy++;
    counts.set(origin, (counts.get(origin) ?? 0) + 1);
  }
  const rows = [...counts].sort((a, b) => b[1] - a[1]).slice(0, lines);
  return rows.map(([origin, n]) => `  ${((microsPerUnit * n) / busy).toFixed(2).padStart(7)} µs/${unit} ${((100 * n) / busy).toFixed(1).padStart(5)}%  ${origin}`).join("\n");
}
