import { randomBytes } from "node:crypto";
import type { DescMessage, FileRegistry } from "@bufbuild/protobuf";
import type { AdapterConsumer, RawDelivery, StartPosition } from "../messaging/adapter.js";
import { FerryHeader } from "../messaging/headers.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { releaseDelayMs, type BrokerConnection } from "./broker-connection.js";
import { decodingTypeFor, deliveryView, describePayload } from "./broker-payload.js";
import { CliUsageError } from "./cli-error.js";

/** Most messages a tail holds delivered-but-not-printed at once. */
const TAIL_PREFETCH = 16;
/** The broker redelivers a message the tail did not ack within this time, in ms. */
const TAIL_ACK_TIMEOUT_MS = 30_000;

/** What `ferry topics tail` was asked to do. */
export interface TailRequest {
  /** Topic name or, where the broker has wildcards, a pattern (`shop.*`, `shop.>`). */
  readonly topic: string;
  /** Consumer group to join (`--group`); `undefined` for a temporary group deleted on exit. */
  readonly group: string | undefined;
  /** Where a new group starts (`--from`); defaults to messages published from now on. */
  readonly from: StartPosition;
  /** Stop after printing this many messages (`-n`); `undefined` to run until `signal`. */
  readonly count: number | undefined;
  /** Types from `--proto`, to decode payloads by their `ferry-type` header. */
  readonly registry: FileRegistry | undefined;
  /** `--type`: decode every payload as this message. */
  readonly type: DescMessage | undefined;
  /** Aborts the tail (Ctrl-C): it stops cleanly and resolves. */
  readonly signal: AbortSignal;
}

/** Where the tail writes: one JSON line per message, and notes for people on stderr. */
export interface TailOutput {
  line(text: string): void;
  note(text: string): void;
}

/**
 * Parses `--from`: `beginning`, a sequence (`42`, or a Redis entry id
 * `1700000000000-0`), an ISO 8601 time (`2026-12-01T10:00:00Z`) or a
 * duration back from now (`90s`, `15m`, `2h`, `1d`).
 *
 * @throws CliUsageError (exit 2) for anything else.
 */
export function parseFrom(text: string | undefined, nowMs: number = Date.now()): StartPosition {
  if (text === undefined || text === "new") return { kind: "new" };
  if (text === "beginning") return { kind: "beginning" };
  if (/^\d+(-\d+)?$/.test(text)) return { kind: "sequence", sequence: text };
  const ago = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (ago !== null) {
    const unitMs = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[ago[2] as "ms" | "s" | "m" | "h" | "d"];
    return { kind: "time", timeMs: nowMs - Number(ago[1]) * unitMs };
  }
  const timeMs = /\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isFinite(timeMs)) return { kind: "time", timeMs };
  throw new CliUsageError(`bad --from "${text}": expected beginning, a sequence (42), a time (2026-12-01T10:00:00Z) or a duration ago (15m)`);
}

/** How a start position reads in the tail's opening note. */
function describeFrom(from: StartPosition): string {
  switch (from.kind) {
    case "new":
      return "new messages";
    case "beginning":
      return "the beginning";
    case "sequence":
      return `sequence ${from.sequence}`;
    case "time":
      return new Date(from.timeMs).toISOString();
  }
}

/**
 * Prints `request.topic`'s messages as JSON lines (see `deliveryView`) until
 * `request.count` were printed or `request.signal` aborts, then resolves with
 * how many were printed. Each printed message is acked; with a group, a
 * re-driven message meant for another group is acked unprinted (as that
 * group's subscriptions do). A temporary group is deleted on the way out.
 *
 * @throws FerryError UNIMPLEMENTED (exit 12) when the broker cannot start
 *   there (RabbitMQ replay) or has no wildcards; UNAVAILABLE (exit 14) when
 *   the broker fails while tailing.
 */
