import { describe, expect, it } from "vitest";
import type { E2eFigures, PublishFigures } from "../../bench/messaging/cases.js";
import { ConsumeTracker } from "../../bench/messaging/consume-tracker.js";
import { formatE2eTable, formatSummaryTable, type MessagingRow } from "../../bench/messaging/format-messaging.js";
import { stampPayload } from "../../bench/messaging/payload.js";
import { splitSuite } from "../../bench/messaging/suite.js";

const messagingNames = ["ferry-nats", "raw-nats"];

function e2e(contender: string, reference: string | undefined, p50Us: number, sustainedRate: number): MessagingRow<E2eFigures> {
  return { contender, reference, outcome: { status: "ok", figures: { p50Us, p99Us: p50Us * 4, pacedRate: 500, sustainedRate, foreign: 0, skipped: 0 } } };
}

function publish(contender: string, reference: string | undefined, rate: number): MessagingRow<PublishFigures> {
  return { contender, reference, outcome: { status: "ok", figures: { rate } } };
}

function cellsOf(table: string, first: string): string[] {
  const line = table.split("\n").find((l) => l.startsWith(`| ${first} |`));
  if (line === undefined) throw new Error(`no row for ${first}`);
  return line.split("|").slice(1, -1).map((c) => c.trim());
}

describe("messaging bench", () => {
  describe("splitSuite()", () => {
    it("runs both suites by default and one with --suite", () => {
      expect(splitSuite(["--short"], messagingNames)).toEqual({ suites: ["rpc", "messaging"], rest: ["--short"] });
      expect(splitSuite(["--suite=messaging", "--short"], messagingNames)).toEqual({ suites: ["messaging"], rest: ["--short"] });
      expect(splitSuite(["--suite=rpc"], messagingNames).suites).toEqual(["rpc"]);
    });

    it("picks the suite from options only one suite knows", () => {
      expect(splitSuite(["--workload=unary-64"], messagingNames).suites).toEqual(["rpc"]);
      expect(splitSuite(["--adapter=nats"], messagingNames).suites).toEqual(["messaging"]);
      expect(splitSuite(["--contender=raw-nats,ferry-nats"], messagingNames).suites).toEqual(["messaging"]);
      expect(splitSuite(["--contender=grpc-js"], messagingNames).suites).toEqual(["rpc"]);
    });

    it("rejects an unknown suite", () => {
      expect(() => splitSuite(["--suite=kafka"], messagingNames)).toThrow(/--suite must be rpc, messaging or all/);
    });
  });

  describe("formatE2eTable()", () => {
    it("divides latencies and the sustained rate by the raw reference's", () => {
      const rows = [e2e("ferry-nats", "raw-nats", 300, 2_000), e2e("raw-nats", "raw-nats", 200, 8_000)];
      const cells = cellsOf(formatE2eTable(rows, "no raw"), "ferry-nats");
      expect(cells).toEqual(["ferry-nats", "300 µs", "1.20 ms", "500", "1.50× raw-nats", "1.50× raw-nats", "2.00k", "0.25× raw-nats", ""]);
    });
  });

  describe("formatSummaryTable()", () => {
    it("gives Ferry ÷ raw per adapter and the reason when there is no raw peer", () => {
      const table = formatSummaryTable(
        [
          { adapter: "memory", publish: [publish("ferry-memory", undefined, 90_000)], e2e: [e2e("ferry-memory", undefined, 100, 30_000)] },
          { adapter: "nats", publish: [publish("ferry-nats", "raw-nats", 6_000), publish("raw-nats", "raw-nats", 12_000)], e2e: [] },
        ],
        "no raw peer",
      );
      expect(cellsOf(table, "memory")).toEqual(["memory", "—", "—", "—", "—", "no raw peer"]);
      expect(cellsOf(table, "nats")).toEqual(["nats", "0.50×", "—", "—", "—", ""]);
    });
  });

  describe("ConsumeTracker", () => {
    it("counts only the current run's messages and resolves handledAtLeast()", async () => {
      const tracker = new ConsumeTracker();
      tracker.begin(7, true);
      const reached = tracker.handledAtLeast(2);
      tracker.onMessage(stampPayload(6, performance.now()));
      tracker.onMessage(stampPayload(7, performance.now()));
      tracker.onMessage(stampPayload(7, performance.now()));
      await reached;
      expect({ handled: tracker.handled, foreign: tracker.foreign, samples: tracker.samples.length }).toEqual({ handled: 2, foreign: 1, samples: 2 });
      await expect(tracker.drain(3, 50)).rejects.toThrow(/1 of 3 confirmed messages not handled/);
    });
  });
});
