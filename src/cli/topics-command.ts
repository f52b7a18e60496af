import { Command, InvalidArgumentError } from "commander";
import type { TopicListing } from "../messaging/adapter.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { parseBrokerUrl, withBroker, type BrokerConnection } from "./broker-connection.js";
import { encodePayload, loadMessageTypes, messageTypeOf, readPayloadData } from "./broker-payload.js";
import { CliUsageError } from "./cli-error.js";
import { collect } from "./header-flags.js";
import type { CliIo, CommandInstaller } from "./program.js";
import { renderTable } from "./table-output.js";
import { checkIdFlag, checkTopicArgument, parseHeaderFlags, publishRaw } from "./topic-publish.js";
import { parseFrom, tailTopic } from "./topic-tail.js";

/** Why a broker without `listTopics` cannot list, by adapter name (the message of the UNIMPLEMENTED error). */
const CANNOT_LIST: Readonly<Record<string, string>> = {
  amqp: "RabbitMQ cannot list topics over AMQP 0-9-1: the protocol has no command to enumerate exchanges, queues or bindings (routing keys are only seen in flight); use `rabbitmqctl list_bindings` or the management plugin's HTTP API",
  memory: "the memory: broker lives inside one process: the ferry command's own is always empty",
};

/** Parses a positive integer option (`-n`, `--limit`); commander reports a bad value with exit status 2. */
export function positiveIntOption(value: string): number {
  if (!/^[1-9][0-9]*$/.test(value) || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError("expected a positive integer");
  return Number(value);
}

/**
 * Checks a consumer group name (`--group`): 1–100 letters, digits, `_`, `-`.
 *
 * @throws CliUsageError (exit 2) otherwise.
 */
export function checkGroupFlag(group: string): string {
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(group)) throw new CliUsageError(`bad --group "${group}": use 1–100 letters, digits, "_" and "-"`);
  return group;
}

/** Adds `--proto`, `--import-path` and `--type` (payload decoding and encoding) to `command`. */
export function addMessageTypeOptions(command: Command): Command {
  return command
    .option("--proto <file>", "a .proto file defining the payload types, compiled with buf (repeatable)", collect, [])
    .option("--import-path <dir>", "directory the --proto files and their imports are found under (repeatable)", collect, [])
    .option("--type <name>", "the payload's message type, e.g. shop.v1.OrderPlaced (else the ferry-type header picks one from --proto)");
}

async function listAction(url: string, opts: { json?: boolean }, io: CliIo): Promise<void> {
  const topics = await withBroker(parseBrokerUrl(url), async (c: BrokerConnection) => {
    if (c.adapter.listTopics === undefined) {
      throw new FerryError(Code.UNIMPLEMENTED, CANNOT_LIST[c.kind] ?? `the ${c.kind} broker cannot list its topics`);
    }
    return c.adapter.listTopics();
  });
  if (opts.json === true) {
    for (const t of topics) io.stdout.write(`${JSON.stringify(t)}\n`);
    return;
  }
  const rows = topics.map((t: TopicListing) => [t.topic, t.messages === undefined ? "?" : String(t.messages), t.groups.join(", ") || "-"]);
  io.stdout.write(renderTable(["TOPIC", "MESSAGES", "GROUPS"], rows, io.stdout.isTTY === true));
}

/** The values of {@link addMessageTypeOptions}'s flags. */
export interface MessageTypeFlags {
  proto: string[];
  importPath: string[];
  type?: string;
}

interface PublishFlags extends MessageTypeFlags {
  data: string;
  header: string[];
  key?: string;
  id?: string;
}

async function publishAction(url: string, topic: string, opts: PublishFlags, io: CliIo): Promise<void> {
  const brokerUrl = parseBrokerUrl(url);
  checkTopicArgument(topic, false);
  const headers = parseHeaderFlags(opts.header);
  const orderingKey = checkIdFlag("--key", opts.key);
  const messageId = checkIdFlag("--id", opts.id);
  const registry = await loadMessageTypes({ proto: opts.proto, importPath: opts.importPath });
  const type = messageTypeOf(registry, opts.type);
  const payload = encodePayload(await readPayloadData(opts.data, io.stdin), type, registry);
  const result = await withBroker(brokerUrl, (c) =>
    publishRaw(c.adapter, { topic, payload, typeName: type?.typeName, headers, orderingKey, messageId }),
  );
  io.stdout.write(`${JSON.stringify(result)}\n`);
}

