/**
 * The API explorer's back end: every method of every service a target
 * serves, found by gRPC server reflection (the same client as `ferry list`),
 * each with a JSON request template generated from its input descriptor;
 * and a call of any of them from JSON, answered with the status code, the
 * responses as JSON, response headers and trailers, the duration and — when
 * an OpenTelemetry SDK is registered in this process — the trace it made.
 *
 * Client-streaming and bidi methods take a JSON array of requests. At most
 * 100 responses are kept (the call is then cancelled, `truncated: true`).
 */
import { create, fromJson, toJson, type DescMethod, type FileRegistry, type JsonValue, type Message } from "@bufbuild/protobuf";
import { context, trace } from "@opentelemetry/api";
import { openSession, type CliSession } from "../cli/cli-session.js";
import { createMethodCaller } from "../cli/method-caller.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { Metadata } from "../rpc/metadata.js";
import { HttpError } from "./http-replies.js";
import { describeForm, type FormField } from "./request-form.js";

/** One method as the explorer lists it. */
export interface ExplorerMethod {
  readonly name: string;
  /** `unary`, `server_streaming`, `client_streaming` or `bidi_streaming`. */
  readonly kind: string;
  readonly input: string;
  readonly output: string;
  /** The input message with every field at its default (an array of one for streaming requests). */
  readonly requestTemplate: JsonValue;
  /** The input message's fields, for the per-field form (request-form.ts). */
  readonly requestFields: readonly FormField[];
}

/** One service and its methods. */
export interface ExplorerService {
  readonly name: string;
  readonly methods: readonly ExplorerMethod[];
}

/** What one call did. */
export interface ExplorerCallResult {
  /** `OK` or the status code's name. */
  readonly code: string;
  /** The error message, when not OK. */
  readonly message: string | undefined;
  readonly responses: JsonValue[];
  /** More than 100 responses came: the rest were not read. */
  readonly truncated: boolean;
  readonly headers: Readonly<Record<string, string>>;
  readonly trailers: Readonly<Record<string, string>>;
  readonly durationMs: number;
  /** The trace of the call, when this process has a recording tracer (open it in the Traces view). */
  readonly traceId: string | undefined;
}

const MAX_RESPONSES = 100;
const STREAMING = new Set(["client_streaming", "bidi_streaming"]);

/** A connection to one target for the explorer. */
export class ApiExplorer {
  readonly target: string;
  readonly #session: CliSession;
  readonly #timeoutMs: number;

  private constructor(target: string, session: CliSession, timeoutMs: number) {
    this.target = target;
    this.#session = session;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Opens `target` (`host:port` for gRPC over h2c, or a Ferry URL such as
   * `grpc://`, `grpcs://`, `native://`); nothing is sent before the first use.
   *
   * @param timeoutMs deadline of every reflection request and call, in ms. Default 10 000.
   */
  static async open(target: string, timeoutMs = 10_000): Promise<ApiExplorer> {
    return new ApiExplorer(target, await openSession(target, {}, timeoutMs), timeoutMs);
  }

  /** Every service of the target (but reflection itself) with its methods. Throws the reflection failure as a FerryError. */
  async services(): Promise<ExplorerService[]> {
    const names = (await this.#session.source.listServices()).filter((n) => !n.startsWith("grpc.reflection."));
    const out: ExplorerService[] = [];
    for (const name of names) {
      const registry = await this.#session.source.registryFor(name);
      const service = registry.getService(name);
      if (service === undefined) continue;
      out.push({ name, methods: service.methods.map((m) => describeMethod(m, registry)) });
    }
    return out;
  }

  /**
   * Calls `service/method` with `request` (JSON) and `metadata`.
   *
   * @throws HttpError 404 for an unknown service or method, 400 for a
   *   request that does not fit the input type. A failed call is a result
   *   (its code and message), not an error.
   */
  async call(service: string, method: string, request: unknown, metadata: Readonly<Record<string, string>> = {}): Promise<ExplorerCallResult> {
    const registry = await this.#session.source.registryFor(service).catch(() => undefined);
    const desc = registry?.getService(service)?.methods.find((m) => m.name === method);
    if (registry === undefined || desc === undefined) throw new HttpError(404, `${service}/${method} is not served by ${this.target}`);
    const requests = parseRequests(desc, request, registry);
    const span = trace.getTracer("ferry-dashboard").startSpan(`explorer ${service}/${method}`);
    const started = performance.now();
    const result = await context.with(trace.setSpan(context.active(), span), () => this.#run(desc, requests, metadata, registry));
    span.end();
    const traceId = span.isRecording() || span.spanContext().traceFlags !== 0 ? span.spanContext().traceId : undefined;
    return { ...result, durationMs: performance.now() - started, traceId };
  }

  /** Closes the connection. */
  close(): Promise<void> {
    return this.#session.close();
  }

  async #run(desc: DescMethod, requests: Message[], metadata: Readonly<Record<string, string>>, registry: FileRegistry): Promise<Omit<ExplorerCallResult, "durationMs" | "traceId">> {
    let headers: Record<string, string> = {};
    let trailers: Record<string, string> = {};
    const responses: JsonValue[] = [];
    let truncated = false;
    const options = { timeoutMs: this.#timeoutMs, metadata, onHeaders: (m: Metadata) => (headers = plain(m)), onTrailers: (m: Metadata) => (trailers = plain(m)) };
    try {
      for await (const response of createMethodCaller(desc, this.#session.transport)(iterate(requests), options)) {
        if (responses.length >= MAX_RESPONSES) {
          truncated = true;
          break;
        }
        responses.push(toJson(desc.output, response, { registry }));
      }
      return { code: "OK", message: undefined, responses, truncated, headers, trailers };
    } catch (err) {
      const e = FerryError.from(err);
      return { code: Code[e.code], message: e.rawMessage, responses, truncated, headers, trailers };
    }
  }
}

function describeMethod(m: DescMethod, registry: FileRegistry): ExplorerMethod {
  const template = toJson(m.input, create(m.input), { alwaysEmitImplicit: true, registry });
  return { name: m.name, kind: m.methodKind, input: m.input.typeName, output: m.output.typeName, requestTemplate: STREAMING.has(m.methodKind) ? [template] : template, requestFields: describeForm(m.input) };
}

function parseRequests(desc: DescMethod, request: unknown, registry: FileRegistry): Message[] {
  const list = STREAMING.has(desc.methodKind) ? request : [request];
  if (!Array.isArray(list)) throw new HttpError(400, `${desc.parent.typeName}/${desc.name} streams its requests: send a JSON array of ${desc.input.typeName}`);
  try {
    return list.map((r) => fromJson(desc.input, r as JsonValue, { registry }));
  } catch (err) {
    throw new HttpError(400, `the request is not a ${desc.input.typeName}: ${(err as Error).message}`);
  }
}

async function* iterate(requests: Message[]): AsyncIterable<Message> {
  yield* requests;
}

function plain(metadata: Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of metadata) out[key] = typeof value === "string" ? value : Buffer.from(value).toString("base64");
  return out;
}
