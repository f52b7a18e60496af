/**
 * The messaging conformance suite: every case against every adapter listed in
 * adapters.ts, on the real brokers of this machine. A case an adapter cannot
 * pass is skipped with the reason its entry gives.
 * Run one adapter: FERRY_CONFORMANCE=nats npx vitest run test/messaging
 */
import { afterAll, beforeAll, describe, it } from "vitest";
import { createBroker, type Broker } from "../../src/messaging/index.js";
import { checkService } from "../support/services.js";
import { conformanceAdapters, type ConformanceCase } from "./adapters.js";
import { conformanceCases } from "./conformance-cases.js";
import { makeContext, runRoot, type CaseContext } from "./conformance-helpers.js";

// FERRY_CONFORMANCE=memory,nats runs only those adapters (for working on one adapter).
const only = process.env.FERRY_CONFORMANCE?.split(",").filter((s) => s !== "");

for (const adapter of conformanceAdapters.filter((a) => only === undefined || only.includes(a.name))) {
  const check = adapter.service === undefined ? { skip: false, reason: "" } : await checkService(adapter.service.name, adapter.service.host, adapter.service.port);

  describe.skipIf(check.skip)(`messaging conformance (${adapter.name})`, () => {
    const root = runRoot();
    const extra: Broker[] = [];
    let broker: Broker;
    let ctx: CaseContext;

    beforeAll(async () => {
      broker = await createBroker(adapter.url, { adapterOptions: adapter.adapterOptions });
      ctx = makeContext(adapter, broker, root, extra);
    });

    afterAll(async () => {
      await Promise.all(extra.map((b) => b.close()));
      await broker?.close();
      await adapter.cleanup(root);
    });

    for (const [name, run] of Object.entries(conformanceCases) as [ConformanceCase, (c: CaseContext) => Promise<void>][]) {
      const reason = adapter.skips[name];
      if (reason !== undefined) it.skip(`${name} — skipped: ${reason}`, () => {});
      else it(name, () => run(ctx), 30_000);
    }
  });
}
