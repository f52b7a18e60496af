/**
 * Redis with an ACL user and password, against a redis-server process this
 * spec starts on a free port: the events adapter connects with
 * `redis://user:password@host`, and a wrong password fails without the
 * password in the error.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBroker } from "../../src/messaging/index.js";
import { FerryError } from "../../src/index.js";
import { freePort } from "../cli/run-ferry.js";
import { isReachable } from "../support/services.js";

const REDIS = "/usr/bin/redis-server";
const missing = !existsSync(REDIS);
if (missing && process.env.FERRY_REQUIRE_SERVICES === "1") throw new Error(`${REDIS} is missing`);
if (missing) console.log(`skipping the Redis credentials spec: ${REDIS} is not installed`);

const quiet = { error() {}, warn() {}, info() {}, debug() {} };

describe.skipIf(missing)("Redis ACL credentials", () => {
  let child: ChildProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    child = spawn(REDIS, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--user", "default", "off", "--user", "ferry", "on", ">s3cret-pw", "~*", "&*", "+@all"], { stdio: "ignore" });
    const end = Date.now() + 10_000;
    while (!(await isReachable("127.0.0.1", port, 200))) {
      if (Date.now() > end || child.exitCode !== null) throw new Error("redis-server did not start");
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  afterAll(async () => {
    if (child?.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
  });

  it("connects with redis://user:password@host; a wrong password fails without it in the message", async () => {
    const broker = await createBroker(`redis://ferry:s3cret-pw@127.0.0.1:${port}`, { logger: quiet });
    await broker.close();
    let failure: unknown;
    try {
      const b = await createBroker(`redis://ferry:wrong-pw-value@127.0.0.1:${port}`, { logger: quiet });
      await b.close();
    } catch (err) {
      failure = err;
    }
    expect(failure).toBeInstanceOf(FerryError);
    expect(String((failure as FerryError).message)).not.toContain("wrong-pw-value");
    expect(JSON.stringify((failure as FerryError).metadata.toJSON())).not.toContain("wrong-pw-value");
  });
});
