/**
 * RabbitMQ over TLS with credentials (`amqps://`), against a second RabbitMQ
 * node this spec starts (its own node name, ports and Mnesia directory; see
 * test/messaging/private-brokers.ts) with a TLS listener that requires a
 * client certificate from the spec's CA (user guest, which RabbitMQ allows
 * from loopback only): the events
 * adapter publishes and consumes over TLS; a missing client certificate, a
 * wrong password and TLS options on `amqp://` are refused, without the
 * password in any message.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBroker } from "../../src/messaging/index.js";
import { Code } from "../../src/index.js";
import { freePort } from "../cli/run-ferry.js";
import { brokerBinaries, missingBinary, startPrivateRabbitmq, type PrivateBroker } from "../messaging/private-brokers.js";
import { rejection } from "../support/rejection.js";
import { quiet, roundTrip } from "./broker-round-trip.js";
import { writeTlsFiles, type TlsFiles } from "./tls-files.js";

const missing = missingBinary(brokerBinaries.rabbitmq);
if (missing !== undefined && process.env.FERRY_REQUIRE_SERVICES === "1") throw new Error(missing);
if (missing !== undefined) console.log(`skipping the amqps:// spec: ${missing}`);

describe.skipIf(missing !== undefined)("RabbitMQ over TLS with credentials (amqps://)", () => {
  let node: PrivateBroker | undefined;
  let tls: TlsFiles;
  let tlsPort: number;
  beforeAll(async () => {
    tls = writeTlsFiles();
    tlsPort = await freePort();
    node = await startPrivateRabbitmq(
      [
        `listeners.ssl.default = 127.0.0.1:${tlsPort}`,
        `ssl_options.cacertfile = ${tls.ca}`,
        `ssl_options.certfile = ${tls.serverCert}`,
        `ssl_options.keyfile = ${tls.serverKey}`,
        "ssl_options.verify = verify_peer",
        "ssl_options.fail_if_no_peer_cert = true",
        "",
      ].join("\n"),
    );
  }, 120_000);
  afterAll(async () => {
    await node?.stop();
    tls?.remove();
  }, 30_000);

  it("amqps://user:password@host with the CA and a client certificate from the URL publishes and consumes over TLS", async () => {
    expect(await roundTrip(`amqps://guest:guest@127.0.0.1:${tlsPort}?${tls.query()}`)).toBe("over the wire");
  });

  it("refuses a connection without a client certificate, with the system CAs only, or with a wrong password; TLS options on amqp:// are INVALID_ARGUMENT", async () => {
    const noCert = await rejection(createBroker(`amqps://guest:guest@127.0.0.1:${tlsPort}?${tls.query({}, false)}`, { logger: quiet }));
    expect(noCert.code).toBe(Code.UNAVAILABLE);
    const systemCas = await rejection(createBroker(`amqps://guest:guest@127.0.0.1:${tlsPort}`, { logger: quiet }));
    expect(systemCas.code).toBe(Code.UNAVAILABLE);
    expect(systemCas.message).toMatch(/certificate/i);
    const wrongPw = await rejection(createBroker(`amqps://guest:wrong-pw-value@127.0.0.1:${tlsPort}?${tls.query()}`, { logger: quiet }));
    expect(wrongPw.code).toBe(Code.UNAVAILABLE);
    expect(wrongPw.message).toMatch(/ACCESS_REFUSED|403/);
    expect(wrongPw.message).not.toContain("wrong-pw-value");
    const cleartext = await rejection(createBroker(`amqp://guest:guest@127.0.0.1:${tlsPort}?${tls.query()}`, { logger: quiet }));
    expect(cleartext.rawMessage).toBe("amqp adapter: TLS options need the TLS scheme (amqps://)");
  });
});
