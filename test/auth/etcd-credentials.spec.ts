/**
 * The etcd registry over TLS with authentication, against an etcd process
 * this spec starts on free ports (client URL https, `--client-cert-auth`,
 * `auth enable` with a user whose role may read and write `/ferry/` only):
 * password auth and certificate-CN auth both register and resolve; a wrong
 * password is UNAUTHENTICATED without the password in the message; no client
 * certificate is UNAVAILABLE; a prefix outside the role is PERMISSION_DENIED.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code } from "../../src/index.js";
import { createRegistry } from "../../src/registry/index.js";
import { freePort } from "../cli/run-ferry.js";
import { rejection } from "../support/rejection.js";
import { isReachable } from "../support/services.js";
import { writeTlsFiles, type TlsFiles } from "./tls-files.js";

const ETCD = "/usr/bin/etcd";
const missing = !existsSync(ETCD) || !existsSync("/usr/bin/etcdctl");
if (missing && process.env.FERRY_REQUIRE_SERVICES === "1") throw new Error(`${ETCD} or etcdctl is missing`);
if (missing) console.log("skipping the etcd credentials spec: etcd is not installed (.ci/services.sh installs it)");

describe.skipIf(missing)("etcd registry with TLS and authentication", () => {
  let child: ChildProcess;
  let port: number;
  let tls: TlsFiles;
  let dataDir: string;
  const base = () => `etcd://127.0.0.1:${port}`;

  beforeAll(async () => {
    [port] = [await freePort()];
    const peerPort = await freePort();
    tls = writeTlsFiles("ferry"); // the client certificate's CN is the etcd user "ferry"
    dataDir = mkdtempSync(join(tmpdir(), "ferry-etcd-"));
    const client = `https://127.0.0.1:${port}`;
    const peer = `http://127.0.0.1:${peerPort}`;
    child = spawn(ETCD, [
      "--name", "ferry-test", "--data-dir", dataDir, "--listen-client-urls", client, "--advertise-client-urls", client,
      "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", `ferry-test=${peer}`,
      "--cert-file", tls.serverCert, "--key-file", tls.serverKey, "--trusted-ca-file", tls.ca, "--client-cert-auth",
    ], { stdio: "ignore" });
    const end = Date.now() + 20_000;
    while (!(await isReachable("127.0.0.1", port, 200))) {
      if (Date.now() > end || child.exitCode !== null) throw new Error("etcd did not start");
      await new Promise((r) => setTimeout(r, 100));
    }
    const ctl = (...args: string[]) =>
      execFileSync("/usr/bin/etcdctl", ["--endpoints", client, "--cacert", tls.ca, "--cert", tls.cert, "--key", tls.key, ...args], { env: { ...process.env, ETCDCTL_API: "3" }, stdio: "pipe" });
    for (const args of [
      ["user", "add", "root:root-pw-1"], ["user", "add", "ferry:s3cret-pw"], ["role", "add", "ferry-registry"],
      ["role", "grant-permission", "ferry-registry", "--prefix=true", "readwrite", "/ferry/"], ["user", "grant-role", "ferry", "ferry-registry"], ["auth", "enable"],
    ]) ctl(...args);
  }, 40_000);

  afterAll(async () => {
    if (child?.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
    tls?.remove();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function registersAndSees(url: string): Promise<void> {
    const registry = await createRegistry(url);
    try {
      const service = `ferry.test.v1.Tls${port}${Math.random().toString(36).slice(2, 6)}`;
      const reg = await registry.register({ service, instanceId: "a", endpoints: [{ transport: "grpc", url: "grpc://127.0.0.1:1" }], metadata: {} }, { ttlMs: 5_000 });
      expect((await registry.resolve(service)).map((i) => i.instanceId)).toEqual(["a"]);
      await reg.close();
    } finally {
      await registry.close();
    }
  }

  it("user and password over TLS (etcd://user:password@host?tls_ca&tls_cert&tls_key) register and resolve", async () => {
    await registersAndSees(`etcd://ferry:s3cret-pw@127.0.0.1:${port}?${tls.query()}`);
  });

  it("the client certificate alone authenticates as its common name (etcd --client-cert-auth)", async () => {
    await registersAndSees(`${base()}?${tls.query()}`);
  });

  it("refusals: wrong password UNAUTHENTICATED (password never in the message); no client certificate UNAVAILABLE; a prefix outside the role PERMISSION_DENIED", async () => {
    const wrong = await rejection(createRegistry(`etcd://ferry:wrong-pw-value@127.0.0.1:${port}?${tls.query()}`));
    expect(wrong.code).toBe(Code.UNAUTHENTICATED);
    expect(wrong.message).not.toContain("wrong-pw-value");
    const noCert = await rejection(createRegistry(`etcd://ferry:s3cret-pw@127.0.0.1:${port}?${tls.query({ connectTimeoutMs: "1500" }, false)}`));
    expect(noCert.code).toBe(Code.UNAVAILABLE);
    expect(noCert.message).not.toContain("s3cret-pw");
    const outside = await rejection(createRegistry(`etcd://ferry:s3cret-pw@127.0.0.1:${port}?${tls.query({ prefix: "/other/" })}`));
    expect(outside.code).toBe(Code.PERMISSION_DENIED);
    const half = await rejection(createRegistry(`${base()}?tls_cert=${tls.cert}`));
    expect(half.rawMessage).toBe("etcd registry URL: tls_cert and tls_key go together");
  });
});
