import { randomUUID } from "node:crypto";
import type { SqlStore } from "../../src/consistency/index.js";
import { Code, FerryError, type ServiceImpl } from "../../src/index.js";
import type { PaymentService, ChargeRequest, ChargeResponse, RefundRequest, RefundResponse } from "./gen/shop/v1/payment_pb.js";

/** Options of {@link createPaymentService}. */
export interface PaymentOptions {
  /** Share of charges that fail with UNAVAILABLE, from 0 to 1 (the `--payment-failure-rate` flag). Default 0. */
  failureRate?: number;
  /** Random source in [0, 1), for tests. Default `Math.random`. */
  random?: () => number;
  /** Keep payments in this store (`shop_payments`, created by createShopTables); default: in memory. */
  store?: SqlStore;
}

/** Where payments are kept: a charge is recorded with its idempotency key in one step. */
interface Ledger {
  byKey(key: string): Promise<ChargeResponse | undefined>;
  /** Records a charge; resolves with the charge already recorded under the same key, if one won the race. */
  record(paymentId: string, req: ChargeRequest): Promise<ChargeResponse>;
  /** Marks a payment refunded: `refunded` false when it already was; undefined for an unknown one. */
  refund(req: RefundRequest): Promise<{ paymentId: string; amountCents: bigint; refunded: boolean } | undefined>;
}

const response = (paymentId: string, amountCents: bigint): ChargeResponse => ({ $typeName: "shop.v1.ChargeResponse", paymentId, amountCents });

/**
 * A pretend payment provider. Charge returns a payment id; a repeated
 * idempotency key returns the first result (also across restarts with a
 * store). INVALID_ARGUMENT for an amount below 1 cent; UNAVAILABLE for a
 * simulated provider failure (before anything is recorded). Refund, by
 * payment id or by the charge's idempotency key (when the charge's reply was
 * lost): NOT_FOUND for an unknown payment, FAILED_PRECONDITION when already refunded.
 */
export function createPaymentService(options: PaymentOptions = {}): ServiceImpl<typeof PaymentService> {
  const rate = options.failureRate ?? 0;
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`payment failure rate must be between 0 and 1, got ${rate}`);
  const random = options.random ?? Math.random;
  const ledger = options.store === undefined ? memoryLedger() : sqlLedger(options.store);
  return {
    async charge(req) {
      if (req.amountCents < 1n) throw new FerryError(Code.INVALID_ARGUMENT, `amount must be at least 1 cent, got ${req.amountCents}`);
      const previous = req.idempotencyKey === "" ? undefined : await ledger.byKey(req.idempotencyKey);
      if (previous !== undefined) return previous;
      if (rate > 0 && random() < rate) throw new FerryError(Code.UNAVAILABLE, "payment provider unavailable (simulated failure)");
      return ledger.record(`pay_${randomUUID()}`, req);
    },
    async refund(req): Promise<RefundResponse> {
      const what = req.paymentId !== "" ? `payment "${req.paymentId}"` : `charge with idempotency key "${req.chargeIdempotencyKey}"`;
      if (req.paymentId === "" && req.chargeIdempotencyKey === "") throw new FerryError(Code.INVALID_ARGUMENT, "payment_id or charge_idempotency_key is required");
      const p = await ledger.refund(req);
      if (p === undefined) throw new FerryError(Code.NOT_FOUND, `unknown ${what}`);
      if (!p.refunded) throw new FerryError(Code.FAILED_PRECONDITION, `${what} was already refunded`);
      return { $typeName: "shop.v1.RefundResponse", paymentId: p.paymentId, amountCents: p.amountCents };
    },
  };
}

function memoryLedger(): Ledger {
  const byKey = new Map<string, ChargeResponse>();
  const payments = new Map<string, { amountCents: bigint; refunded: boolean }>();
  return {
    byKey: async (key) => byKey.get(key),
    async record(paymentId, req) {
      const res = response(paymentId, req.amountCents);
      payments.set(paymentId, { amountCents: req.amountCents, refunded: false });
      if (req.idempotencyKey !== "") byKey.set(req.idempotencyKey, res);
      return res;
    },
    async refund(req) {
      const paymentId = req.paymentId !== "" ? req.paymentId : byKey.get(req.chargeIdempotencyKey)?.paymentId;
      const p = paymentId === undefined ? undefined : payments.get(paymentId);
      if (p === undefined || paymentId === undefined) return undefined;
      const refunded = !p.refunded;
      p.refunded = true;
      return { paymentId, amountCents: p.amountCents, refunded };
    },
  };
}

interface PaymentRow extends Record<string, unknown> {
  payment_id: string;
  amount_cents: string | number;
  refunded?: boolean;
}

function sqlLedger(store: SqlStore): Ledger {
  const table = `${store.schema}.shop_payments`;
  const byKey = async (key: string) => {
    const rows = await store.query<PaymentRow>(`SELECT payment_id, amount_cents FROM ${table} WHERE idempotency_key = $1`, [key]);
    return rows[0] === undefined ? undefined : response(rows[0].payment_id, BigInt(rows[0].amount_cents));
  };
  return {
    byKey,
    async record(paymentId, req) {
      const key = req.idempotencyKey === "" ? null : req.idempotencyKey;
      const rows = await store.query(
        `INSERT INTO ${table} (payment_id, idempotency_key, user_id, amount_cents) VALUES ($1, $2, $3, $4) ON CONFLICT (idempotency_key) DO NOTHING RETURNING 1`,
        [paymentId, key, req.userId, String(req.amountCents)],
      );
      if (rows.length === 0 && key !== null) return (await byKey(key))!; // a concurrent repeat recorded it first
      return response(paymentId, req.amountCents);
    },
    async refund(req) {
      const where = req.paymentId !== "" ? "payment_id = $1" : "idempotency_key = $1";
      const id = req.paymentId !== "" ? req.paymentId : req.chargeIdempotencyKey;
      // One statement: the old flag (FOR UPDATE in the sub-select) tells whether this call refunded it.
      const rows = await store.query<PaymentRow & { was: boolean }>(
        `UPDATE ${table} p SET refunded = true FROM (SELECT payment_id, refunded AS was FROM ${table} WHERE ${where} FOR UPDATE) old
         WHERE p.payment_id = old.payment_id RETURNING p.payment_id, p.amount_cents, old.was`,
        [id],
      );
      const r = rows[0];
      return r === undefined ? undefined : { paymentId: r.payment_id, amountCents: BigInt(r.amount_cents), refunded: !r.was };
    },
  };
}
