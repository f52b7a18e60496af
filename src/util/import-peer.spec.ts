import { describe, expect, it } from "vitest";
import { Code } from "../rpc/code.js";
import { importPeer } from "./import-peer.js";

describe("importPeer()", () => {
  it("turns a missing package into FAILED_PRECONDITION naming the package to install", async () => {
    await expect(importPeer("ferry-missing-peer", () => import("ferry-missing-peer" as string), "the test feature")).rejects.toMatchObject({
      code: Code.FAILED_PRECONDITION,
      rawMessage: 'the test feature needs the package "ferry-missing-peer": npm install ferry-missing-peer',
    });
  });

  it("names the package that is actually missing (a scoped one, from a CommonJS require)", async () => {
    const load = () => Promise.reject(Object.assign(new Error("Cannot find module '@scope/dep/sub'\nRequire stack: …"), { code: "MODULE_NOT_FOUND" }));
    await expect(importPeer("outer", load)).rejects.toMatchObject({ rawMessage: 'this feature needs the package "@scope/dep": npm install @scope/dep' });
  });

  it("treats an installed version whose exports hide the file as missing (ERR_PACKAGE_PATH_NOT_EXPORTED)", async () => {
    const hidden = () => Promise.reject(Object.assign(new Error("Package subpath './dist/x.js' is not defined by \"exports\""), { code: "ERR_PACKAGE_PATH_NOT_EXPORTED" }));
    await expect(importPeer("uplot", hidden, "the dashboard")).rejects.toMatchObject({ code: Code.FAILED_PRECONDITION, rawMessage: 'the dashboard needs the package "uplot": npm install uplot' });
  });

  it("rethrows other failures unchanged, and a missing relative file as it is", async () => {
    const boom = new Error("boom");
    await expect(importPeer("x", () => Promise.reject(boom))).rejects.toBe(boom);
    const broken = Object.assign(new Error("Cannot find module './gone.js'"), { code: "ERR_MODULE_NOT_FOUND" });
    await expect(importPeer("x", () => Promise.reject(broken))).rejects.toBe(broken);
  });

  it("returns the module when it loads", async () => {
    await expect(importPeer("node:path", () => import("node:path"))).resolves.toHaveProperty("join");
  });
});
