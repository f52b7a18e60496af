/**
 * The benchmark's message: 100 bytes whose first 8 hold the publisher's
 * `performance.now()` (float64, ms) and the next 4 the run id (uint32), so
 * the consumer measures publish-to-handler latency and ignores messages of
 * an earlier run. Publisher and consumer share one process (one clock).
 */

/** Payload size in bytes. */
export const PAYLOAD_BYTES = 100;

const template = new Uint8Array(PAYLOAD_BYTES).map((_, i) => (i * 7 + 3) & 0xff);

/** A fresh payload stamped with `now` and `runId`. */
export function stampPayload(runId: number, now: number): Uint8Array {
  const bytes = template.slice();
  const view = new DataView(bytes.buffer);
  view.setFloat64(0, now, true);
  view.setUint32(8, runId, true);
  return bytes;
}

/** The stamp of a consumed payload; undefined when it is not a benchmark payload. */
export function readStamp(payload: Uint8Array): { sentAt: number; runId: number } | undefined {
  if (payload.byteLength !== PAYLOAD_BYTES) return undefined;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  return { sentAt: view.getFloat64(0, true), runId: view.getUint32(8, true) };
}
