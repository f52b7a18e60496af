import { describe, expect, it } from "vitest";
import { Code, createClient, createInProcessTransport, createServer, FerryError, Resilience } from "../../../src/index.js";
import { InventoryService } from "../gen/shop/v1/inventory_pb.js";
import { PaymentService } from "../gen/shop/v1/payment_pb.js";
import { PAYMENT_UNAVAILABLE_MESSAGE, shopServiceConfig } from "./shop-service-config.js";

const unavailable = () => new FerryError(Code.UNAVAILABLE, "instance down");

function inventoryWith(fail: () => boolean) {
  const calls = { getProduct: 0, reserve: 0, release: 0 };
  const server = createServer({ logger: { error() {}, warn() {}, info() {}, debug() {} } }).service(InventoryService, {
    getProduct(req) {
      calls.getProduct++;
      if (fail()) throw unavailable();
      return { sku: req.sku };
    },
    reserve(req) {
      calls.reserve++;
      if (fail()) throw unavailable();
      return { product: { sku: req.sku } };
    },
    release() {
      calls.release++;
      throw unavailable();
    },
  });
  const resilience = new Resilience(shopServiceConfig(), { random: () => 0 });
  const client = createClient(InventoryService, createInProcessTransport(server), { interceptors: [resilience.interceptor()] });
  return { client, calls };
}

describe("shopServiceConfig()", () => {
  it("is a valid service config", () => {
    expect(() => new Resilience(shopServiceConfig())).not.toThrow();
  });

  it("retries an idempotent read on UNAVAILABLE", async () => {
    let n = 0;
    const { client, calls } = inventoryWith(() => ++n === 1);
    await expect(client.getProduct({ sku: "KB-001" })).resolves.toMatchObject({ sku: "KB-001" });
    expect(calls.getProduct).toBe(2);
  });

  it("does not retry a non-idempotent write that reached the server", async () => {
    const { client, calls } = inventoryWith(() => false);
    await expect(client.release({ sku: "KB-001", quantity: 1 })).rejects.toMatchObject({ code: Code.UNAVAILABLE });
    expect(calls.release).toBe(1);
  });

  it("retries Reserve, which carries a reservation id, on UNAVAILABLE", async () => {
    let n = 0;
    const { client, calls } = inventoryWith(() => ++n === 1);
    await expect(client.reserve({ sku: "KB-001", quantity: 1, reservationId: "r-1" })).resolves.toMatchObject({ product: { sku: "KB-001" } });
    expect(calls.reserve).toBe(2);
  });

  it("opens the payment breaker after 3 failed attempts in a row and then fails at once with the clear message", async () => {
    let charges = 0;
    const server = createServer({ logger: { error() {}, warn() {}, info() {}, debug() {} } }).service(PaymentService, {
      charge() {
        charges++;
        throw new FerryError(Code.UNAVAILABLE, "provider down");
      },
    });
    const resilience = new Resilience(shopServiceConfig(), { random: () => 0 });
    const payment = createClient(PaymentService, createInProcessTransport(server), { interceptors: [resilience.interceptor()] });
    const charge = () => payment.charge({ userId: "ann", amountCents: 100n, idempotencyKey: "o1" });
    await expect(charge()).rejects.toMatchObject({ rawMessage: "provider down" });
    expect(charges).toBe(2);
    await expect(charge()).rejects.toMatchObject({ code: Code.UNAVAILABLE, rawMessage: PAYMENT_UNAVAILABLE_MESSAGE });
    await expect(charge()).rejects.toMatchObject({ code: Code.UNAVAILABLE, rawMessage: PAYMENT_UNAVAILABLE_MESSAGE });
    expect(charges).toBe(3);
    expect(resilience.breakerStates()["shop.v1.PaymentService"]?.state).toBe("open");
  });
});