interface TailFlags extends MessageTypeFlags {
  group?: string;
  from?: string;
  count?: number;
}

async function tailAction(url: string, topic: string, opts: TailFlags, io: CliIo): Promise<void> {
  const brokerUrl = parseBrokerUrl(url);
  checkTopicArgument(topic, true);
  const group = opts.group === undefined ? undefined : checkGroupFlag(opts.group);
  const from = parseFrom(opts.from);
  const registry = await loadMessageTypes({ proto: opts.proto, importPath: opts.importPath });
  const type = messageTypeOf(registry, opts.type);
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    await withBroker(brokerUrl, (c) =>
      tailTopic(c, { topic, group, from, count: opts.count, registry, type, signal: abort.signal }, {
        line: (text) => io.stdout.write(`${text}\n`),
        note: (text) => io.stderr.write(`${text}\n`),
      }),
    );
  } finally {
    process.removeListener("SIGINT", stop);
    process.removeListener("SIGTERM", stop);
  }
}

/** Installs `ferry topics list|publish|tail`. */
export const installTopicsCommand: CommandInstaller = (program, io) => {
  const topics = program.command("topics").description("list, publish to and tail the topics of a Ferry broker (NATS JetStream, RabbitMQ, Redis Streams)");
  topics
    .command("list")
    .description("list the topics the broker holds, with message counts and consumer groups")
    .argument("<broker-url>", "nats://host:4222, amqp://user:pass@host:5672, redis://host:6379")
    .option("--json", "one JSON object per topic instead of a table")
    .addHelpText("after", "\nExamples:\n  ferry topics list nats://127.0.0.1:4222\n  ferry topics list 'redis://127.0.0.1:6379?keyPrefix=shop:' --json\n\nRabbitMQ cannot list over AMQP (exit status 12, UNIMPLEMENTED).")
    .action((url: string, opts: { json?: boolean }) => listAction(url, opts, io));
  addMessageTypeOptions(
    topics
      .command("publish")
      .description("publish one message; prints its message id and sequence once the broker stored it")
      .argument("<broker-url>", "nats://host:4222, amqp://user:pass@host:5672, redis://host:6379")
      .argument("<topic>", "the topic, e.g. shop.order.placed")
      .requiredOption("-d, --data <json|@file|->", "the payload: inline text, @file, or - for stdin (protobuf JSON with --type, else sent verbatim)")
      .option("-H, --header <'key: value'>", "a message header (repeatable)", collect, [])
      .option("--key <ordering-key>", "ordering key: messages with one key are handled in order")
      .option("--id <message-id>", "message id (default: a random UUID); NATS de-duplicates by it"),
  )
    .addHelpText("after", "\nExamples:\n  ferry topics publish nats://127.0.0.1:4222 shop.order.placed -d '{\"orderId\":\"o-1\"}'\n  ferry topics publish redis://127.0.0.1:6379 shop.order.placed --proto shop.proto --type shop.v1.OrderPlaced -d @order.json -H 'region: eu' --key customer-7\n  echo '{\"n\":1}' | ferry topics publish amqp://guest:guest@127.0.0.1:5672 jobs.run -d -")
    .action((url: string, topic: string, opts: PublishFlags) => publishAction(url, topic, opts, io));
  addMessageTypeOptions(
    topics
      .command("tail")
      .description("print the topic's messages as JSON lines (headers, delivery attempt, sequence, message id, payload) until Ctrl-C")
      .argument("<broker-url>", "nats://host:4222, amqp://user:pass@host:5672, redis://host:6379")
      .argument("<topic>", "the topic, or a pattern where the broker has wildcards (shop.*, shop.>)")
      .option("--group <group>", "join this consumer group (acking what is printed) instead of a temporary group")
      .option("--from <position>", "where a new group starts: beginning, a sequence, an ISO time or a duration ago (15m)")
      .option("-n, --count <count>", "exit after printing this many messages", positiveIntOption),
  )
    .addHelpText("after", "\nExamples:\n  ferry topics tail nats://127.0.0.1:4222 shop.order.placed\n  ferry topics tail nats://127.0.0.1:4222 'shop.>' --from beginning -n 10\n  ferry topics tail redis://127.0.0.1:6379 shop.order.placed --from 15m --proto shop.proto\n  ferry topics tail amqp://guest:guest@127.0.0.1:5672 shop.order.placed --group audit")
    .action((url: string, topic: string, opts: TailFlags) => tailAction(url, topic, opts, io));
};
