/**
 * Test support for the packaging tests: packs the repository with `npm pack`
 * (which builds dist/ through `prepack`), installs the tarball into fresh
 * projects under the OS temp directory, and runs scripts there with a given
 * Node binary. Everything it creates lives under one temp directory that
 * `cleanup()` removes.
 */
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);
const repo = resolve(import.meta.dirname, "../..");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

/** Output of a finished command. */
export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

/** Runs `file` with `args` in `cwd`, resolving (never rejecting) with its exit status and output. */
export async function run(file: string, args: readonly string[], cwd: string, timeoutMs = 180_000): Promise<RunResult> {
  try {
    const { stdout, stderr } = await exec(file, [...args], { cwd, timeout: timeoutMs, maxBuffer: 64 << 20, env: { ...process.env, FERRY_LOG_LEVEL: "silent", npm_config_update_notifier: "false" } });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number | string };
    return { stdout: e.stdout ?? "", stderr: e.stderr ?? String(err), code: typeof e.code === "number" ? e.code : 1 };
  }
}

async function ok(file: string, args: readonly string[], cwd: string): Promise<string> {
  const r = await run(file, args, cwd);
  if (r.code !== 0) throw new Error(`${file} ${args.join(" ")} exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

/** The packed tarball and the scratch directory the tests install it into. */
export class PackedPackage {
  private constructor(
    readonly dir: string,
    readonly tarball: string,
  ) {}

  /** `npm pack` of the repository into a new temp directory. */
  static async pack(): Promise<PackedPackage> {
    const dir = mkdtempSync(join(tmpdir(), "ferry-package-"));
    await ok(npm, ["pack", "--pack-destination", dir, "--silent"], repo);
    const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"));
    if (tarball === undefined) throw new Error(`npm pack wrote no tarball into ${dir}`);
    return new PackedPackage(dir, join(dir, tarball));
  }

  /** The files the tarball holds (paths inside `package/`). */
  async files(): Promise<string[]> {
    const out = await ok("tar", ["-tzf", this.tarball], this.dir);
    return out.split("\n").filter(Boolean).map((f) => f.replace(/^package\//, ""));
  }

  /**
   * A fresh project named `name` with the tarball (and `extra` packages)
   * installed, the fixtures copied in and the echo service generated into
   * `gen/` by buf and protoc-gen-es with `genOptions`.
   */
  async project(name: string, options: { type: "module" | "commonjs"; extra?: string[]; genOptions: string[] }): Promise<string> {
    const dir = join(this.dir, name);
    mkdirSync(dir);
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name, version: "1.0.0", private: true, type: options.type }));
    await ok(npm, ["install", "--no-audit", "--no-fund", "--prefer-offline", this.tarball, ...(options.extra ?? [])], dir);
    cpSync(join(repo, "test/package/fixtures"), dir, { recursive: true });
    await generateEcho(join(dir, "gen"), options.genOptions);
    return dir;
  }

  /** Installs the npm registry's `node@major` binary package and returns the binary's path. */
  async node(major: number): Promise<string> {
    const dir = join(this.dir, `node${major}`);
    mkdirSync(dir);
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: `node${major}`, version: "1.0.0", private: true }));
    await ok(npm, ["install", "--no-audit", "--no-fund", "--prefer-offline", `node@${major}`], dir);
    return join(dir, "node_modules/node/bin/node");
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function generateEcho(out: string, genOptions: readonly string[]): Promise<void> {
  const template = { version: "v2", plugins: [{ local: join(repo, "node_modules/.bin/protoc-gen-es"), out, opt: genOptions }] };
  await ok(join(repo, "node_modules/.bin/buf"), ["generate", "--template", JSON.stringify(template), "--path", "test/proto/ferry/test/v1/echo.proto"], repo);
}
