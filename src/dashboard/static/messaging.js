/* global document, window, fetch */
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
      td(fmtTime(d.atMs)), td(d.topic), td(d.group), td(d.service), el("td", { class: "wrap" }, d.messageId ?? "—"), td(d.attempt === undefined ? "—" : String(d.attempt), true),
      td(d.reason || "—"), td(d.deadLetterTopic ?? "—"), td(el("a", { href: `#traces/${d.traceId}` }, "trace →")),
      td(el("button", { type: "button", class: "redrive", onclick: () => redrive(d) }, "Re-drive group"))));
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

/** Asks for confirmation, then moves the group's dead letters back to the topic (POST /api/messaging/redrive). */
async function redrive(letter) {
  const status = document.getElementById("redrive-status");
  if (!window.confirm(`Re-drive every dead letter of group "${letter.group}" back to ${letter.topic}? The group will handle them again.`)) return;
  status.textContent = "Re-driving…";
  const res = await fetch("/api/messaging/redrive", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ topic: letter.topic, group: letter.group, deadLetterTopic: letter.deadLetterTopic }),
  });
  const body = await res.json().catch(() => ({}));
  status.textContent = res.ok
    ? `Moved ${body.moved} dead letter${body.moved === 1 ? "" : "s"} of group ${letter.group} back to ${letter.topic}.`
    : `Re-drive failed: ${body.message ?? res.status}`;
  status.className = res.ok ? "notice ok" : "notice err";
}

function count(n) {
  if (n === undefined) return "";
  return el("span", { class: n > 0 ? "code err" : "muted" }, String(n));
}
