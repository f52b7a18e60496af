import type { AnyRequest } from "../rpc/call.js";
import type { FerryError } from "../rpc/ferry-error.js";
import type { Subchannel } from "./subchannel.js";

/**
 * The outcome of one pick (gRPC's `PickResultType`):
 *
 * - `COMPLETE`: send the call on `subchannel`;
 * - `QUEUE`: no subchannel can take the call yet; wait for the next picker;
 * - `TRANSIENT_FAILURE`: no endpoint is usable; fail the call with `error`
 *   (UNAVAILABLE), unless it waits for ready, in which case it is queued;
 * - `DROP`: fail the call with `error` even if it waits for ready (the channel
 *   is shut down).
 */
export type PickResult =
  | { readonly type: "COMPLETE"; readonly subchannel: Subchannel }
  | { readonly type: "QUEUE" }
  | { readonly type: "TRANSIENT_FAILURE"; readonly error: FerryError }
  | { readonly type: "DROP"; readonly error: FerryError };

/**
 * Chooses a subchannel per call. A channel builds a new picker on every state
 * change (subchannel state, resolution, ejection) and never mutates one that
 * was handed out, so a pick costs no locking and no allocation beyond the
 * balancer's own.
 */
export interface Picker {
  pick(request: AnyRequest): PickResult;
}

const QUEUE: PickResult = { type: "QUEUE" };

/** A picker that queues every call (nothing ready yet). */
export const queuePicker: Picker = { pick: () => QUEUE };

/** A picker that fails every call with `error` (`TRANSIENT_FAILURE`). */
export function failingPicker(error: FerryError): Picker {
  const result: PickResult = { type: "TRANSIENT_FAILURE", error };
  return { pick: () => result };
}

/** A picker that drops every call with `error` (`DROP`), e.g. after the channel is closed. */
export function dropPicker(error: FerryError): Picker {
  const result: PickResult = { type: "DROP", error };
  return { pick: () => result };
}
