/**
 * Constants of Ferry's native wire protocol, version 1 (docs/protocol.md):
 * the connection preface, the frame header, frame types and flags, settings,
 * connection error codes and default limits.
 */

/** Magic bytes opening every connection, in both directions (8 bytes; a non-ASCII first byte keeps text protocols from mistaking it). */
export const PREFACE_MAGIC = Buffer.from([0x89, 0x46, 0x45, 0x52, 0x52, 0x59, 0x0d, 0x0a]); // \x89 F E R R Y \r \n
/** Preface length: the magic, then two version bytes. */
export const PREFACE_BYTES = 10;
/** Protocol versions this implementation speaks (lowest, highest). */
export const MIN_VERSION = 1;
export const MAX_VERSION = 1;

/** Frame header: payload length u32, stream id u32, type u8, flags u8 (big-endian). */
export const FRAME_HEADER_BYTES = 10;

/** Frame types. Unknown types are ignored by receivers. */
export const FrameType = {
  SETTINGS: 0x00,
  CALL: 0x01,
  MESSAGE: 0x02,
  HALF_CLOSE: 0x03,
  HEADERS: 0x04,
  TRAILERS: 0x05,
  CANCEL: 0x06,
  WINDOW_UPDATE: 0x07,
  PING: 0x08,
  GOAWAY: 0x09,
} as const;

/** Frame flags; their meaning depends on the frame type. */
export const Flag = {
  /** CALL, MESSAGE: the client half-closes after this frame. HEADERS: a status section follows (the call ends). */
  END_STREAM: 0x01,
  /** CALL, HEADERS: a message (u32 length + bytes) follows the header part. */
  MESSAGE: 0x02,
  /** CALL: the method is a u32 method id (0x04) instead of a path; see {@link Flag.DEFINE_METHOD}. */
  METHOD_ID: 0x04,
  /** CALL: the path is followed by a u32 id that names this path from now on, on this connection. */
  DEFINE_METHOD: 0x08,
  /** CALL: a u32 relative timeout in milliseconds follows the method. */
  TIMEOUT: 0x10,
  /** PING: this is the answer to a ping. */
  ACK: 0x01,
} as const;

/** SETTINGS identifiers (u16), each followed by a u32 value. Unknown ones are ignored. */
export const Setting = {
  MAX_FRAME_BYTES: 1,
  INITIAL_WINDOW_BYTES: 2,
  MAX_CONCURRENT_STREAMS: 3,
  MAX_METADATA_BYTES: 4,
  MAX_METHOD_IDS: 5,
} as const;

/** GOAWAY error codes (u8). */
export const GoAwayCode = {
  NO_ERROR: 0,
  PROTOCOL_ERROR: 1,
  FRAME_TOO_LARGE: 2,
  LIMIT_EXCEEDED: 3,
  UNSUPPORTED_VERSION: 4,
  INTERNAL_ERROR: 5,
  KEEPALIVE_TIMEOUT: 6,
} as const;

/** Largest stream id; a client that reaches it opens a new connection. */
export const MAX_STREAM_ID = 0x7fffffff;

/** Default limits, advertised in SETTINGS unless configured otherwise. */
export const Defaults = {
  /** Largest frame payload accepted: a 4 MiB message plus room for the call header and metadata. */
  maxFrameBytes: 4 * 1024 * 1024 + 64 * 1024,
  /** Per-stream receive window in bytes (flow-control credit granted at stream start). */
  initialWindowBytes: 1024 * 1024,
  /** Concurrent calls per connection. */
  maxConcurrentStreams: 1000,
  /** Largest metadata block (request headers, response headers or trailers), in bytes as encoded. */
  maxMetadataBytes: 16 * 1024,
  /** Method ids a client may define per connection. */
  maxMethodIds: 1024,
  /** Idle time before a keepalive PING, in ms. */
  keepaliveIntervalMs: 30_000,
  /** Time to wait for any frame after a keepalive PING before the peer is declared dead, in ms. */
  keepaliveTimeoutMs: 10_000,
  /** Time a new connection has to complete its preface and SETTINGS, in ms. */
  handshakeTimeoutMs: 10_000,
} as const;

/** The limits one side advertises in SETTINGS. */
export interface PeerSettings {
  maxFrameBytes: number;
  initialWindowBytes: number;
  maxConcurrentStreams: number;
  maxMetadataBytes: number;
  maxMethodIds: number;
}

/** {@link Defaults} as settings. */
export function defaultSettings(): PeerSettings {
  return {
    maxFrameBytes: Defaults.maxFrameBytes,
    initialWindowBytes: Defaults.initialWindowBytes,
    maxConcurrentStreams: Defaults.maxConcurrentStreams,
    maxMetadataBytes: Defaults.maxMetadataBytes,
    maxMethodIds: Defaults.maxMethodIds,
  };
}
