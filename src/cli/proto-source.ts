import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { createFileRegistry, fromBinary, type FileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { CliUsageError } from "./cli-error.js";
import { servicesOf, type DescriptorSource } from "./descriptor-source.js";

/** Largest FileDescriptorSet accepted from buf, in bytes. */
const MAX_DESCRIPTOR_BYTES = 64 * 1024 * 1024;
/** How long buf may take to compile, in ms. */
const BUF_TIMEOUT_MS = 60_000;

/** A `.proto` file to compile: its import root and its path relative to that root. */
interface ProtoInput {
  readonly root: string;
  readonly path: string;
}

/**
 * Places each file under an import root, as protoc does: a path that exists
 * and lies inside an import path is taken relative to it; otherwise the name
 * is looked up under each import path (`--proto shop/v1/cart.proto
 * --import-path protos`); without import paths, a file's directory is its root.
 */
function locate(protoFiles: readonly string[], importPaths: readonly string[]): ProtoInput[] {
  const roots = importPaths.map((p) => {
    const abs = resolve(p);
    if (!existsSync(abs) || !statSync(abs).isDirectory()) throw new CliUsageError(`--import-path: "${p}" is not a directory`);
    return abs;
  });
  const inside = (root: string, abs: string) => {
    const path = relative(root, abs);
    return path.startsWith("..") || isAbsolute(path) ? undefined : { root, path };
  };
  return protoFiles.map((file) => {
    const abs = existsSync(file) ? resolve(file) : roots.map((root) => join(root, file)).find((p) => existsSync(p));
    if (abs === undefined) throw new CliUsageError(`--proto: "${file}" not found${roots.length > 0 ? " (nor under any --import-path)" : ""}`);
    for (const root of roots) {
      const found = inside(root, abs);
      if (found !== undefined) return found;
    }
    return { root: dirname(abs), path: relative(dirname(abs), abs) };
  });
}

/** The `buf` binary of the `@bufbuild/buf` package, run with this Node. */
function bufCommand(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve("@bufbuild/buf/package.json")), "bin", "buf");
  } catch {
    throw new FerryError(Code.FAILED_PRECONDITION, "--proto needs the @bufbuild/buf package: npm install @bufbuild/buf");
  }
}

/** Runs buf in the workspace; its messages name files by their real directory (`m0/x.proto` → `protos/x.proto`). */
function runBuf(args: readonly string[], workspace: string, roots: readonly string[]): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    execFile(process.execPath, [bufCommand(), ...args], { cwd: workspace, encoding: "buffer", maxBuffer: MAX_DESCRIPTOR_BYTES, timeout: BUF_TIMEOUT_MS }, (err, stdout, stderr) => {
      if (err === null) return resolvePromise(stdout);
      let text = stderr.toString("utf8").trim() || err.message;
      roots.forEach((root, i) => (text = text.replace(new RegExp(`(^|\\s)m${i}/`, "gm"), `$1${relative(process.cwd(), root) || "."}/`)));
      const hint = text.includes("imported file does not exist") ? "\n(add the directory that holds the imported files with --import-path)" : "";
      reject(new CliUsageError(`--proto: buf could not compile the files:\n${text}${hint}`));
    });
  });
}

/**
 * Compiles `.proto` files with buf into one FileRegistry (the files and
 * everything they import). Each import path becomes one module of a
 * temporary buf workspace (a symlink to it), so imports resolve as with
 * `protoc -I`. Without import paths each file's directory is its root.
 *
 * @param protoFiles - `.proto` files, as paths or relative to an import path.
 * @param importPaths - directories imports are resolved against (`--import-path`).
 * @throws CliUsageError (exit status 2) for a missing file or a compile error (buf's message).
 * @throws FerryError FAILED_PRECONDITION (9) when `@bufbuild/buf` is not installed.
 */
export async function compileProtos(protoFiles: readonly string[], importPaths: readonly string[]): Promise<{ registry: FileRegistry; files: string[] }> {
  const inputs = locate(protoFiles, importPaths);
  const roots = [...new Set([...importPaths.map((p) => resolve(p)), ...inputs.map((i) => i.root)])];
  const workspace = mkdtempSync(join(tmpdir(), "ferry-proto-"));
  try {
    roots.forEach((root, i) => symlinkSync(root, join(workspace, `m${i}`), "dir"));
    writeFileSync(join(workspace, "buf.yaml"), `version: v2\nmodules:\n${roots.map((_, i) => `  - path: m${i}\n`).join("")}`);
    const paths = inputs.flatMap((input) => ["--path", join(`m${roots.indexOf(input.root)}`, input.path)]);
    const bytes = await runBuf(["build", ".", ...paths, "--as-file-descriptor-set", "--exclude-source-info", "-o", "-#format=binpb"], workspace, roots);
    const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, bytes));
    return { registry, files: inputs.map((i) => i.path) };
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}

/**
 * A {@link DescriptorSource} from `.proto` files (`--proto`, `--import-path`):
 * lists the services the given files define and finds any symbol in them or
 * their imports.
 *
 * @throws see {@link compileProtos}.
 */
export async function loadProtoSource(protoFiles: readonly string[], importPaths: readonly string[]): Promise<DescriptorSource> {
  const { registry, files } = await compileProtos(protoFiles, importPaths);
  const defined = files.map((f) => registry.getFile(f)).filter((f) => f !== undefined);
  return {
    listServices: () => Promise.resolve(servicesOf(defined)),
    registryFor: (symbol) => {
      if (registry.get(symbol) === undefined && findMethod(registry, symbol) === undefined) {
        return Promise.reject(new FerryError(Code.NOT_FOUND, `symbol "${symbol}" not found in the --proto files`));
      }
      return Promise.resolve(registry);
    },
  };
}

function findMethod(registry: FileRegistry, symbol: string): unknown {
  const dot = symbol.lastIndexOf(".");
  const service = registry.getService(symbol.slice(0, dot));
  return service?.methods.find((m) => m.name === symbol.slice(dot + 1));
}
