/**
 * Drives test/ccore/ccore-peer.py: gRPC's C-core (Debian's python3-grpcio,
 * python3-grpc-tools) as the other end of Ferry's wire. The echo service's
 * Python code is generated once per test file into a temp directory.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);
const repo = resolve(import.meta.dirname, "../..");
const script = join(repo, "test/ccore/ccore-peer.py");
/** Debian's interpreter: the one python3-grpcio installs into (a pyenv python3 on PATH would not see it). */
export const PYTHON = "/usr/bin/python3";

/** Whether C-core can run here; when not, the reason (a failure with FERRY_REQUIRE_SERVICES=1). */
export async function checkCcore(): Promise<{ skip: boolean; reason: string }> {
  const ok = existsSync(PYTHON) && (await exec(PYTHON, ["-c", "import grpc, grpc_tools"]).then(() => true, () => false));
  if (ok) return { skip: false, reason: "" };
  const reason = "gRPC C-core is not installed (apt-get install python3-grpcio python3-grpc-tools)";
  if (process.env.FERRY_REQUIRE_SERVICES === "1") throw new Error(`${reason} and FERRY_REQUIRE_SERVICES=1`);
  console.warn(`skipping C-core tests: ${reason}`);
  return { skip: true, reason };
}

/** The generated Python code and the peer processes started from it. */
export class CcorePeer {
  readonly #children: ChildProcess[] = [];

  private constructor(readonly genDir: string) {}

  /** Generates the echo service's Python code with grpc_tools.protoc. */
  static async create(): Promise<CcorePeer> {
    const genDir = mkdtempSync(join(tmpdir(), "ferry-ccore-"));
    await exec(PYTHON, ["-m", "grpc_tools.protoc", "-I", join(repo, "test/proto"), `--python_out=${genDir}`, `--grpc_python_out=${genDir}`, "ferry/test/v1/echo.proto"]);
    return new CcorePeer(genDir);
  }

  /** Starts a C-core server; resolves with its `host:port`. */
  async server(): Promise<string> {
    const child = spawn(PYTHON, [script, this.genDir, "server"], { stdio: ["pipe", "pipe", "inherit"] });
    this.#children.push(child);
    const [line] = (await once(child.stdout!, "data")) as [Buffer];
    return `127.0.0.1:${line.toString().trim()}`;
  }

  /** Runs one client case against `target` and returns the JSON it printed. */
  async client<T = Record<string, unknown>>(target: string, testCase: string, ...args: (string | number)[]): Promise<T> {
    const { stdout } = await exec(PYTHON, [script, this.genDir, "client", target, testCase, ...args.map(String)], { timeout: 150_000, maxBuffer: 16 << 20 });
    return JSON.parse(stdout) as T;
  }

  /** Stops every server it started and removes the generated code. */
  async close(): Promise<void> {
    for (const child of this.#children) {
      if (child.exitCode !== null) continue;
      child.stdin?.end();
      child.kill("SIGTERM");
      await once(child, "exit");
    }
    rmSync(this.genDir, { recursive: true, force: true });
  }
}
