import type { Command } from "commander";
import type { FileRegistry } from "@bufbuild/protobuf";
import { FerryHeader } from "../messaging/headers.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { parseBrokerUrl, withBroker } from "./broker-connection.js";
import { decodingTypeFor, describePayload, loadMessageTypes, messageTypeOf } from "./broker-payload.js";
import { CliUsageError } from "./cli-error.js";
import { DeadLetterScan, type DeadLetter } from "./dead-letters.js";
import type { CliIo, CommandInstaller } from "./program.js";
import { renderTable } from "./table-output.js";
import { checkTopicArgument } from "./topic-publish.js";
import { addMessageTypeOptions, checkGroupFlag, positiveIntOption, type MessageTypeFlags } from "./topics-command.js";

/** Most dead letters one `ferry dlq` run reads, unless `--limit` says otherwise. */
const DEFAULT_LIMIT = 1000;
/** Longest reason shown in the table, in characters (`--json` has it whole). */
const REASON_COLUMN_CHARS = 60;

interface DlqFlags {
  group: string;
  limit: number;
  deadLetterTopic?: string;
  json?: boolean;
}

type ListFlags = DlqFlags & MessageTypeFlags;

interface RedriveFlags extends DlqFlags {
  id?: string;
  all?: boolean;
}

/** The checked broker URL, topic, group and dead-letter topic of a `ferry dlq` command. */
function target(url: string, topic: string, opts: DlqFlags): { brokerUrl: string; deadLetterTopic: string } {
  const brokerUrl = parseBrokerUrl(url);
  checkTopicArgument(topic, false);
  checkGroupFlag(opts.group);
  const deadLetterTopic = checkTopicArgument(opts.deadLetterTopic ?? `dead-letter.${topic}`, false);
  return { brokerUrl, deadLetterTopic };
}

/** Runs `work` on a scan of the topic's dead letters, then returns the unmoved ones to the re-drive reader. */
async function withScan<T>(url: string, topic: string, opts: DlqFlags, io: CliIo, work: (scan: DeadLetterScan) => Promise<T>): Promise<T> {
  const { brokerUrl, deadLetterTopic } = target(url, topic, opts);
  return withBroker(brokerUrl, async (c) => {
    const scan = await DeadLetterScan.open(c.adapter, topic, deadLetterTopic, opts.limit);
    try {
      if (scan.full) io.stderr.write(`ferry: stopped after ${opts.limit} dead letters (--limit); more may wait in ${deadLetterTopic}\n`);
      return await work(scan);
    } finally {
      await scan.close();
    }
  });
}

function letterJson(letter: DeadLetter, registry: FileRegistry | undefined, fixed: ReturnType<typeof messageTypeOf>): Record<string, unknown> {
  const type = decodingTypeFor(registry, fixed, letter.delivery.headers[FerryHeader.type]);
  return {
    sequence: letter.delivery.sequence,
    messageId: letter.messageId,
    group: letter.group,
    topic: letter.sourceTopic,
    attempts: letter.attempts ?? null,
    code: letter.code,
    reason: letter.reason,
    deadLetteredAt: letter.deadLetteredAtMs === undefined ? null : new Date(letter.deadLetteredAtMs).toISOString(),
    headers: letter.delivery.headers,
    ...describePayload(letter.delivery.payload, type, registry),
  };
}

function letterRow(letter: DeadLetter): string[] {
  const reason = letter.reason.length > REASON_COLUMN_CHARS ? `${letter.reason.slice(0, REASON_COLUMN_CHARS - 1)}…` : letter.reason;
  const at = letter.deadLetteredAtMs === undefined ? "-" : new Date(letter.deadLetteredAtMs).toISOString();
  return [letter.delivery.sequence || "-", letter.messageId, String(letter.attempts ?? "?"), letter.code, reason, at];
}

