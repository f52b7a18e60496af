/**
 * Redis with an ACL user and password, in cleartext and over TLS, against a
 * redis-server process this spec starts on free ports (`--port` and
 * `--tls-port`, client certificates required): the events adapter connects
 * with `redis://user:password@host` and `rediss://user:password@host?tls_ca=…`,
 * publishes and consumes; a wrong password, a missing client certificate or a
 * server from another CA fail without the secrets in the message.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBroker } from "../../src/messaging/index.js";
import { Code } from "../../src/index.js";
import { freePort } from "../cli/run-ferry.js";
import { rejection } from "../support/rejection.js";
import { isReachable } from "../support/services.js";
import { quiet, roundTrip } from "./broker-round-trip.js";
import { writeTlsFiles, type TlsFiles } from "./tls-files.js";

const REDIS = "/usr/bin/redis-server";
const missing = !existsSync(REDIS);
if (missing && process.env.FERRY_REQUIRE_SERVICES === "1") throw new Error(`${REDIS} is missing`);
if (missing) console.log(`skipping the Redis credentials spec: ${REDIS} is not installed`);

describe.skipIf(missing)("Redis ACL credentials and TLS (rediss://)", () => {
  let child: ChildProcess;
  let port: number;
  let tlsPort: number;
  let tls: TlsFiles;
  beforeAll(async () => {
    [port, tlsPort] = [await freePort(), await freePort()];
    tls = writeTlsFiles();
    const tlsArgs = ["--tls-port", String(tlsPort), "--tls-cert-file", tls.serverCert, "--tls-key-file", tls.serverKey, "--tls-ca-cert-file", tls.ca, "--tls-auth-clients", "yes"];
    const acl = ["--user", "default", "off", "--user", "ferry", "on", ">s3cret-pw", "~*", "&*", "+@all"];
    child = spawn(REDIS, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...tlsArgs, ...acl], { stdio: "ignore" });
    const end = Date.now() + 10_000;
    while (!(await isReachable("127.0.0.1", port, 200)) || !(await isReachable("127.0.0.1", tlsPort, 200))) {
      if (Date.now() > end || child.exitCode !== null) throw new Error("redis-server did not start");
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  afterAll(async () => {
    if (child?.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
    tls?.remove();
  });

  it("connects with redis://user:password@host; a wrong password fails without it in the message", async () => {
    expect(await roundTrip(`redis://ferry:s3cret-pw@127.0.0.1:${port}`)).toBe("over the wire");
    const failure = await rejection(createBroker(`redis://ferry:wrong-pw-value@127.0.0.1:${port}`, { logger: quiet }));
    expect(String(failure.message)).not.toContain("wrong-pw-value");
    expect(JSON.stringify(failure.metadata.toJSON())).not.toContain("wrong-pw-value");
  });

  it("rediss:// with the CA and a client certificate from the URL (or PEMs in adapterOptions.tls) publishes and consumes over TLS", async () => {
    expect(await roundTrip(`rediss://ferry:s3cret-pw@127.0.0.1:${tlsPort}?${tls.query()}`)).toBe("over the wire");
    const { readFileSync } = await import("node:fs");
    const pem = { ca: readFileSync(tls.ca, "utf8"), cert: readFileSync(tls.cert, "utf8"), key: readFileSync(tls.key, "utf8") };
    expect(await roundTrip(`rediss://ferry:s3cret-pw@127.0.0.1:${tlsPort}`, { tls: pem })).toBe("over the wire");
  });

  it("rediss:// refusals: no client certificate, a server the CA does not vouch for, a wrong password; TLS options on redis:// are INVALID_ARGUMENT", async () => {
    const noCert = await rejection(createBroker(`rediss://ferry:s3cret-pw@127.0.0.1:${tlsPort}?${tls.query({}, false)}`, { logger: quiet }));
    expect(noCert.code).toBe(Code.UNAVAILABLE);
    const systemCas = await rejection(createBroker(`rediss://ferry:s3cret-pw@127.0.0.1:${tlsPort}`, { logger: quiet }));
    expect(systemCas.code).toBe(Code.UNAVAILABLE);
    expect(systemCas.message).toMatch(/certificate/i);
    const wrongPw = await rejection(createBroker(`rediss://ferry:wrong-pw-value@127.0.0.1:${tlsPort}?${tls.query()}`, { logger: quiet }));
    expect(wrongPw.message).not.toContain("wrong-pw-value");
    const cleartext = await rejection(createBroker(`redis://ferry:s3cret-pw@127.0.0.1:${port}?${tls.query()}`, { logger: quiet }));
    expect(cleartext.code).toBe(Code.INVALID_ARGUMENT);
    expect(cleartext.rawMessage).toBe("redis adapter: TLS options need the TLS scheme (rediss://)");
    const unreadable = await rejection(createBroker(`rediss://127.0.0.1:${tlsPort}?tls_ca=/nonexistent/ca.pem`, { logger: quiet }));
    expect(unreadable.rawMessage).toBe("redis adapter: cannot read tls_ca: ENOENT");
    const typo = await rejection(createBroker(`rediss://127.0.0.1:${tlsPort}?tls_cafile=x`, { logger: quiet }));
    expect(typo.rawMessage).toContain('unknown parameter "tls_cafile"');
  });
});
