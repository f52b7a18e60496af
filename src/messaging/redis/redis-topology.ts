import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import type { StartPosition } from "../adapter.js";

/** The stream key of a topic: `<keyPrefix><topic>` (one stream per topic; consumer groups live on the stream). */
export function streamKeyFor(keyPrefix: string, topic: string): string {
  return keyPrefix + topic;
}

/** Largest sequence part of a Redis stream id (an unsigned 64-bit integer). */
const maxSeq = 18446744073709551615n;

const idPattern = /^(\d{1,20})(?:-(\d{1,20}))?$/;

/**
 * The id to give `XGROUP CREATE` so that a new group's first message is the
 * one `start` names. Redis delivers entries with ids strictly greater than
 * the group's last-delivered id, and stream ids are `<ms>-<seq>` (the ms is
 * the store time), so:
 * - `new` → `$` (only entries added from now on);
 * - `beginning` → `0`;
 * - `{ sequence: "1700000000000-3" }` → the id just before it (inclusive start;
 *   `"1700000000000"` means `"1700000000000-0"`);
 * - `{ timeMs }` → the id just before `<timeMs>-0`, i.e. the first entry
 *   stored at or after that time.
 * Raises INVALID_ARGUMENT for a sequence that is not a stream id.
 */
export function groupStartId(start: StartPosition): string {
  switch (start.kind) {
    case "new":
      return "$";
    case "beginning":
      return "0";
    case "sequence": {
      const m = idPattern.exec(start.sequence);
      if (m === null) {
        throw new FerryError(Code.INVALID_ARGUMENT, `startAt.sequence "${start.sequence}" is not a Redis stream id ("<ms>-<seq>")`);
      }
      return idBefore(BigInt(m[1]), BigInt(m[2] ?? "0"));
    }
    case "time":
      return idBefore(BigInt(Math.max(0, Math.floor(start.timeMs))), 0n);
  }
}

function idBefore(ms: bigint, seq: bigint): string {
  if (seq > 0n) return `${ms}-${seq - 1n}`;
  if (ms > 0n) return `${ms - 1n}-${maxSeq}`;
  return "0";
}

/** The store time (ms since the epoch) encoded in a stream id, or `undefined`. */
export function idTimeMs(id: string): number | undefined {
  const ms = Number(id.split("-")[0]);
  return Number.isFinite(ms) ? ms : undefined;
}
