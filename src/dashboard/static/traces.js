/* global document, location, URLSearchParams */
// Traces: recent traces with search (service, method, status, minimum
// duration), and the waterfall of one trace across RPC hops, broker hops
// and consumers, with each span's attributes and events.
import { api, codeBadge, colorOf, el, fmtMs, fmtTime, setRows, td } from "./util.js";

export function createTracesView() {
  const form = document.getElementById("trace-search");
  let openTraceId;
  let selectedSpan;
  let trace;

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void loadList();
  });

  async function loadServices() {
    const { services } = await api("/api/overview");
    const select = form.elements.service;
    const current = select.value;
    select.replaceChildren(el("option", { value: "" }, "any"), ...services.map((s) => el("option", { value: s }, s)));
    select.value = services.includes(current) ? current : "";
  }

  async function loadList() {
    const q = new URLSearchParams();
    for (const name of ["service", "method", "status", "minDurationMs"]) {
      const value = form.elements[name].value.trim();
      if (value !== "") q.set(name, value);
    }
    const traces = await api(`/api/traces?${q}`);
    setRows(document.querySelector("#trace-table tbody"), traces.map((t) =>
      el("tr", { class: t.traceId === openTraceId ? "selected" : undefined, "data-trace": t.traceId, onclick: () => { location.hash = `#traces/${t.traceId}`; } },
        td(fmtTime(t.startMs)), td(`${t.rootService} ${t.rootName}`), td(t.services.join(", ")), td(String(t.spanCount), true),
        td(fmtMs(t.durationMs), true), td(t.error ? t.errorCodes.map((c) => codeBadge(c)) : codeBadge("OK")))));
    document.getElementById("traces-empty").hidden = traces.length > 0;
  }

  async function loadTrace() {
    if (openTraceId === undefined) {
      document.getElementById("trace-title").textContent = "Select a trace";
      document.getElementById("waterfall").replaceChildren();
      document.getElementById("span-detail").hidden = true;
      return;
    }
    trace = await api(`/api/traces/${openTraceId}`);
    renderWaterfall();
  }

  function renderWaterfall() {
    const { summary, spans } = trace;
    document.getElementById("trace-title").textContent = `${summary.rootService} ${summary.rootName} · ${fmtMs(summary.durationMs)} · ${summary.spanCount} spans · ${summary.services.length} services`;
    const rows = treeOrder(spans).map(({ span, depth }) => spanRow(span, depth, summary));
    document.getElementById("waterfall").replaceChildren(legend(summary.services), ...rows);
    const chosen = spans.find((s) => s.spanId === selectedSpan) ?? spans[0];
    if (chosen !== undefined) showSpan(chosen);
  }

  function spanRow(span, depth, summary) {
    const total = Math.max(summary.durationMs, 0.001);
    const left = ((span.startMs - summary.startMs) / total) * 100;
    const width = Math.max((span.durationMs / total) * 100, 0.2);
    const failed = span.status === "error" || span.code !== "OK";
    const bar = el("div", { class: `span-bar${span.status === "error" ? " error" : ""}`, style: { left: `${left}%`, width: `${width}%`, background: colorOf(span.service) } });
    const dur = el("span", { class: `span-dur${width > 15 ? " inside" : ""}`, style: durationPlace(left, width) }, fmtMs(span.durationMs));
    const marks = span.events.map((e) => el("div", { class: "span-event", title: e.name, style: { left: `${((e.timeMs - summary.startMs) / total) * 100}%` } }));
    const name = el("div", { class: "span-name", style: { paddingLeft: `${0.4 + depth * 1.1}rem` } },
      el("span", { class: "svc", style: { color: colorOf(span.service) } }, span.service), span.name,
      el("span", { class: "kind" }, span.kind), failed ? [" ", codeBadge(span.code)] : "");
    return el("div", { class: `span-row${span.spanId === selectedSpan ? " selected" : ""}`, role: "treeitem", "data-span": span.spanId, onclick: () => { selectedSpan = span.spanId; renderWaterfall(); } },
      name, el("div", { class: "span-track" }, bar, dur, marks));
  }

  function showSpan(span) {
    const panel = document.getElementById("span-detail");
    panel.hidden = false;
    const entries = [
      ["service", span.service], ["kind", span.kind], ["status", `${span.status}${span.statusMessage ? `: ${span.statusMessage}` : ""}`], ["code", span.code],
      ["start", fmtTime(span.startMs)], ["duration", fmtMs(span.durationMs)], ["span id", span.spanId], ["instance", span.instance ?? "—"],
      ...Object.entries(span.attributes).map(([k, v]) => [k, String(v)]),
    ];
    panel.replaceChildren(
      el("h2", {}, span.name),
      el("dl", { class: "attrs" }, entries.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])),
      el("h2", {}, `Events (${span.events.length})`),
      span.events.length === 0 ? el("p", { class: "muted" }, "none") : el("ol", { class: "events" }, span.events.map((e) => el("li", {},
        el("strong", {}, e.name), ` +${fmtMs(e.timeMs - span.startMs)} `,
        el("dl", { class: "attrs" }, Object.entries(e.attributes).flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, String(v))]))))),
    );
  }

  return {
    show(traceId, query) {
      openTraceId = traceId;
      if (query?.has("service")) form.elements.service.value = query.get("service");
      if (query?.has("service")) form.elements.service.dataset.wanted = query.get("service");
    },
    hide() {},
    async refresh() {
      await loadServices();
      const wanted = form.elements.service.dataset.wanted;
      if (wanted !== undefined) {
        form.elements.service.value = wanted;
        delete form.elements.service.dataset.wanted;
      }
      await loadList();
      await loadTrace();
    },
  };
}

/** Where a bar's duration label goes: inside a wide bar, else after it, else before it (percent of the track). */
function durationPlace(left, width) {
  if (width > 15) return { left: `${left}%` };
  if (left + width < 85) return { left: `${left + width + 0.5}%` };
  return { right: `${100 - left + 0.5}%` };
}

/** Spans in depth-first order under their parents (orphans as roots), each with its depth. */
function treeOrder(spans) {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map();
  for (const s of spans) {
    const parent = s.parentSpanId !== undefined && ids.has(s.parentSpanId) ? s.parentSpanId : "";
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(s);
  }
  const out = [];
  const visit = (parent, depth) => {
    for (const s of (children.get(parent) ?? []).sort((a, b) => a.startMs - b.startMs)) {
      out.push({ span: s, depth });
      if (depth < 64) visit(s.spanId, depth + 1);
    }
  };
  visit("", 0);
  return out;
}

function legend(services) {
  return el("div", { class: "legend" }, services.map((s) => el("span", {}, el("span", { class: "swatch", style: { background: colorOf(s) } }), s)));
}
