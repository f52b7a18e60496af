/**
 * Connectivity state of a subchannel or of a whole channel, as gRPC defines
 * it (doc/connectivity-semantics-and-api.md in grpc/grpc):
 *
 * - `IDLE`: no connection attempt yet.
 * - `CONNECTING`: the transport is being created.
 * - `READY`: calls can be sent.
 * - `TRANSIENT_FAILURE`: the last connection attempt or a call's connection
 *   failed; the subchannel waits a backoff delay before it is tried again.
 * - `SHUTDOWN`: closed; never leaves this state.
 *
 * A channel is READY when one of its subchannels is READY (and not ejected),
 * CONNECTING while it has no resolution yet or a subchannel is IDLE or
 * CONNECTING, TRANSIENT_FAILURE otherwise, SHUTDOWN after `close()`.
 */
export const ConnectivityState = {
  IDLE: "IDLE",
  CONNECTING: "CONNECTING",
  READY: "READY",
  TRANSIENT_FAILURE: "TRANSIENT_FAILURE",
  SHUTDOWN: "SHUTDOWN",
} as const;

/** One of the {@link ConnectivityState} values. */
export type ConnectivityState = (typeof ConnectivityState)[keyof typeof ConnectivityState];
