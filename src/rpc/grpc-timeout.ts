/**
 * Encodes and parses gRPC's `grpc-timeout` header (gRPC PROTOCOL-HTTP2:
 * `TimeoutValue TimeoutUnit`, at most 8 ASCII digits, unit one of
 * H M S m u n). Shared by every transport that carries a timeout as text.
 */

const unitMs: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };
const maxValue = 99_999_999;

/**
 * The header value for a remaining time of `ms` milliseconds, in the finest
 * unit that fits in 8 digits. Values at or below 0 encode as `1n` (the call is
 * already late; the peer fails it at once).
 */
export function encodeGrpcTimeout(ms: number): string {
  if (!(ms > 0)) return "1n";
  if (ms < 1) return `${Math.max(1, Math.round(ms * 1e6))}n`;
  if (ms * 1000 <= maxValue) return `${Math.round(ms * 1000)}u`;
  if (ms <= maxValue) return `${Math.ceil(ms)}m`;
  if (ms / 1000 <= maxValue) return `${Math.ceil(ms / 1000)}S`;
  if (ms / 60_000 <= maxValue) return `${Math.ceil(ms / 60_000)}M`;
  return `${Math.min(maxValue, Math.ceil(ms / 3_600_000))}H`;
}

/**
 * The timeout in milliseconds, or `undefined` when `value` is not a valid
 * `grpc-timeout` (empty, more than 8 digits, or an unknown unit). Servers
 * answer an invalid value with INTERNAL, per the spec's "malformed request".
 */
export function parseGrpcTimeout(value: string): number | undefined {
  const len = value.length;
  if (len < 2 || len > 9) return undefined;
  const unit = unitMs[value[len - 1]];
  if (unit === undefined) return undefined;
  let n = 0;
  for (let i = 0; i < len - 1; i++) {
    const d = value.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
  }
  return n * unit;
}
