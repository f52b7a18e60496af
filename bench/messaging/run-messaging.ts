import { UsageError } from "../lib/options.js";
import { outcomeOf, runE2eCase, runPublishCase, type CaseOutcome, type CaseSettings, type E2eFigures, type PublishFigures } from "./cases.js";
import type { MessagingContender } from "./contender.js";
import { unreachableReason } from "./broker-cleanup.js";
import { ADAPTERS, NO_RAW_MEMORY } from "./contenders.js";
import { formatE2eTable, formatPublishTable, formatSummaryTable, type MessagingRow, type SummaryLine } from "./format-messaging.js";
import { MESSAGING_USAGE, parseMessagingOptions, type MessagingOptions } from "./options.js";
import { formatMessagingResults, messagingConditions, MESSAGING_LATEST_PATH, writeMessagingDocs, writeMessagingLatest } from "./report-messaging.js";
import { DOCS_PATH } from "../lib/report.js";

function progress<T>(label: string, outcome: CaseOutcome<T>, show: (f: T) => string): void {
  process.stderr.write(`bench: ${label} … ${outcome.status === "ok" ? show(outcome.figures) : `${outcome.status}: ${outcome.reason}`}\n`);
}

async function runAdapter(adapter: string, contenders: readonly MessagingContender[], options: MessagingOptions, settings: CaseSettings): Promise<SummaryLine> {
  const line: SummaryLine = { adapter, publish: [], e2e: [] };
  const unreachable = await unreachableReason(adapter);
  for (const c of contenders) {
    const skipped = unreachable === undefined ? undefined : ({ status: "skipped", reason: unreachable } as const);
    if (options.cases.includes("publish")) {
      const outcome: CaseOutcome<PublishFigures> = skipped ?? (await outcomeOf(() => runPublishCase(c, settings)));
      progress(`publish/${adapter} × ${c.name}`, outcome, (f) => `${f.rate.toFixed(0)} msgs/s`);
      line.publish.push({ contender: c.name, reference: c.reference, outcome });
    }
    if (options.cases.includes("e2e")) {
      const outcome: CaseOutcome<E2eFigures> = skipped ?? (await outcomeOf(() => runE2eCase(c, settings)));
      progress(`e2e/${adapter} × ${c.name}`, outcome, (f) => `p50 ${f.p50Us.toFixed(0)} µs, sustained ${f.sustainedRate.toFixed(0)} msgs/s`);
      line.e2e.push({ contender: c.name, reference: c.reference, outcome });
    }
  }
  return line;
}

function tablesOf(lines: readonly SummaryLine[]): { title: string; table: string }[] {
  const tables = [{ title: "Summary: Ferry ÷ raw client library", table: formatSummaryTable(lines, NO_RAW_MEMORY) }];
  for (const l of lines) {
    if (l.publish.length > 0) tables.push({ title: `publish/${l.adapter}: confirmed publishes, in flight`, table: formatPublishTable(l.publish, NO_RAW_MEMORY) });
  }
  for (const l of lines) {
    if (l.e2e.length > 0) tables.push({ title: `e2e/${l.adapter}: publish-to-handler latency and sustained throughput, one group`, table: formatE2eTable(l.e2e, NO_RAW_MEMORY) });
  }
  return tables;
}

const failed = (rows: readonly MessagingRow<unknown>[]): boolean => rows.some((r) => r.outcome.status === "error");

/**
 * The messaging suite (`npm run bench -- --suite=messaging`): per adapter,
 * `publish/<adapter>` and `e2e/<adapter>` for Ferry and the raw client
 * library, one table per case plus a summary of ratios; writes
 * bench/results/messaging-latest.md (and docs/benchmarks.md's messaging
 * section with --write-docs). Resolves to the exit code: 0, 1 when a
 * contender failed (skipped ones do not count), 2 on a bad option.
 */
export async function runMessaging(argv: readonly string[]): Promise<number> {
  let options: MessagingOptions;
  try {
    options = parseMessagingOptions(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    if (err.message !== "") process.stderr.write(`bench: ${err.message}\n`);
    process.stderr.write(`${MESSAGING_USAGE}\n`);
    return err.message === "" ? 0 : 2;
  }
  process.env.FERRY_LOG_LEVEL ??= "silent";
  const settings: CaseSettings = options;
  const conditions = messagingConditions(options);
  const lines: SummaryLine[] = [];
  for (const adapter of ADAPTERS) {
    const contenders = options.contenders.filter((c) => c.adapter === adapter);
    if (contenders.length > 0) lines.push(await runAdapter(adapter, contenders, options, settings));
  }
  const results = formatMessagingResults(conditions, tablesOf(lines), options.note);
  process.stdout.write(`\n${results}\n`);
  writeMessagingLatest(results);
  process.stderr.write(`bench: wrote ${MESSAGING_LATEST_PATH}\n`);
  if (options.writeDocs) {
    writeMessagingDocs(results);
    process.stderr.write(`bench: wrote ${DOCS_PATH} (messaging section)\n`);
  }
  return lines.some((l) => failed(l.publish) || failed(l.e2e)) ? 1 : 0;
}
