/** Default largest message a Ferry transport accepts: 4 MiB, as in gRPC. */
export const DEFAULT_MAX_RECEIVE_MESSAGE_BYTES = 4 * 1024 * 1024;
