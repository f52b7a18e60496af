/* global document, fetch, structuredClone */
// API explorer: every method of the target's services (by gRPC reflection),
// a request form with one input per field generated from the method's input
// descriptor, kept in sync with the raw JSON, and the call's status,
// responses, headers, trailers, duration and trace.
import { requestForm } from "./request-form.js";
import { api, codeBadge, el, fmtMs } from "./util.js";

const STREAMING = new Set(["client_streaming", "bidi_streaming"]);

export function createExplorerView() {
  let services;
  let chosen;

  async function load() {
    const list = document.getElementById("explorer-methods");
    try {
      ({ services } = await api("/api/explorer"));
    } catch (err) {
      list.replaceChildren(el("p", { class: "empty" }, String(err.message ?? err)));
      services = [];
      return;
    }
    list.replaceChildren(...services.map((s) => el("div", { class: "explorer-service" },
      el("h3", {}, s.name),
      ...s.methods.map((m) => el("button", { type: "button", class: "method", "data-method": `${s.name}/${m.name}`, onclick: () => choose(s, m) }, m.name, el("span", { class: "kind" }, m.kind.replace("_", " ")))))));
    const first = services[0]?.methods[0];
    if (first !== undefined && chosen === undefined) choose(services[0], first);
  }

  function choose(service, method) {
    chosen = { service: service.name, method };
    for (const b of document.querySelectorAll("#explorer-methods button.method")) b.classList.toggle("selected", b.dataset.method === `${service.name}/${method.name}`);
    document.getElementById("explorer-title").textContent = `${service.name}/${method.name}`;
    document.getElementById("explorer-types").textContent = `${method.kind.replace("_", " ")} · ${method.input} → ${method.output}`;
    document.getElementById("explorer-request").value = JSON.stringify(method.requestTemplate, null, 2);
    drawForm(structuredClone(method.requestTemplate));
    document.getElementById("explorer-result").replaceChildren();
  }

  /** The per-field form for `value`; streamed requests (an array) are edited as raw JSON only. */
  function drawForm(value) {
    const holder = document.getElementById("explorer-fields");
    const raw = document.getElementById("explorer-raw");
    if (STREAMING.has(chosen.method.kind)) {
      holder.replaceChildren(el("p", { class: "muted" }, "This method streams its requests: write them as a JSON array below."));
      raw.open = true;
      return;
    }
    const request = typeof value === "object" && value !== null && !Array.isArray(value) ? value : {};
    const sync = () => (document.getElementById("explorer-request").value = JSON.stringify(request, null, 2));
    holder.replaceChildren(requestForm(chosen.method.requestFields, request, sync));
  }

  // Raw JSON edited by hand: redraw the form from it when it parses.
  document.getElementById("explorer-request").addEventListener("change", (event) => {
    try {
      drawForm(JSON.parse(event.target.value));
    } catch {
      // not JSON yet; Run says so
    }
  });

  async function run(event) {
    event.preventDefault();
    const out = document.getElementById("explorer-result");
    let request;
    let metadata;
    try {
      request = JSON.parse(document.getElementById("explorer-request").value);
      metadata = JSON.parse(document.getElementById("explorer-metadata").value || "{}");
    } catch (err) {
      out.replaceChildren(el("p", { class: "notice err" }, `Not JSON: ${err.message}`));
      return;
    }
    out.replaceChildren(el("p", { class: "muted" }, "Calling…"));
    const res = await fetch("/api/explorer/call", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ service: chosen.service, method: chosen.method.name, request, metadata }) });
    const body = await res.json().catch(() => ({}));
    out.replaceChildren(...(res.ok ? resultView(body) : [el("p", { class: "notice err" }, body.message ?? `HTTP ${res.status}`)]));
  }

  document.getElementById("explorer-form").addEventListener("submit", (event) => void run(event));

  return {
    show() {},
    hide() {},
    async refresh() {
      if (services === undefined) await load();
    },
  };
}

function resultView(r) {
  return [
    el("p", { class: "explorer-status" }, codeBadge(r.code), ` ${fmtMs(r.durationMs)}`, r.message ? ` · ${r.message}` : "",
      r.traceId ? [" · ", el("a", { href: `#traces/${r.traceId}` }, "trace →")] : ""),
    el("h3", {}, `Responses (${r.responses.length}${r.truncated ? ", more not read" : ""})`),
    el("pre", { class: "json" }, r.responses.map((m) => JSON.stringify(m, null, 2)).join("\n")),
    el("h3", {}, "Headers"), dl(r.headers),
    el("h3", {}, "Trailers"), dl(r.trailers),
  ];
}

function dl(record) {
  const entries = Object.entries(record);
  if (entries.length === 0) return el("p", { class: "muted" }, "none");
  return el("dl", { class: "attrs" }, entries.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}
