/* global document, window, fetch, CSS, URLSearchParams */
// The Messaging view's dead letters as the broker holds them, for one topic
// and group (GET /api/messaging/dead-letters): reason, headers and the
// payload decoded as JSON; re-drive one by message id, or all of the group,
// each after a confirmation (POST /api/messaging/redrive).
import { el, fmtTime, setRows, td } from "./util.js";

/** POSTs a JSON action; `{ ok, body }` with the server's message on failure. */
export async function postAction(path, payload) {
  const res = await fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(payload) });
  const body = await res.json().catch(() => ({}));
  return { ok: res.ok, body: res.ok ? body : { ...body, message: body.message ?? `HTTP ${res.status}` } };
}

export function createBrokerLetters() {
  let current;
  const status = () => document.getElementById("redrive-status");

  function say(ok, text) {
    status().textContent = text;
    status().className = ok ? "notice ok" : "notice err";
  }

  async function open(record) {
    current = { topic: record.topic, group: record.group, deadLetterTopic: record.deadLetterTopic };
    const panel = document.getElementById("broker-letters");
    document.getElementById("broker-letters-title").textContent = `Dead letters of group ${record.group} on ${record.topic}, as the broker holds them`;
    panel.hidden = false;
    setRows(document.querySelector("#broker-letter-table tbody"), [el("tr", {}, el("td", { colSpan: 9, class: "muted" }, "Reading the dead-letter topic…"))]);
    const q = new URLSearchParams({ topic: record.topic, group: record.group, ...(record.deadLetterTopic ? { deadLetterTopic: record.deadLetterTopic } : {}) });
    const res = await fetch(`/api/messaging/dead-letters?${q}`);
    const body = await res.json().catch(() => ({}));
    if (!res.ok) {
      setRows(document.querySelector("#broker-letter-table tbody"), [el("tr", {}, el("td", { colSpan: 9, class: "notice err" }, body.message ?? `HTTP ${res.status}`))]);
      return;
    }
    const rows = body.letters.map(letterRow);
    if (rows.length === 0) rows.push(el("tr", {}, el("td", { colSpan: 9, class: "muted" }, "None: the group has no dead letters waiting.")));
    setRows(document.querySelector("#broker-letter-table tbody"), rows);
  }

  function letterRow(l) {
    const payload = l.message ?? l.payloadJson;
    const preview = payload === undefined ? `${l.payloadBytes} bytes (base64) ${l.payloadBase64}` : JSON.stringify(payload, null, 2);
    return el("tr", { "data-message-id": l.messageId },
      el("td", { class: "wrap" }, l.messageId), td(l.sequence || "—"), td(l.attempts === null ? "?" : String(l.attempts), true), td(l.code || "—"), td(l.reason || "—"),
      td(l.deadLetteredAtMs === null ? "—" : fmtTime(l.deadLetteredAtMs)),
      el("td", {}, l.type ? el("div", { class: "muted" }, l.type) : "", el("pre", { class: "payload" }, preview), l.decodeError ? el("div", { class: "code err" }, l.decodeError) : ""),
      el("td", {}, el("details", {}, el("summary", {}, `${Object.keys(l.headers).length} headers`),
        el("dl", { class: "attrs" }, Object.entries(l.headers).flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])))),
      td(el("button", { type: "button", class: "redrive redrive-one", onclick: () => void redriveOne(l) }, "Re-drive")));
  }

  async function redriveOne(letter) {
    if (!window.confirm(`Re-drive message ${letter.messageId} back to ${current.topic} for group "${current.group}"?`)) return;
    const { ok, body } = await postAction("/api/messaging/redrive", { ...current, messageId: letter.messageId });
    say(ok, ok ? `Moved message ${body.messageId} back to ${current.topic} for group ${current.group}.` : `Re-drive failed: ${body.message}`);
    if (ok) document.querySelector(`#broker-letter-table tr[data-message-id="${CSS.escape(letter.messageId)}"]`)?.remove();
  }

  async function redriveAll(record) {
    const target = record ?? current;
    if (!window.confirm(`Re-drive every dead letter of group "${target.group}" back to ${target.topic}? The group will handle them again.`)) return;
    status().textContent = "Re-driving…";
    const { ok, body } = await postAction("/api/messaging/redrive", { topic: target.topic, group: target.group, deadLetterTopic: target.deadLetterTopic });
    say(ok, ok ? `Moved ${body.moved} dead letter${body.moved === 1 ? "" : "s"} of group ${target.group} back to ${target.topic}.` : `Re-drive failed: ${body.message}`);
    if (ok && current !== undefined && current.topic === target.topic && current.group === target.group) setRows(document.querySelector("#broker-letter-table tbody"), []);
  }

  document.getElementById("redrive-all").addEventListener("click", () => void redriveAll(undefined));
  return { open, redriveAll };
}
