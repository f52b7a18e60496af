/* global document */
// Messaging: per topic and consumer group, publishes, deliveries, failed
// attempts, redeliveries, nacks and dead letters over the window, and the
// most recent dead letters with their reason and trace.
import { api, el, fmtMs, fmtRate, fmtTime, setRows, td } from "./util.js";

export function createMessagingView() {
  function flowRows(topics) {
    return topics.flatMap((t) => {
      const groups = t.groups.length > 0 ? t.groups : [undefined];
      return groups.map((g) => el("tr", { "data-topic": t.topic, "data-group": g?.group ?? "" },
        td(t.topic), td(t.systems.join(", ")), td(`${t.published} (${fmtRate(t.publishRatePerSec)})`, true),
        td(g?.group ?? "—"), td(g?.services.join(", ") ?? ""), td(g === undefined ? "" : `${g.deliveries} (${fmtRate(g.ratePerSec)})`, true),
        td(count(g?.failed), true), td(count(g?.redelivered), true), td(count(g?.nacked), true), td(count(g?.deadLettered), true), td(g === undefined ? "" : fmtMs(g.p99Ms), true)));
    });
  }

  function deadLetterRows(letters) {
    return letters.map((d) => el("tr", {},
      td(fmtTime(d.atMs)), td(d.topic), td(d.group), td(d.service), td(d.messageId ?? "—"), td(d.attempt === undefined ? "—" : String(d.attempt), true),
      td(d.reason || "—"), td(d.deadLetterTopic ?? "—"), td(el("a", { href: `#traces/${d.traceId}` }, "trace →"))));
  }

  return {
    show() {},
    hide() {},
    async refresh() {
      const { topics, deadLetters } = await api("/api/messaging");
      setRows(document.querySelector("#flow-table tbody"), flowRows(topics));
      setRows(document.querySelector("#dead-letter-table tbody"), deadLetterRows(deadLetters));
      document.getElementById("messaging-empty").hidden = topics.length > 0;
    },
  };
}

function count(n) {
  if (n === undefined) return "";
  return el("span", { class: n > 0 ? "code err" : "muted" }, String(n));
}