async function listAction(url: string, topic: string, opts: ListFlags, io: CliIo): Promise<void> {
  target(url, topic, opts); // usage errors before compiling --proto
  const registry = await loadMessageTypes({ proto: opts.proto, importPath: opts.importPath });
  const type = messageTypeOf(registry, opts.type);
  await withScan(url, topic, opts, io, async (scan) => {
    const mine = scan.letters.filter((l) => l.group === opts.group);
    if (opts.json === true) {
      for (const letter of mine) io.stdout.write(`${JSON.stringify(letterJson(letter, registry, type))}\n`);
    } else {
      io.stdout.write(renderTable(["SEQUENCE", "MESSAGE ID", "ATTEMPTS", "CODE", "REASON", "DEAD-LETTERED AT"], mine.map(letterRow), io.stdout.isTTY === true));
    }
    const others = scan.letters.length - mine.length;
    io.stderr.write(`ferry: ${mine.length} dead letter(s) of group ${opts.group}${others > 0 ? `, ${others} of other groups` : ""}\n`);
  });
}

async function redriveAction(url: string, topic: string, opts: RedriveFlags, io: CliIo): Promise<void> {
  if ((opts.id === undefined) === (opts.all !== true)) throw new CliUsageError("dlq redrive needs exactly one of --id ID or --all");
  await withScan(url, topic, opts, io, async (scan) => {
    const mine = scan.letters.filter((l) => l.group === opts.group);
    const chosen = opts.id === undefined ? mine : mine.filter((l) => l.messageId === opts.id || (l.delivery.sequence !== "" && l.delivery.sequence === opts.id));
    if (opts.id !== undefined && chosen.length === 0) {
      throw new FerryError(Code.NOT_FOUND, `no dead letter with message id or sequence "${opts.id}" of group ${opts.group} on ${topic}`);
    }
    for (const letter of chosen) await scan.redriveLetter(letter);
    const result = { moved: chosen.length, messageIds: chosen.map((l) => l.messageId), left: mine.length - chosen.length };
    if (opts.json === true) io.stdout.write(`${JSON.stringify(result)}\n`);
    else io.stdout.write(`re-drove ${result.moved} dead letter(s) of group ${opts.group} to ${topic}${result.moved > 0 ? `: ${result.messageIds.join(", ")}` : ""}; ${result.left} left\n`);
  });
}

/** Adds the options every `ferry dlq` subcommand has. */
function addDlqOptions(command: Command): Command {
  return command
    .argument("<broker-url>", "nats://host:4222, amqp://user:pass@host:5672, redis://host:6379")
    .argument("<topic>", "the topic whose dead letters to read, e.g. shop.order.placed")
    .requiredOption("--group <group>", "the consumer group that gave up on the messages")
    .option("--limit <count>", `read at most this many dead letters (default ${DEFAULT_LIMIT})`, positiveIntOption, DEFAULT_LIMIT)
    .option("--dead-letter-topic <name>", "the topic's dead-letter topic, if not dead-letter.<topic>")
    .option("--json", "machine-readable output (JSON lines)");
}

/** Installs `ferry dlq list|redrive`. */
export const installDlqCommand: CommandInstaller = (program, io) => {
  const dlq = program
    .command("dlq")
    .description("inspect and re-drive the dead letters of a topic (messages a consumer group gave up on)")
    .addHelpText("after", "\nBoth subcommands read the dead-letter topic through the re-drive reader (consumer group ferry-redrive,\nas broker.redrive(topic) does); letters they do not move stay there unchanged.");
  addMessageTypeOptions(addDlqOptions(dlq.command("list").description("list the dead letters of a consumer group: message id, attempts, failure code and reason")))
    .addHelpText("after", "\nExamples:\n  ferry dlq list nats://127.0.0.1:4222 shop.order.placed --group billing\n  ferry dlq list redis://127.0.0.1:6379 shop.order.placed --group billing --json --proto shop.proto")
    .action((url: string, topic: string, opts: ListFlags) => listAction(url, topic, opts, io));
  addDlqOptions(dlq.command("redrive").description("publish dead letters back to their topic, for the group that gave up on them to handle again"))
    .option("--id <message-id>", "re-drive the letter with this message id (or dead-letter sequence)")
    .option("--all", "re-drive every dead letter of the group")
    .addHelpText("after", "\nExamples:\n  ferry dlq redrive nats://127.0.0.1:4222 shop.order.placed --group billing --all\n  ferry dlq redrive amqp://guest:guest@127.0.0.1:5672 shop.order.placed --group billing --id 6f1c0d2e-…\n\nExit status 5 (NOT_FOUND) when --id matches no dead letter of the group.")
    .action((url: string, topic: string, opts: RedriveFlags) => redriveAction(url, topic, opts, io));
};
