import type { CallContext } from "./call-context.js";
import type { Metadata, MetadataInit } from "./metadata.js";

/** Per-call options of every client method. */
export interface CallOptions {
  /**
   * Time the call may take, in milliseconds, from now. Sent to the server
   * (`grpc-timeout`); when it elapses the call is cancelled on both sides and
   * fails with DEADLINE_EXCEEDED. Default: no timeout, or the parent call's
   * remaining time (deadline propagation). The earlier deadline wins.
   */
  timeoutMs?: number;
  /** Request headers (custom metadata). */
  metadata?: MetadataInit;
  /** Cancels the call when it fires; the call fails with CANCELLED. */
  signal?: AbortSignal;
  /**
   * The server call this call is made on behalf of: its remaining deadline
   * and cancellation carry over. Default: the call whose handler is running
   * (found through `AsyncLocalStorage`); `null` turns propagation off.
   */
  parent?: CallContext | null;
  /** Receives the response headers once they arrive. */
  onHeaders?: (headers: Metadata) => void;
  /** Receives the response trailers once the call completes (also on error). */
  onTrailers?: (trailers: Metadata) => void;
}
