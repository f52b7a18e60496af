import { randomBytes } from "node:crypto";
import { createBroker, defineTopic, type Broker, type Topic } from "../../src/messaging/index.js";
import { EchoRequestSchema } from "../gen/ferry/test/v1/echo_pb.js";
import type { ConformanceAdapter } from "./adapters.js";

/** The message type every conformance topic carries (text + bytes payload). */
export const Schema = EchoRequestSchema;
export type TestTopic = Topic<typeof EchoRequestSchema>;

/** What each conformance case receives. */
export interface CaseContext {
  readonly adapter: ConformanceAdapter;
  /** A broker client shared by the adapter's cases. */
  readonly broker: Broker;
  /** A fresh topic under this run's root, e.g. `c1a2b3.fan-out.7`. */
  topic(label: string): TestTopic;
  /** A fresh consumer group name. */
  group(label: string): string;
  /** Another client of the same broker (a second "process"), closed after the case. */
  newBroker(): Promise<Broker>;
  /** The root token of every topic of this run. */
  readonly root: string;
}

/** A unique root token for one test run, so runs never collide on a shared broker. */
export function runRoot(): string {
  return `c${randomBytes(4).toString("hex")}`;
}

let counter = 0;

/** Builds the per-adapter context; `track` collects extra brokers to close. */
export function makeContext(adapter: ConformanceAdapter, broker: Broker, root: string, track: Broker[]): CaseContext {
  return {
    adapter,
    broker,
    root,
    topic: (label) => defineTopic(`${root}.${label}.${++counter}`, Schema),
    group: (label) => `${label}-${++counter}`,
    newBroker: async () => {
      const b = await createBroker(adapter.url, { adapterOptions: adapter.adapterOptions });
      track.push(b);
      return b;
    },
  };
}

/** Polls `condition` every 10 ms until true; throws with `what` after `timeoutMs` (default 10 s). */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Fast retry settings for tests: 10 ms initial backoff, no jitter. */
export const fastBackoff = { initialMs: 10, maxMs: 50, multiplier: 2, jitter: 0 };
