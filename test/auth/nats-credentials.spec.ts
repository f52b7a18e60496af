/**
 * NATS with credentials and TLS, against nats-server processes this spec
 * starts on free ports with their own configuration: token, user/password,
 * NKey, a creds file (operator mode, JWTs made with @nats-io/jwt), TLS with a
 * client certificate, and the NATS KV registry with a token over TLS;
 * failures are UNAVAILABLE and never contain the credential.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as jwt from "@nats-io/jwt";
import { nkeys } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBroker } from "../../src/messaging/index.js";
import { createRegistry } from "../../src/registry/index.js";
import { connectNats } from "../../src/messaging/nats/nats-connection.js";
import { Code } from "../../src/index.js";
import { createThrowawayCa } from "../../src/transport/grpc/index.js";
import { rejection } from "../support/rejection.js";
import { isReachable } from "../support/services.js";
import { freePort } from "../cli/run-ferry.js";
import { writeTlsFiles } from "./tls-files.js";

const NATS = "/usr/sbin/nats-server";
const missing = !existsSync(NATS);
if (missing && process.env.FERRY_REQUIRE_SERVICES === "1") throw new Error(`${NATS} is missing`);
if (missing) console.log(`skipping the NATS credentials spec: ${NATS} is not installed`);

const quiet = { error() {}, warn() {}, info() {}, debug() {} };
const children: ChildProcess[] = [];
let dir: string;

/** Starts nats-server with `config` on a free port; resolves once it accepts connections. */
async function startNats(config: string, jetstream = false): Promise<number> {
  const port = await freePort();
  const file = join(dir, `nats-${port}.conf`);
  writeFileSync(file, `listen: 127.0.0.1:${port}\n${jetstream ? `jetstream { store_dir: "${join(dir, `js-${port}`)}" }\n` : ""}${config}\n`);
  const child = spawn(NATS, ["-c", file], { stdio: "ignore" });
  children.push(child);
  const end = Date.now() + 10_000;
  while (!(await isReachable("127.0.0.1", port, 200))) {
    if (Date.now() > end || child.exitCode !== null) throw new Error(`nats-server did not start with ${config}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return port;
}

describe.skipIf(missing)("NATS credentials and TLS", () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "ferry-nats-auth-"));
  });
  afterAll(async () => {
    for (const c of children) c.kill("SIGTERM");
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once("exit", r)) : undefined)));
    rmSync(dir, { recursive: true, force: true });
  });

  it("token: nats://TOKEN@host works through the messaging adapter; a wrong token is UNAVAILABLE without the token in the message", async () => {
    const port = await startNats('authorization { token: "s3cret-token" }', true);
    const broker = await createBroker(`nats://s3cret-token@127.0.0.1:${port}`, { logger: quiet });
    await broker.close();
    const err = await rejection(connectNats(new URL(`nats://wrong-token-value@127.0.0.1:${port}`), "test"));
    expect(err.code).toBe(Code.UNAVAILABLE);
    expect(err.rawMessage).toBe(`cannot connect to NATS at 127.0.0.1:${port}: authentication failed`);
    expect(err.rawMessage).not.toContain("wrong-token-value");
  });

  it("user and password, percent-decoded", async () => {
    const port = await startNats('authorization { user: "ferry", password: "p@ss:word" }');
    const nc = await connectNats(new URL(`nats://ferry:${encodeURIComponent("p@ss:word")}@127.0.0.1:${port}`), "test");
    await nc.close();
    const err = await rejection(connectNats(new URL(`nats://ferry:nope@127.0.0.1:${port}`), "test"));
    expect(err.rawMessage).not.toContain("nope");
  });

  it("NKey: ?nkey=FILE with the user's seed", async () => {
    const user = nkeys.createUser();
    const seedFile = join(dir, "user.nk");
    writeFileSync(seedFile, new TextDecoder().decode(user.getSeed()), { mode: 0o600 });
    const port = await startNats(`authorization { users: [ { nkey: "${user.getPublicKey()}" } ] }`);
    const nc = await connectNats(new URL(`nats://127.0.0.1:${port}?nkey=${encodeURIComponent(seedFile)}`), "test");
    await nc.close();
    expect((await rejection(connectNats(new URL(`nats://127.0.0.1:${port}`), "test"))).code).toBe(Code.UNAVAILABLE);
    const unreadable = await rejection(connectNats(new URL(`nats://127.0.0.1:${port}?nkey=/nonexistent/seed.nk`), "test"));
    expect(unreadable.rawMessage).toBe("NATS URL: cannot read the nkey file: ENOENT");
  });

  it("TLS with a client certificate: ?tls_ca&tls_cert&tls_key; without the certificate the server refuses", async () => {
    const ca = createThrowawayCa();
    const server = ca.issue({ altNames: ["127.0.0.1", "localhost"] });
    const client = ca.issue({ commonName: "ferry-client" });
    const files = { ca: join(dir, "ca.pem"), serverCert: join(dir, "server.pem"), serverKey: join(dir, "server.key"), cert: join(dir, "client.pem"), key: join(dir, "client.key") };
    writeFileSync(files.ca, ca.cert);
    writeFileSync(files.serverCert, server.cert);
    writeFileSync(files.serverKey, server.key, { mode: 0o600 });
    writeFileSync(files.cert, client.cert);
    writeFileSync(files.key, client.key, { mode: 0o600 });
    const port = await startNats(`tls { cert_file: "${files.serverCert}", key_file: "${files.serverKey}", ca_file: "${files.ca}", verify: true }`);
    const q = (o: Record<string, string>) => new URLSearchParams(o).toString();
    const nc = await connectNats(new URL(`nats://127.0.0.1:${port}?${q({ tls_ca: files.ca, tls_cert: files.cert, tls_key: files.key })}`), "test");
    await nc.close();
    const noCert = await rejection(connectNats(new URL(`nats://127.0.0.1:${port}?${q({ tls_ca: files.ca, connect_timeout_ms: "1500" })}`), "test"));
    expect(noCert.code).toBe(Code.UNAVAILABLE);
    const halfCert = await rejection(connectNats(new URL(`nats://127.0.0.1:${port}?${q({ tls_cert: files.cert })}`), "test"));
    expect(halfCert.rawMessage).toBe("NATS URL: tls_cert and tls_key go together");
  });

  it("creds file: ?creds=FILE (user JWT + NKey seed) against a server in operator mode; a user signed by another account is refused", async () => {
    const operator = jwt.createOperator();
    const account = jwt.createAccount();
    const user = jwt.createUser();
    const operatorJwt = await jwt.encodeOperator("ferry-test", operator);
    const unlimited = { conn: -1, subs: -1, data: -1, payload: -1, imports: -1, exports: -1, leaf: -1, wildcards: true };
    const accountJwt = await jwt.encodeAccount("ferry-app", account, { limits: unlimited }, { signer: operator });
    const userJwt = await jwt.encodeUser("ferry-user", user, account);
    const creds = join(dir, "user.creds");
    writeFileSync(creds, jwt.fmtCreds(userJwt, user), { mode: 0o600 });
    const port = await startNats(`operator: ${operatorJwt}\nresolver: MEMORY\nresolver_preload: { ${account.getPublicKey()}: ${accountJwt} }`);
    const nc = await connectNats(new URL(`nats://127.0.0.1:${port}?creds=${encodeURIComponent(creds)}`), "test");
    await nc.close();
    const stranger = jwt.createUser();
    const strangerCreds = join(dir, "stranger.creds");
    writeFileSync(strangerCreds, jwt.fmtCreds(await jwt.encodeUser("stranger", stranger, jwt.createAccount()), stranger), { mode: 0o600 });
    const refused = await rejection(connectNats(new URL(`nats://127.0.0.1:${port}?creds=${encodeURIComponent(strangerCreds)}`), "test"));
    expect(refused.code).toBe(Code.UNAVAILABLE);
    expect(refused.rawMessage).not.toMatch(/SU[A-Z0-9]{20}|eyJ/);
    const unreadable = await rejection(connectNats(new URL(`nats://127.0.0.1:${port}?creds=/nonexistent/user.creds`), "test"));
    expect(unreadable.rawMessage).toBe("NATS URL: cannot read the creds file: ENOENT");
  });

  it("the NATS KV registry takes the same URL credentials and TLS (token over TLS); a wrong token fails without it in the message", async () => {
    const tls = writeTlsFiles();
    try {
      const port = await startNats(`authorization { token: "s3cret-token" }\ntls { cert_file: "${tls.serverCert}", key_file: "${tls.serverKey}", ca_file: "${tls.ca}", verify: true }`, true);
      const url = (token: string) => `nats://${token}@127.0.0.1:${port}?bucket=ferry_tls_test&${tls.query()}`;
      const registry = await createRegistry(url("s3cret-token"));
      const reg = await registry.register({ service: "ferry.test.v1.Tls", instanceId: "a", endpoints: [{ transport: "grpc", url: "grpcs://127.0.0.1:1" }], metadata: {} });
      expect((await registry.resolve("ferry.test.v1.Tls")).map((i) => i.instanceId)).toEqual(["a"]);
      await reg.close();
      await registry.close();
      const wrong = await rejection(createRegistry(url("wrong-token-value")));
      expect(wrong.code).toBe(Code.UNAVAILABLE);
      expect(wrong.rawMessage).toBe(`NATS registry: cannot connect to 127.0.0.1:${port}: authentication failed`);
      const noCert = await rejection(createRegistry(`nats://s3cret-token@127.0.0.1:${port}?${tls.query({ connect_timeout_ms: "1500" }, false)}`));
      expect(noCert.code).toBe(Code.UNAVAILABLE);
    } finally {
      tls.remove();
    }
  });
});
