import type { Topic } from "../messaging/topic.js";
import { OpenApiSchemas } from "./openapi-schema.js";

/** Options of {@link createAsyncApiDocument}. */
export interface AsyncApiOptions {
  /** `info.title`. Default `"Events"`. */
  title?: string;
  /** `info.version`, the API's version. Default `"1.0.0"`. */
  version?: string;
  /** `info.description`. */
  description?: string;
  /**
   * Brokers, by name, as URLs: `{ production: "nats://nats.internal:4222" }`.
   * The scheme becomes the AsyncAPI protocol (`nats`, `amqp`, `redis`). Default none.
   */
  servers?: Readonly<Record<string, string>>;
}

/** Headers Ferry's messaging puts on every message (docs/messaging.md, docs/observability.md). */
const headersSchema = {
  type: "object",
  properties: {
    "ferry-type": { type: "string", description: "the payload's protobuf type name" },
    traceparent: { type: "string", description: "W3C trace context of the publish" },
    tracestate: { type: "string" },
  },
  additionalProperties: { type: "string" },
};

/**
 * An AsyncAPI 3.0 document of `topics`: one channel per topic (its name as
 * the address; wildcard topics are skipped), its message with the payload
 * schema from the protobuf descriptor (the JSON mapping's shape; on the wire
 * the payload is protobuf binary, `contentType: application/protobuf`) and
 * the headers Ferry sets, and a `send` and a `receive` operation per
 * channel. Each topic's dead-letter topic is a channel too, carrying the
 * same message.
 */
export function createAsyncApiDocument(topics: readonly Topic[], options: AsyncApiOptions = {}): Record<string, unknown> {
  const schemas = new OpenApiSchemas();
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  const add = (address: string, topic: Topic, description: string | undefined) => {
    const id = channelId(address);
    const messageName = topic.schema.typeName;
    messages[messageName] ??= {
      name: topic.schema.name,
      title: messageName,
      contentType: "application/protobuf",
      headers: headersSchema,
      payload: schemas.message(topic.schema),
    };
    channels[id] = { address, ...(description === undefined ? {} : { description }), messages: { [topic.schema.name]: { $ref: `#/components/messages/${messageName}` } } };
    const ref = { $ref: `#/channels/${id}` };
    const message = { $ref: `#/channels/${id}/messages/${topic.schema.name}` };
    operations[`send_${id}`] = { action: "send", channel: ref, messages: [message], summary: `publish to ${address}` };
    operations[`receive_${id}`] = { action: "receive", channel: ref, messages: [message], summary: `subscribe to ${address}` };
  };
  for (const topic of topics) {
    if (topic.wildcard) continue;
    add(topic.name, topic, topic.description);
    add(topic.deadLetterTopic, topic, `dead letters of ${topic.name}: messages that exhausted their deliveries or could not be decoded`);
  }
  const doc: Record<string, unknown> = {
    asyncapi: "3.0.0",
    info: { title: options.title ?? "Events", version: options.version ?? "1.0.0", ...(options.description === undefined ? {} : { description: options.description }) },
  };
  if (options.servers !== undefined) doc.servers = Object.fromEntries(Object.entries(options.servers).map(([name, url]) => [name, server(url)]));
  doc.channels = channels;
  doc.operations = operations;
  doc.components = { messages, schemas: schemas.schemas };
  return doc;
}

/** A channel id from an address: AsyncAPI keys allow letters, digits, `.`, `-` and `_`. */
function channelId(address: string): string {
  return address.replace(/[^A-Za-z0-9_-]/g, "_");
}

function server(url: string): Record<string, unknown> {
  const u = new URL(url);
  return { host: u.host, protocol: u.protocol.replace(/:$/, "") };
}
