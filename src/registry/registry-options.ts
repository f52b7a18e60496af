import type { Logger } from "../util/logger.js";

/** Options every registry backend accepts. */
export interface RegistryOptions {
  /** Where warnings (failed heartbeats, listener errors) go; default {@link getDefaultLogger}. */
  logger?: Logger;
  /** Bound on one encoded instance (JSON) in bytes; register() raises INVALID_ARGUMENT above it. Default 16_384. */
  maxInstanceBytes?: number;
}
