import { randomUUID } from "node:crypto";
import { Code, FerryError, type ServiceImpl } from "../../src/index.js";
import type { PaymentService, ChargeResponse } from "./gen/shop/v1/payment_pb.js";

/** Options of {@link createPaymentService}. */
export interface PaymentOptions {
  /** Share of charges that fail with UNAVAILABLE, from 0 to 1 (the `--payment-failure-rate` flag). Default 0. */
  failureRate?: number;
  /** Random source in [0, 1), for tests. Default `Math.random`. */
  random?: () => number;
}

/**
 * A pretend payment provider. Charge returns a payment id; a repeated
 * idempotency key returns the first result. INVALID_ARGUMENT for an amount
 * below 1 cent; UNAVAILABLE for a simulated provider failure; Refund:
 * NOT_FOUND for an unknown payment, FAILED_PRECONDITION when already refunded.
 */
export function createPaymentService(options: PaymentOptions = {}): ServiceImpl<typeof PaymentService> {
  const rate = options.failureRate ?? 0;
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`payment failure rate must be between 0 and 1, got ${rate}`);
  const random = options.random ?? Math.random;
  const byKey = new Map<string, ChargeResponse>();
  const payments = new Map<string, { amountCents: bigint; refunded: boolean }>();

  return {
    charge(req) {
      if (req.amountCents < 1n) throw new FerryError(Code.INVALID_ARGUMENT, `amount must be at least 1 cent, got ${req.amountCents}`);
      const previous = req.idempotencyKey === "" ? undefined : byKey.get(req.idempotencyKey);
      if (previous !== undefined) return previous;
      if (rate > 0 && random() < rate) throw new FerryError(Code.UNAVAILABLE, "payment provider unavailable (simulated failure)");
      const paymentId = `pay_${randomUUID()}`;
      payments.set(paymentId, { amountCents: req.amountCents, refunded: false });
      const res = { $typeName: "shop.v1.ChargeResponse", paymentId, amountCents: req.amountCents } as ChargeResponse;
      if (req.idempotencyKey !== "") byKey.set(req.idempotencyKey, res);
      return res;
    },
    refund(req) {
      const p = payments.get(req.paymentId);
      if (p === undefined) throw new FerryError(Code.NOT_FOUND, `unknown payment "${req.paymentId}"`);
      if (p.refunded) throw new FerryError(Code.FAILED_PRECONDITION, `payment "${req.paymentId}" was already refunded`);
      p.refunded = true;
      return { paymentId: req.paymentId, amountCents: p.amountCents };
    },
  };
}
