import type { FerryError } from "../rpc/ferry-error.js";
import { TypedEvents, type TypedEvent, type TypedListener } from "../util/typed-events.js";
import type { ConnectivityState } from "./connectivity-state.js";
import type { EjectionReason } from "./outlier-detection.js";
import type { Endpoint } from "./resolver.js";

/** Fields every channel event carries. */
interface EventBase {
  /** The channel's target (e.g. `registry:///shop.v1.InventoryService`), for logs and metrics labels. */
  readonly target: string;
}

/**
 * Every event a channel emits, by type. Plain objects except `error` fields
 * (a FerryError) and `endpoint` (the resolver's {@link Endpoint}).
 */
export interface ChannelEventMap {
  /** The resolver delivered a new endpoint list (possibly empty). */
  "resolver.update": EventBase & { readonly endpoints: readonly Endpoint[] };
  /** The resolver reported an error; the last good list stays in use. */
  "resolver.error": EventBase & { readonly error: Error };
  /** A subchannel changed connectivity state; `error` is set for TRANSIENT_FAILURE. */
  "subchannel.state": EventBase & {
    readonly endpoint: Endpoint;
    readonly previous: ConnectivityState;
    readonly state: ConnectivityState;
    readonly error: FerryError | undefined;
  };
  /** A new picker is in use: `ready` subchannels can take calls (READY and not ejected) out of `total`. */
  "picker.updated": EventBase & {
    readonly state: ConnectivityState;
    readonly ready: number;
    readonly total: number;
    readonly ejected: number;
  };
  /** Outlier detection ejected an endpoint for `ejectionTimeMs` (its `ejections`-th back-to-back ejection). */
  "endpoint.ejected": EventBase & {
    readonly endpoint: Endpoint;
    readonly reason: EjectionReason;
    readonly ejectionTimeMs: number;
    readonly ejections: number;
    /** Failures and calls counted in the current interval when it was ejected. */
    readonly failures: number;
    readonly calls: number;
  };
  /** An ejected endpoint was restored (its ejection time is over). */
  "endpoint.restored": EventBase & { readonly endpoint: Endpoint };
}

/** The name of a channel event type. */
export type ChannelEventType = keyof ChannelEventMap;
/** Any channel event, discriminated by `type`. */
export type ChannelEvent = TypedEvent<ChannelEventMap>;
/** One listener of channel events of type `K`. */
export type ChannelListener<K extends ChannelEventType> = TypedListener<ChannelEventMap, K>;

/**
 * The typed event emitter of channels (see {@link TypedEvents}): `on(type,
 * listener)` and `onAny(listener)` return an unsubscribe function; listeners
 * run synchronously and a throwing listener never breaks a call. Pass one
 * instance to several channels (option `events`) to observe them together.
 */
export class ChannelEvents extends TypedEvents<ChannelEventMap> {}