export async function tailTopic(connection: BrokerConnection, request: TailRequest, out: TailOutput): Promise<number> {
  const { adapter } = connection;
  if (request.topic.split(".").some((t) => t === "*" || t === ">") && !adapter.capabilities.wildcards) {
    throw new FerryError(Code.UNIMPLEMENTED, `the ${connection.kind} broker has no wildcard topics ("${request.topic}")`);
  }
  const group = request.group ?? `ferry-tail-${randomBytes(4).toString("hex")}`;
  const printer = new TailPrinter(request, out);
  const prefetch = Math.max(1, Math.min(TAIL_PREFETCH, request.count ?? TAIL_PREFETCH));
  const spec = { topic: request.topic, group, startAt: request.from, prefetch, ackTimeoutMs: TAIL_ACK_TIMEOUT_MS, maxDeliveries: Number.MAX_SAFE_INTEGER };
  let consumer: AdapterConsumer;
  try {
    consumer = await adapter.consume(spec, { deliver: (d) => printer.deliver(d), error: (err) => printer.fail(err) });
  } catch (err) {
    if (request.group === undefined) await deleteTemporaryGroup(connection, request.topic, group, out);
    throw err;
  }
  out.note(openingNote(connection, request, group));
  try {
    await printer.finished;
  } finally {
    await consumer.stop();
    await printer.settleRest(releaseDelayMs(adapter));
    await consumer.close();
    if (request.group === undefined) await deleteTemporaryGroup(connection, request.topic, group, out);
  }
  return printer.printed;
}

/**
 * Prints and acks deliveries until `count` were printed or the signal
 * aborts; `finished` then resolves (or rejects with a consumer failure).
 */
class TailPrinter {
  printed = 0;
  readonly finished: Promise<void>;
  readonly #request: TailRequest;
  readonly #out: TailOutput;
  readonly #limit: number;
  readonly #acks: Promise<void>[] = [];
  readonly #unprinted: RawDelivery[] = [];
  #settle: (err?: unknown) => void = () => {};

  constructor(request: TailRequest, out: TailOutput) {
    this.#request = request;
    this.#out = out;
    this.#limit = request.count ?? Number.POSITIVE_INFINITY;
    this.finished = new Promise<void>((resolve, reject) => (this.#settle = (err) => (err === undefined ? resolve() : reject(err))));
    const onAbort = (): void => this.#settle();
    if (request.signal.aborted) onAbort();
    request.signal.addEventListener("abort", onAbort, { once: true });
    void this.finished.finally(() => request.signal.removeEventListener("abort", onAbort)).catch(() => {});
  }

  deliver(d: RawDelivery): void {
    const { group, registry, signal } = this.#request;
    if (this.printed >= this.#limit || signal.aborted) return void this.#unprinted.push(d);
    const redriveGroup = d.headers[FerryHeader.redriveGroup];
    if (group !== undefined && redriveGroup !== undefined && redriveGroup !== group) return void this.#acks.push(d.ack().catch(() => {}));
    const type = decodingTypeFor(registry, this.#request.type, d.headers[FerryHeader.type]);
    this.#out.line(JSON.stringify(deliveryView(d, describePayload(d.payload, type, registry))));
    this.printed++;
    this.#acks.push(d.ack().catch((err: unknown) => this.#out.note(`ferry: ack of ${d.sequence || "a message"} failed: ${(err as Error).message}`)));
    if (this.printed >= this.#limit) this.#settle();
  }

  /** A consumer failure the adapter could not recover from ends the tail with it. */
  fail(err: unknown): void {
    this.#settle(FerryError.from(err));
  }

  /** Waits for the acks, and gives what arrived after the last printed message back to the group unseen. */
  async settleRest(nackDelayMs: number): Promise<void> {
    await Promise.allSettled([...this.#acks, ...this.#unprinted.map((d) => d.nack(nackDelayMs))]);
  }
}

function openingNote(connection: BrokerConnection, request: TailRequest, group: string): string {
  const who = request.group === undefined ? `temporary group ${group}, deleted on exit` : `consumer group ${group}, acking what it prints`;
  let note = `ferry: tailing ${request.topic} on ${connection.kind} (${who}) from ${describeFrom(request.from)}; Ctrl-C to stop`;
  if (request.from.kind === "beginning" && !connection.adapter.capabilities.replayFromBeginning) {
    note += `\nferry: note: the ${connection.kind} broker cannot replay: a new group sees only messages published after it was created`;
  }
  return note;
}

async function deleteTemporaryGroup(connection: BrokerConnection, topic: string, group: string, out: TailOutput): Promise<void> {
  try {
    await connection.adapter.deleteGroup?.(topic, group);
  } catch (err) {
    out.note(`ferry: could not delete the temporary group ${group}: ${(err as Error).message}`);
  }
}
