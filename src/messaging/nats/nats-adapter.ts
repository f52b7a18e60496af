import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection, MsgHdrs } from "@nats-io/transport-node";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import type { Logger } from "../../util/logger.js";
import type {
  AdapterCapabilities,
  AdapterConsumer,
  AdapterFactory,
  BrokerAdapter,
  ConsumerSpec,
  DeliverySink,
  OutgoingRecord,
  PublishReceipt,
  TopicListing,
} from "../adapter.js";
import { importPeer } from "../adapter-registry.js";
import { intQueryParam } from "../../util/cluster-members.js";
import { connectNats } from "./nats-connection.js";
import { NatsConsumer } from "./nats-consumer.js";
import { natsError } from "./nats-errors.js";
import { natsHeaderBytes, toNatsHeaders } from "./nats-headers.js";
import { listNatsTopics } from "./nats-listing.js";
import { chunksHeader, NatsLargePayloads } from "./nats-large-payloads.js";
import { defaultStreamSettings, natsDurableName, natsStreamName, NatsTopology, type NatsEnums, type NatsStreamDefaults } from "./nats-topology.js";


/** Options of the `nats://` broker (`BrokerOptions.adapterOptions`). */
export interface NatsAdapterOptions {
  /** Settings of the streams Ferry creates (one per topic root); see {@link NatsStreamDefaults}. `replicas` may also come from the URL (`?replicas=3`). */
  stream?: Partial<NatsStreamDefaults>;
  /** How long a publish waits for JetStream's PubAck, in ms. Defaults to 5000. */
  publishTimeoutMs?: number;
  /** How long one pull request waits for messages, in ms. Defaults to 5000. */
  fetchExpiresMs?: number;
  /** Connection name shown by the server (`connz`). Defaults to `"ferry"`. */
  connectionName?: string;
  /**
   * Largest payload plus headers `publish` accepts, in bytes. Defaults to
   * 64 MiB. Messages above the server's `max_payload` are stored in chunks
   * (see nats-large-payloads.ts).
   */
  maxMessageBytes?: number;
}

/** What the adapter needs from the dynamically imported client libraries. */
interface NatsLibs {
  headers: () => MsgHdrs;
}

/**
 * The `nats://host:4222` broker: NATS JetStream. A topic is a subject; one
 * stream per topic root (`FERRY_<root>`, see nats-topology.ts) stores it; a
 * consumer group is a durable pull consumer filtered on the topic (pattern);
 * a message id is `Nats-Msg-Id` (de-duplicated within the stream's duplicate
 * window); nack with delay is JetStream's `NAK` with a delay; `ack_wait` is
 * the ack timeout and `+WPI` extends it. Replay: deliver policies all,
 * by_start_sequence and by_start_time.
 */
export class NatsAdapter implements BrokerAdapter {
  readonly name = "nats";
  readonly capabilities: AdapterCapabilities;
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #topology: NatsTopology;
  readonly #libs: NatsLibs;
  readonly #options: { publishTimeoutMs: number; fetchExpiresMs: number };
  readonly #maxPayload: number;
  readonly #large: NatsLargePayloads;
  readonly #logger: Logger;
  readonly #consumers = new Set<NatsConsumer>();

  constructor(init: { nc: NatsConnection; js: JetStreamClient; jsm: JetStreamManager; libs: NatsLibs; options: NatsAdapterOptions; logger: Logger; streamSettings: NatsStreamDefaults; acks: NatsEnums }) {
    this.#nc = init.nc;
    this.#js = init.js;
    this.#jsm = init.jsm;
    this.#libs = init.libs;
    this.#logger = init.logger;
    this.#topology = new NatsTopology(init.jsm, init.streamSettings, init.acks);
    this.#options = { publishTimeoutMs: init.options.publishTimeoutMs ?? 5000, fetchExpiresMs: init.options.fetchExpiresMs ?? 5000 };
    this.#maxPayload = init.nc.info?.max_payload ?? 1024 * 1024;
    this.#large = new NatsLargePayloads({ js: init.js, jsm: init.jsm, settings: init.streamSettings, chunkBytes: this.#maxPayload - 8 * 1024 });
    this.capabilities = Object.freeze({
      deduplication: true,
      wildcards: true,
      delayedNack: true,
      replayBySequence: true,
      replayByTime: true,
      replayFromBeginning: true,
      durable: true,
      maxMessageBytes: init.options.maxMessageBytes ?? 64 * 1024 * 1024,
    });
  }

