import type { DescMessage, MessageShape } from "@bufbuild/protobuf";

/** What a handler learns about the message it handles, besides the message itself. */
export interface Delivery {
  /** The message id given at publish (or generated: a UUID); stable across redeliveries and re-drives. */
  readonly messageId: string;
  /** 1 on the first delivery to this consumer group, then 2, 3, … (the broker's count). */
  readonly deliveryAttempt: number;
  /** When the message was stored, as a Date (the broker's clock where it records one, else the publisher's). */
  readonly publishTime: Date;
  /** Every header, including Ferry's `ferry-*` and the W3C `traceparent`/`tracestate`. */
  readonly headers: Readonly<Record<string, string>>;
  /** The concrete topic the message was published to (differs from the subscribed name on wildcard subscriptions). */
  readonly topic: string;
  /** The ordering key, if the publisher gave one. */
  readonly orderingKey: string | undefined;
  /** The broker's position of the message, usable as `startAt: { sequence }`; `""` when the broker has none. */
  readonly sequence: string;
  /**
   * The publisher's deadline as an absolute time (ms since the epoch):
   * publish time plus the remaining deadline it had, or `undefined`. Informational:
   * Ferry does not drop late messages.
   */
  readonly deadline: number | undefined;
  /**
   * Fires when the subscription is stopped with a drain timeout that
   * expired; a handler doing long work should give up then (the message
   * will be redelivered).
   */
  readonly signal: AbortSignal;
}

/**
 * Handles one message. Returning (or resolving) acks it; throwing (or
 * rejecting) nacks it: it is redelivered after the subscription's backoff,
 * and dead-lettered after `maxDeliveries` with the error's message as the
 * reason. Every error is retried the same way (a handler that wants to drop
 * a message on purpose catches and returns).
 */
export type MessageHandler<Desc extends DescMessage = DescMessage> = (
  message: MessageShape<Desc>,
  delivery: Delivery,
) => void | Promise<void>;
