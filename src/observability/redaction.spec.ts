import { describe, expect, it } from "vitest";
import { redactAttributeValues, redactSecrets, REDACTED } from "./redaction.js";

describe("redactSecrets()", () => {
  it("hides the password of broker and database URLs, keeping the user and host", () => {
    expect(redactSecrets("connect amqp://guest:guest@127.0.0.1:5672 now")).toBe(`connect amqp://guest:${REDACTED}@127.0.0.1:5672 now`);
    expect(redactSecrets("redis://:s3cret@cache:6379/0")).toBe(`redis://:${REDACTED}@cache:6379/0`);
    expect(redactSecrets("postgres://app:p%40ss@db/test")).toBe(`postgres://app:${REDACTED}@db/test`);
  });

  it("hides bearer and basic credentials and JWTs", () => {
    expect(redactSecrets("Authorization: Bearer abc.def-123")).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(redactSecrets("basic dXNlcjpwYXNz")).toBe(`basic ${REDACTED}`);
    expect(redactSecrets("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbm4ifQ.sig_part")).toBe(`token ${REDACTED}`);
  });

  it("returns text without secrets unchanged", () => {
    const text = "nats://127.0.0.1:4222 and grpc://host:50051";
    expect(redactSecrets(text)).toBe(text);
  });
});

describe("redactAttributeValues()", () => {
  it("redacts strings and string arrays, leaves other values", () => {
    expect(redactAttributeValues({ args: ["--broker", "amqp://u:pw@h"], pid: 7 })).toEqual({ args: ["--broker", `amqp://u:${REDACTED}@h`], pid: 7 });
  });
});
