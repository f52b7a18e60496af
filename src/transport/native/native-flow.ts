import { ProtocolError } from "./native-codec.js";

/** Largest window a sender may accumulate (2^31 - 1 bytes), as in HTTP/2. */
const MAX_WINDOW_BYTES = 0x7fffffff;

/**
 * The send side of one stream's flow control (docs/protocol.md, "Flow
 * control"): a message may be sent while the window is positive; its size is
 * then subtracted (the window may go negative by at most one message).
 * WINDOW_UPDATE frames from the receiver add credit.
 */
export class SendWindow {
  #bytes: number;
  #waiter: (() => void) | undefined;

  constructor(initialBytes: number) {
    this.#bytes = initialBytes;
  }

  /** True when a message may be sent now. */
  get open(): boolean {
    return this.#bytes > 0;
  }

  /** Accounts for a sent message of `n` bytes. */
  consume(n: number): void {
    this.#bytes -= n;
  }

  /** Adds credit from a WINDOW_UPDATE. Raises a ProtocolError when the window would overflow. */
  grant(n: number): void {
    this.#bytes += n;
    if (this.#bytes > MAX_WINDOW_BYTES) throw new ProtocolError("flow-control window grew past 2^31-1 bytes");
    if (this.#bytes > 0) this.release();
  }

  /** Resolves once the window is open again (or {@link release} is called because the stream ended). */
  wait(): Promise<void> {
    if (this.#bytes > 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  /** Wakes a waiting sender. */
  release(): void {
    const w = this.#waiter;
    if (w !== undefined) {
      this.#waiter = undefined;
      w();
    }
  }
}

/**
 * The receive side of one stream's flow control: checks the sender stays
 * within the window, and returns the credit to grant as the consumer reads
 * messages (batched: a WINDOW_UPDATE once half the window was consumed).
 */
export class ReceiveWindow {
  #available: number;
  #consumed = 0;

  constructor(private readonly windowBytes: number) {
    this.#available = windowBytes;
  }

  /** Accounts for a received message. Raises a ProtocolError when the sender had no credit. */
  receive(n: number): void {
    if (this.#available <= 0) throw new ProtocolError("peer sent a message on a stream with no flow-control credit");
    this.#available -= n;
  }

  /** Accounts for a message the consumer took; returns the increment to send now, or 0. */
  consume(n: number): number {
    this.#consumed += n;
    if (this.#consumed < this.windowBytes / 2) return 0;
    const inc = this.#consumed;
    this.#consumed = 0;
    this.#available += inc;
    return inc;
  }
}