  async publish(record: OutgoingRecord): Promise<PublishReceipt> {
    const size = record.payload.byteLength + natsHeaderBytes(record.headers, record.dedupId) + record.topic.length;
    if (size > this.capabilities.maxMessageBytes) {
      throw new FerryError(
        Code.RESOURCE_EXHAUSTED,
        `message of ${size} bytes (payload, headers and subject) exceeds the NATS adapter's maxMessageBytes of ${this.capabilities.maxMessageBytes} bytes`,
      );
    }
    await this.#topology.ensureStream(record.topic);
    let payload = record.payload;
    let headerRecord = record.headers;
    if (size > this.#maxPayload - 1024) {
      const chunks = await this.#large.store(record.topic, record.payload, record.dedupId, this.#options.publishTimeoutMs);
      headerRecord = { ...record.headers, [chunksHeader]: chunks };
      payload = new Uint8Array(0);
    }
    const headers = toNatsHeaders(this.#libs.headers, headerRecord);
    try {
      const ack = await this.#js.publish(record.topic, payload, {
        msgID: record.dedupId,
        headers,
        timeout: this.#options.publishTimeoutMs,
      });
      return { sequence: String(ack.seq), duplicate: ack.duplicate };
    } catch (err) {
      if (/no responders|stream not found/i.test((err as Error)?.message ?? "")) this.#topology.forget(record.topic);
      throw natsError(err, `publish to ${record.topic} (stream ${natsStreamName(record.topic)})`);
    }
  }

  async consume(spec: ConsumerSpec, sink: DeliverySink): Promise<AdapterConsumer> {
    if (spec.topic.split(".")[0] === "*" || spec.topic.split(".")[0] === ">") {
      throw new FerryError(Code.INVALID_ARGUMENT, `NATS topic pattern "${spec.topic}" must start with a concrete token: each root is its own stream`);
    }
    if (spec.startAt.kind === "sequence" && !/^[1-9][0-9]*$/.test(spec.startAt.sequence)) {
      throw new FerryError(Code.INVALID_ARGUMENT, `startAt.sequence "${spec.startAt.sequence}" is not a JetStream stream sequence (a positive integer)`);
    }
    await this.#topology.ensureStream(spec.topic);
    const durable = await this.#topology.ensureConsumer(spec);
    let consumer;
    try {
      consumer = await this.#js.consumers.get(natsStreamName(spec.topic), durable);
    } catch (err) {
      throw natsError(err, `open consumer ${durable}`);
    }
    const c = new NatsConsumer(consumer, spec, sink, { fetchExpiresMs: this.#options.fetchExpiresMs, logger: this.#logger, largePayloads: this.#large });
    this.#consumers.add(c);
    c.start();
    return {
      stop: () => c.stop(),
      close: async () => {
        await c.close();
        this.#consumers.delete(c);
      },
      backlog: () => c.backlog(),
    };
  }

  /** Every subject stored in JetStream streams, with counts and groups; see {@link listNatsTopics}. */
  listTopics(): Promise<TopicListing[]> {
    return listNatsTopics(this.#jsm);
  }

  /** Deletes the durable consumer of `group` on `topic`; a missing stream or consumer is not an error. */
  async deleteGroup(topic: string, group: string): Promise<void> {
    try {
      await this.#jsm.consumers.delete(natsStreamName(topic), natsDurableName(topic, group));
    } catch (err) {
      if (!/not found/i.test((err as Error)?.message ?? "")) throw natsError(err, `delete consumer group ${group} of ${topic}`);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.#consumers].map((c) => c.close()));
    this.#consumers.clear();
    try {
      await this.#nc.drain();
    } catch {
      await this.#nc.close().catch(() => undefined);
    }
  }
}

/**
 * Stream settings from the defaults, the URL's `?replicas=N` (JetStream's
 * `num_replicas` of the streams Ferry creates, 1–5) and `adapterOptions.stream`
 * (which wins). An existing stream keeps its own replica count.
 *
 * @throws FerryError INVALID_ARGUMENT for replicas outside 1–5.
 */
export function natsStreamSettings(url: URL, stream: Partial<NatsStreamDefaults> | undefined): NatsStreamDefaults {
  const replicas = intQueryParam(url, "replicas", 1, 5, "NATS URL");
  const settings = { ...defaultStreamSettings, ...(replicas === undefined ? {} : { replicas }), ...stream };
  if (!Number.isInteger(settings.replicas) || settings.replicas < 1 || settings.replicas > 5) {
    throw new FerryError(Code.INVALID_ARGUMENT, `NATS adapter: stream.replicas ${settings.replicas} must be an integer from 1 to 5 (JetStream's limit)`);
  }
  return settings;
}

/**
 * Creates the adapter for a `nats://[user:pass@]host[:port][?servers=…&replicas=N]`
 * URL (see {@link connectNats} for the connection parameters); raises
 * UNAVAILABLE when no server answers.
 */
export const adapterFactory: AdapterFactory = async (url, options) => {
  const o = options.adapterOptions as NatsAdapterOptions;
  const streamSettings = natsStreamSettings(url, o.stream);
  const transport = await importPeer("@nats-io/transport-node", () => import("@nats-io/transport-node"));
  const jetstreamLib = await importPeer("@nats-io/jetstream", () => import("@nats-io/jetstream"));
  const nc = await connectNats(url, o.connectionName ?? "ferry");
  try {
    const jsm = await jetstreamLib.jetstreamManager(nc);
    return new NatsAdapter({
      nc,
      js: jetstreamLib.jetstream(nc),
      jsm,
      libs: { headers: () => transport.headers() },
      options: o,
      logger: options.logger,
      streamSettings,
      acks: { AckPolicy: jetstreamLib.AckPolicy, DeliverPolicy: jetstreamLib.DeliverPolicy },
    });
  } catch (err) {
    await nc.close().catch(() => undefined);
    throw new FerryError(Code.UNAVAILABLE, `JetStream is not available at ${url.host}: ${(err as Error).message}`, { cause: err });
  }
};
