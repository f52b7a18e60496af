/* global document, window */
// Messaging: per topic and consumer group, publishes, deliveries, pending
// and unacked messages (the broker's backlog), failed attempts,
// redeliveries, nacks and dead letters over the window; the most recent
// dead letters with their reason and trace; and, with a broker client, the
// group's dead letters as the broker holds them (payload decoded, headers),
// re-drive of one or all, and replay of a topic to a group from a time.
import { createBrokerLetters, postAction } from "./broker-letters.js";
import { api, el, fmtMs, fmtRate, fmtTime, setRows, td } from "./util.js";

export function createMessagingView() {
  const letters = createBrokerLetters();
  let broker = null;

  function flowRows(topics) {
    return topics.flatMap((t) => {
      const groups = t.groups.length > 0 ? t.groups : [undefined];
      return groups.map((g) => el("tr", { "data-topic": t.topic, "data-group": g?.group ?? "" },
        td(t.topic), td(t.systems.join(", ")), td(`${t.published} (${fmtRate(t.publishRatePerSec)})`, true),
        td(g?.group ?? "—"), td(g?.services.join(", ") ?? ""), td(g === undefined ? "" : `${g.deliveries} (${fmtRate(g.ratePerSec)})`, true),
        td(backlog(g?.pending), true), td(backlog(g?.unacked), true),
        td(count(g?.failed), true), td(count(g?.redelivered), true), td(count(g?.nacked), true), td(count(g?.deadLettered), true), td(g === undefined ? "" : fmtMs(g.p99Ms), true)));
    });
  }

  function deadLetterRows(records) {
    return records.map((d) => el("tr", { "data-message-id": d.messageId ?? "" },
      td(fmtTime(d.atMs)), td(d.topic), td(d.group), td(d.service), el("td", { class: "wrap" }, d.messageId ?? "—"), td(d.attempt === undefined ? "—" : String(d.attempt), true),
      td(d.reason || "—"), td(d.deadLetterTopic ?? "—"), td(el("a", { href: `#traces/${d.traceId}` }, "trace →")),
      td([el("button", { type: "button", class: "redrive inspect", onclick: () => void letters.open(d) }, "Inspect"), " ",
        el("button", { type: "button", class: "redrive redrive-group", onclick: () => void letters.redriveAll(d) }, "Re-drive group")])));
  }

  async function replay(event) {
    event.preventDefault();
    const topic = document.getElementById("replay-topic").value.trim();
    const group = document.getElementById("replay-group").value.trim();
    const fromMs = new Date(document.getElementById("replay-from").value).getTime();
    if (!Number.isFinite(fromMs)) return;
    if (!window.confirm(`Replay every message published to ${topic} since ${new Date(fromMs).toLocaleString()} to group "${group}"? The group will handle them again.`)) return;
    const status = document.getElementById("replay-status");
    status.textContent = "Replaying…";
    status.className = "notice";
    const { ok, body } = await postAction("/api/messaging/replay", { topic, group, fromMs });
    status.textContent = ok ? `Replayed ${body.replayed} message${body.replayed === 1 ? "" : "s"} of ${topic} to group ${group}${body.truncated ? " (stopped at the limit)" : ""}.` : `Replay failed: ${body.message}`;
    status.className = ok ? "notice ok" : "notice err";
  }

  document.getElementById("replay-form").addEventListener("submit", (event) => void replay(event));
  const from = document.getElementById("replay-from");
  from.value = new Date(Date.now() - 15 * 60_000 - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 19);

  return {
    show() {},
    hide() {},
    async refresh() {
      const view = await api("/api/messaging");
      broker = view.broker;
      setRows(document.querySelector("#flow-table tbody"), flowRows(view.topics));
      setRows(document.querySelector("#dead-letter-table tbody"), deadLetterRows(view.deadLetters));
      document.getElementById("messaging-empty").hidden = view.topics.length > 0;
      document.getElementById("replay-topics").replaceChildren(...view.topics.map((t) => el("option", { value: t.topic })));
      document.querySelector("#replay-form button").disabled = broker === null || !broker.replayByTime;
      document.getElementById("broker-note").textContent = brokerNote(broker);
    },
  };
}

function brokerNote(broker) {
  if (broker === null) return "The broker actions (inspect, re-drive, replay) need the dashboard started with a broker client: startDashboard({ broker }) or ferry dashboard --broker URL. Pending and unacked come from the consumers' backlog gauges (ferry/observability).";
  if (!broker.replayByTime) return `The ${broker.kind} broker cannot replay from a time (its queues keep no history once a message is acked); re-drive dead letters instead.`;
  return `Broker: ${broker.kind}. Replay reads the topic from the chosen time and publishes each message again for that group only (other groups skip it).`;
}

function backlog(n) {
  if (n === undefined) return "";
  if (n === null) return el("span", { class: "muted", title: "not reported by this broker" }, "–");
  return el("span", { class: n > 0 ? "code warn" : "muted" }, String(n));
}

function count(n) {
  if (n === undefined) return "";
  return el("span", { class: n > 0 ? "code err" : "muted" }, String(n));
}
