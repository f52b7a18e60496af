/**
 * The published package as a user gets it: `npm pack`, installed into fresh
 * projects, used from plain JavaScript (ESM and CommonJS) over grpc, native
 * and inproc, and type-checked from a strict TypeScript project — on this
 * Node (20) and on a current Node from the npm registry's `node` package.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PackedPackage, run } from "./packed-package.js";

const CURRENT_NODE_MAJOR = 24;

let pkg: PackedPackage;
let jsApp: string;
let cjsApp: string;
let tsApp: string;

beforeAll(async () => {
  pkg = await PackedPackage.pack();
  [jsApp, cjsApp, tsApp] = await Promise.all([
    pkg.project("js-app", { type: "module", genOptions: ["target=js+dts", "import_extension=js"] }),
    pkg.project("cjs-app", { type: "commonjs", genOptions: ["target=js+dts", "js_import_style=legacy_commonjs"] }),
    pkg.project("ts-app", { type: "module", extra: ["typescript@5", "@types/node@20"], genOptions: ["target=ts", "import_extension=js"] }),
  ]);
}, 300_000);

afterAll(() => pkg?.cleanup());

const expected = (inproc: string) => ({
  grpc: { unary: "HI", stream: [0, 1, 2], joined: "a+b", bidi: ["ba", "dc"], code: 5 },
  native: { unary: "HI", stream: [0, 1, 2], joined: "a+b", bidi: ["ba", "dc"], code: 5 },
  [inproc]: { unary: "HI", stream: [0, 1, 2], joined: "a+b", bidi: ["ba", "dc"], code: 5 },
  testing: "t",
});

describe("the packed package", () => {
  it("ships dist/, the library's .proto files, README and LICENSE, and no sources, tests or benchmarks", async () => {
    const files = await pkg.files();
    expect(files).toContain("dist/esm/index.js");
    expect(files).toContain("dist/esm/index.d.ts");
    expect(files).toContain("dist/cjs/index.js");
    expect(files).toContain("dist/cjs/index.d.ts");
    expect(files).toContain("dist/esm/cli/main.js");
    expect(files).toContain("proto/grpc/health/v1/health.proto");
    expect(files).toEqual(expect.arrayContaining(["README.md", "LICENSE", "package.json"]));
    expect(files.filter((f) => /^(src|test|bench|examples|\.ci)\//.test(f) || f.includes(".spec."))).toEqual([]);
  });

  it("runs from a plain JavaScript ES module on Node 20: every method kind on grpc, native and inproc", async () => {
    const r = await run(process.execPath, ["esm-app.mjs"], jsApp);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual(expected("inproc"));
  });

  it("runs from a CommonJS script on Node 20", async () => {
    const r = await run(process.execPath, ["cjs-app.cjs"], cjsApp);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual(expected("inproc"));
  });

  it("loads every entry point from ES modules and from CommonJS", async () => {
    const exportsMap = JSON.parse(readFileSync(`${jsApp}/node_modules/ferry/package.json`, "utf8")).exports as Record<string, unknown>;
    const specifiers = Object.keys(exportsMap).filter((k) => k !== "./package.json").map((k) => (k === "." ? "ferry" : `ferry/${k.slice(2)}`));
    const script = `
      const specs = ${JSON.stringify(specifiers)};
      const out = {};
      for (const s of specs) {
        let esm, cjs;
        try { esm = Object.keys(await import(s)).length; } catch (e) { esm = e.code ?? e.message; }
        try { cjs = Object.keys(require(s)).length; } catch (e) { cjs = e.code ?? e.message; }
        out[s] = [esm, cjs];
      }
      console.log(JSON.stringify(out));`;
    const r = await run(process.execPath, ["--input-type=commonjs", "-e", `(async () => { ${script} })()`], jsApp);
    const loaded = JSON.parse(r.stdout) as Record<string, [number | string, number | string]>;
    for (const [specifier, [esm, cjs]] of Object.entries(loaded)) {
      if (specifier === "ferry/registry/nats" || specifier === "ferry/registry/etcd") {
        // The backend modules import their client (an optional peer) directly; createRegistry() is the lazy way in.
        expect([esm, cjs], specifier).toEqual(["ERR_MODULE_NOT_FOUND", "MODULE_NOT_FOUND"]);
        continue;
      }
      // ferry/transport/nats only registers the nats:// scheme; every other entry exports symbols.
      const least = specifier === "ferry/transport/nats" ? 0 : 1;
      expect(typeof esm === "number" && esm >= least, `${specifier} as ESM: ${esm}`).toBe(true);
      expect(typeof cjs === "number" && cjs >= least, `${specifier} as CommonJS: ${cjs}`).toBe(true);
    }
  });

  it("fails with FAILED_PRECONDITION naming the package when an optional peer is not installed", async () => {
    const script = `const { createRegistry } = require("ferry/registry");
      createRegistry("etcd://127.0.0.1:1").catch((e) => { console.log(e.code, e.rawMessage); });`;
    const r = await run(process.execPath, ["-e", script], cjsApp);
    expect(r.stdout.trim()).toBe('9 the etcd:// registry needs the package "etcd3": npm install etcd3');
  });

  it("type-checks a strict TypeScript project (skipLibCheck: false) against the shipped declarations", async () => {
    const tsc = `${tsApp}/node_modules/typescript/bin/tsc`;
    const good = await run(process.execPath, [tsc, "-p", "."], tsApp);
    expect(good.stdout + good.stderr).toBe("");
    expect(good.code).toBe(0);
    const wrong = await run(process.execPath, [tsc, "--noEmit", "--strict", "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022", "--types", "node", "--lib", "es2023,esnext.disposable", "ts-app-bad.ts"], tsApp);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stdout).toMatch(/ts-app-bad\.ts\(5,\d+\): error TS2322/);
    expect(wrong.stdout).toMatch(/ts-app-bad\.ts\(7,\d+\): error TS(2353|2561)/);
  }, 120_000);

  it(`runs from JavaScript on a current Node (${CURRENT_NODE_MAJOR}, from the npm registry)`, async () => {
    const node = await pkg.node(CURRENT_NODE_MAJOR);
    const version = await run(node, ["--version"], jsApp);
    expect(version.stdout).toMatch(new RegExp(`^v${CURRENT_NODE_MAJOR}\\.`));
    const esm = await run(node, ["esm-app.mjs"], jsApp);
    expect(JSON.parse(esm.stdout)).toEqual(expected("inproc"));
    const cjs = await run(node, ["cjs-app.cjs"], cjsApp);
    expect(JSON.parse(cjs.stdout)).toEqual(expected("inproc"));
  }, 180_000);

  it("installs the ferry command: `npx ferry` lists, describes and calls a service through reflection", async () => {
    const version = await run("npx", ["--no-install", "ferry", "--version"], jsApp);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const server = spawn(process.execPath, ["serve-echo.mjs"], { cwd: jsApp, stdio: ["ignore", "pipe", "inherit"] });
    try {
      const [line] = (await once(server.stdout, "data")) as [Buffer];
      const target = `127.0.0.1:${line.toString().trim()}`;
      const list = await run("npx", ["--no-install", "ferry", "list", target], jsApp);
      expect(list.stdout.split("\n")).toContain("ferry.test.v1.EchoService");
      const call = await run("npx", ["--no-install", "ferry", "call", target, "ferry.test.v1.EchoService/Echo", "-d", '{"text":"hi"}'], jsApp);
      expect(JSON.parse(call.stdout)).toEqual({ text: "echo: hi" });
      const missing = await run("npx", ["--no-install", "ferry", "call", target, "ferry.test.v1.EchoService/ServerStream", "-d", "{}"], jsApp);
      expect(missing.code).toBe(12);
      expect(missing.stderr).toMatch(/^ERROR: UNIMPLEMENTED: /);
    } finally {
      server.kill("SIGTERM");
      await once(server, "exit");
    }
  }, 120_000);
});
